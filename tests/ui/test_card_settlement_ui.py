"""At start, card transactions an interruption left behind are settled with the cashier."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.sales.terminal import pending
from app.sales.terminal.protocol import Answer
from app.sales.terminal.sandbox import TerminalSandbox
from app.sales.terminal.settings import save_terminal_config
from app.ui.context import AppContext
from app.ui.till.card_settlement import offer_card_settlement
from tests.helpers import cart_of
from tests.ui.test_till import _tickets


@pytest.fixture
def left_behind(shop):
    sandbox = TerminalSandbox(0).start()
    ledger = shop["ledger"]
    with ledger.transaction() as session:
        save_terminal_config(
            session, host="127.0.0.1", port=sandbox.port, terminal_id="1",
            till_number="01", operator="Camille",
        )  # fmt: skip
        first = pending.begin(
            session, sale_key="a", amount_cents=1150, operator="Yanis",
            cart=cart_of(("Vin", 1150, 1, 2000)),
        )  # fmt: skip
        pending.record_answer(session, first.id, Answer(True, "10", "", "424242", "", ()))
        pending.begin(
            session, sale_key="b", amount_cents=500, operator="Yanis",
            cart=cart_of(("Pain", 500, 1, 550)),
        )  # fmt: skip
    yield sandbox
    sandbox.stop()


def test_nothing_is_asked_when_nothing_is_left(qtbot, shop) -> None:
    assert offer_card_settlement(None, AppContext(shop["ledger"], shop["manager"])) is None


def test_the_cashier_records_one_and_refunds_the_other(qtbot, shop, left_behind) -> None:
    ctx = AppContext(shop["ledger"], shop["manager"])
    dialog = offer_card_settlement(None, ctx)
    assert dialog is not None
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 2
    assert "autorisation 424242" in dialog.list.item(0).text()
    assert "sans réponse du terminal" in dialog.list.item(1).text()
    assert not dialog.buttons["accepted"].isEnabled()  # already answered
    qtbot.mouseClick(dialog.buttons["record"], Qt.MouseButton.LeftButton)
    assert "enregistré avec le paiement par carte" in dialog.message.text()
    [body] = _tickets(shop["ledger"])
    assert body["payments"] == [{"method": "card", "amount": 1150, "reference": "424242"}]

    assert dialog.list.count() == 1
    assert not dialog.buttons["record"].isEnabled()  # not answered yet
    qtbot.mouseClick(dialog.buttons["accepted"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.buttons["refund"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Remboursé sur le terminal" in dialog.message.text(), timeout=5000)
    assert [(t.kind, t.amount_cents) for t in left_behind.transactions] == [("credit", 500)]
    assert dialog.list.count() == 0
    with shop["ledger"].reader() as session:
        assert pending.unsettled(session) == []
    assert len(_tickets(shop["ledger"])) == 1


def test_not_charged_settles_without_a_ticket(qtbot, shop, left_behind) -> None:
    dialog = offer_card_settlement(None, AppContext(shop["ledger"], shop["manager"]))
    qtbot.addWidget(dialog)
    dialog.list.setCurrentRow(1)
    qtbot.mouseClick(dialog.buttons["notCharged"], Qt.MouseButton.LeftButton)
    assert dialog.list.count() == 1
    assert _tickets(shop["ledger"]) == []
