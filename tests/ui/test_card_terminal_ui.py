"""Paying by card through the terminal simulator, from the payment dialog at 1024×768."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from app.sales.terminal import pending
from app.sales.terminal.sandbox import TerminalSandbox
from app.sales.terminal.settings import save_terminal_config
from tests.ui.test_till import BAGUETTE, WINE, _scan, _tickets


@pytest.fixture
def sandbox():
    running = TerminalSandbox(0).start()
    yield running
    running.stop()


@pytest.fixture
def till(qtbot, window, shop, sandbox):
    with shop["ledger"].transaction() as session:
        save_terminal_config(
            session, host="127.0.0.1", port=sandbox.port, terminal_id="1",
            till_number="01", operator="Camille",
        )  # fmt: skip
    window.resize(1024, 768)
    return window.till


def _open(qtbot, till, *codes):
    for code in codes:
        _scan(qtbot, till, code)
    dialog = till.make_payment_dialog()
    dialog.accepted.connect(lambda: till.record(dialog.payments))
    qtbot.addWidget(dialog)
    dialog.resize(1024, 768)
    dialog.show()
    return dialog


def _card(qtbot, dialog, amount: str = "") -> None:
    if amount:
        qtbot.keyClicks(dialog.amount, amount)
    qtbot.mouseClick(dialog.findChild(QPushButton, "pay_card"), Qt.MouseButton.LeftButton)


def _unsettled(shop):
    with shop["ledger"].reader() as session:
        return pending.unsettled(session)


def test_an_approved_card_payment_is_recorded_with_its_authorisation(
    qtbot, till, shop, sandbox
) -> None:
    dialog = _open(qtbot, till, BAGUETTE, WINE)  # 12,80 €
    _card(qtbot, dialog)
    assert dialog.card_panel.isVisible()
    assert dialog.card_label.text() == "Présentez la carte… (12,80 €)"
    assert not dialog.ok_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.card_panel.isVisible(), timeout=5000)
    assert dialog.payments[0].reference == "100001"
    assert dialog.ok_button.isEnabled()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    [body] = _tickets(shop["ledger"])
    assert body["payments"] == [{"method": "card", "amount": 1280, "reference": "100001"}]
    assert _unsettled(shop) == []
    assert [(t.kind, t.amount_cents) for t in sandbox.transactions] == [("debit", 1280)]


@pytest.mark.parametrize(
    ("amount", "said"),
    [
        ("12,91", "paiement refusé par la banque ou le terminal. Le paiement de 12,91 €"),
        ("12,92", "délai dépassé sur le terminal"),
        ("12,93", "connexion coupée"),
    ],
)
def test_a_refusal_or_a_lost_connection_records_nothing_and_says_why(
    qtbot, till, shop, amount, said
) -> None:
    dialog = _open(qtbot, till, WINE, WINE)  # 23,00 €
    _card(qtbot, dialog, amount)
    qtbot.waitUntil(lambda: not dialog.card_panel.isVisible(), timeout=5000)
    assert said in dialog.error_label.text()
    assert "n'est pas enregistré" in dialog.error_label.text()
    assert dialog.payments == []
    assert _tickets(shop["ledger"]) == []


def test_the_cashier_cancels_the_wait_and_a_second_card_asks_first(
    qtbot, till, shop, sandbox
) -> None:
    dialog = _open(qtbot, till, WINE, WINE)
    _card(qtbot, dialog, "12,94")  # the terminal never answers
    qtbot.waitUntil(lambda: len(sandbox.transactions) == 1, timeout=5000)
    dialog.reject()  # refused while waiting
    assert dialog.isVisible()
    qtbot.mouseClick(dialog.card_cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.card_panel.isVisible(), timeout=5000)
    assert "attente annulée" in dialog.error_label.text()
    [left] = _unsettled(shop)
    assert left.state == pending.UNKNOWN

    asked = []
    dialog.terminal.ask = lambda parent, attempt: asked.append(attempt.amount_cents) or True
    _card(qtbot, dialog)  # the cashier read "accepté" on the terminal
    assert asked == [1294]
    assert [(p.method.value, p.amount_cents) for p in dialog.payments] == [("card", 1294)]
    assert len(sandbox.transactions) == 1  # nothing sent a second time


def test_a_card_payment_accepted_stays_with_the_ticket_when_the_dialog_is_left(
    qtbot, till, shop, sandbox
) -> None:
    dialog = _open(qtbot, till, WINE, WINE)
    _card(qtbot, dialog, "10")
    qtbot.waitUntil(lambda: len(dialog.payments) == 1, timeout=5000)
    dialog.remove_last()
    assert len(dialog.payments) == 1
    assert "reste sur le ticket" in dialog.error_label.text()
    dialog.reject()
    again = till.make_payment_dialog()
    qtbot.addWidget(again)
    assert [(p.amount_cents, p.reference) for p in again.payments] == [(1000, "100001")]
    assert again.remaining == 1300
    qtbot.mouseClick(again.findChild(QPushButton, "cash_exact"), Qt.MouseButton.LeftButton)
    till.record(again.payments)
    [body] = _tickets(shop["ledger"])
    assert [p["method"] for p in body["payments"]] == ["card", "cash"]
    assert len(sandbox.transactions) == 1
    assert _unsettled(shop) == []


def test_without_a_terminal_the_card_is_typed_on_it_by_hand(qtbot, window, shop) -> None:
    dialog = _open(qtbot, window.till, WINE)
    _card(qtbot, dialog)
    assert dialog.terminal is None
    assert [(p.method.value, p.amount_cents, p.reference) for p in dialog.payments] == [
        ("card", 1150, "")
    ]


def _cancel_first_ticket(qtbot, window, pin: str = "1234"):
    dialog = window.open_correction()
    qtbot.keyClicks(dialog.reason, "Erreur de caisse")
    qtbot.keyClicks(dialog.pin, pin)
    qtbot.mouseClick(dialog.findChild(QPushButton, "cancelTicket"), Qt.MouseButton.LeftButton)
    return dialog


def test_cancelling_a_card_ticket_credits_the_card_first(
    qtbot, window, till, shop, sandbox
) -> None:
    dialog = _open(qtbot, till, WINE)
    _card(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.ok_button.isEnabled(), timeout=5000)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    wrong = _cancel_first_ticket(qtbot, window, pin="0000")
    assert "PIN de gérant incorrect" in wrong.error.text()
    assert len(sandbox.transactions) == 1  # nothing credited on a refusal
    wrong.close()

    _cancel_first_ticket(qtbot, window)
    _sale, cancellation = _tickets(shop["ledger"])
    assert cancellation["kind"] == "cancellation" and cancellation["total"] == -1150
    assert [(t.kind, t.amount_cents) for t in sandbox.transactions] == [
        ("debit", 1150),
        ("credit", 1150),
    ]
    assert _unsettled(shop) == []


def test_a_refused_credit_leaves_the_ticket_as_it_was(qtbot, window, till, shop, sandbox) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    dialog = _open(qtbot, till, WINE)
    _card(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.ok_button.isEnabled(), timeout=5000)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    sandbox.mode = "refuse"
    said = []

    def close_refund() -> None:
        refund = QApplication.activeModalWidget()
        if refund is None or refund.objectName() != "cardRefund":
            QTimer.singleShot(50, close_refund)
            return
        if refund.terminal.busy:
            QTimer.singleShot(50, close_refund)
            return
        said.append(refund.error.text())
        refund.reject()

    QTimer.singleShot(50, close_refund)
    _cancel_first_ticket(qtbot, window)
    assert "refusé" in said[0]
    assert len(_tickets(shop["ledger"])) == 1  # no cancellation without the credit


def test_nothing_else_is_taken_while_the_terminal_waits(qtbot, till, shop, sandbox) -> None:
    from PySide6.QtTest import QTest

    dialog = _open(qtbot, till, WINE)
    _card(qtbot, dialog, "10,94")  # no answer until cancelled
    qtbot.waitUntil(lambda: len(sandbox.transactions) == 1, timeout=5000)
    QTest.keyClick(dialog, Qt.Key.Key_F1)  # cash
    QTest.keyClick(dialog, Qt.Key.Key_F2)  # card again
    dialog.add_cash(2000)
    assert dialog.payments == []
    assert len(sandbox.transactions) == 1
    qtbot.mouseClick(dialog.card_cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.card_panel.isVisible(), timeout=5000)


def test_a_partial_refund_by_card_credits_the_card_first(
    qtbot, window, till, shop, sandbox
) -> None:
    dialog = _open(qtbot, till, BAGUETTE, WINE)  # 1,30 € + 11,50 €
    _card(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.ok_button.isEnabled(), timeout=5000)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    correction = window.open_correction()
    correction.load()
    wine = next(
        i for i in range(correction.lines.count()) if "Vin" in correction.lines.item(i).text()
    )
    correction.lines.item(wine).setCheckState(Qt.CheckState.Checked)
    correction.method.setCurrentIndex(correction.method.findData("card"))
    qtbot.keyClicks(correction.reason, "Bouteille bouchonnee")
    qtbot.keyClicks(correction.pin, "1234")
    qtbot.mouseClick(correction.findChild(QPushButton, "refundLines"), Qt.MouseButton.LeftButton)
    _sale, refund = _tickets(shop["ledger"])
    assert refund["kind"] == "refund" and refund["total"] == -1150
    assert [p["method"] for p in refund["payments"]] == ["card"]
    assert [(t.kind, t.amount_cents) for t in sandbox.transactions] == [
        ("debit", 1280),
        ("credit", 1150),  # exactly what the refund records, before it is recorded
    ]
    assert _unsettled(shop) == []


def test_a_partial_card_refund_interrupted_is_recorded_at_the_next_start(shop) -> None:
    from app.sales.payments import PaymentMethod
    from app.sales.terminal.protocol import Answer
    from tests.helpers import ring

    ledger = shop["ledger"]
    ring(ledger, ("Vin", 1150, 2, 2000), method=PaymentMethod.CARD, operator="Yanis")
    with ledger.transaction() as session:
        attempt = pending.begin(
            session, sale_key="refund-test", amount_cents=1150, operator="Camille",
            credit=True, refunds=(1, [(0, "1")], "Casse"),
        )  # fmt: skip
    approved = Answer(True, "10", "", "042042", "4970XXXXXXXX1234", ())
    with ledger.transaction() as session:
        pending.record_answer(session, attempt.id, approved)
    # The till stopped here: the next start records the refund the card was credited for.
    with ledger.transaction() as session:
        recorded = pending.record_leftover(session, attempt.id, operator="Camille")
    assert recorded.body["kind"] == "refund" and recorded.body["total"] == -1150
    assert [p["method"] for p in recorded.body["payments"]] == ["card"]
    assert _unsettled(shop) == []
