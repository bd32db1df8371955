"""Mode formation from the till: a manager's PIN, a window that cannot be mistaken for the
real one, and a real ledger that only gains the two switch events."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QPushButton
from sqlalchemy import select

from app import config
from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.service import issue_and_store
from app.errors import LedgerMismatch
from app.ledger import canonical
from app.ledger.closures import close_day, list_closures, x_report
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType
from app.ledger.store import Ledger
from app.ledger.training import TRAINING_NOTICE
from app.ui.app_start import open_ledger_for_gui
from app.ui.context import AppContext
from app.ui.main_window import MainWindow
from app.ui.training import (
    BUSY_TICKET,
    TRAINING_BACKGROUND,
    ManagerPinDialog,
    SwitchRequest,
    perform_switch,
)
from tests.documents import pdf_text
from tests.helpers import ring
from tests.ui.test_till import WINE, _pay, _scan


def _records(ledger: Ledger) -> list[tuple[int, str, int, str, bytes]]:
    with ledger.reader() as session:
        rows = session.execute(
            select(
                JournalRecord.seq,
                JournalRecord.record_type,
                JournalRecord.number,
                JournalRecord.hash,
                JournalRecord.canonical,
            ).order_by(JournalRecord.seq)
        )
        return [tuple(row) for row in rows]


def _error_texts() -> list[str]:
    return [
        w.text()
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.objectName() == "errorDialog" and w.isVisible()
    ]


def _pin_dialog(window: MainWindow) -> ManagerPinDialog:
    [dialog] = [d for d in window.findChildren(ManagerPinDialog) if d.isVisible()]
    return dialog


def _authorise(qtbot, window: MainWindow, pin: str) -> SwitchRequest:
    """Click the switch button and type a PIN, as a manager would."""
    qtbot.mouseClick(window.training_button, Qt.MouseButton.LeftButton)
    dialog = _pin_dialog(window)
    with qtbot.waitSignal(window.switch_requested) as signal:
        qtbot.keyClicks(dialog.pin, pin)
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    return signal.args[0]


def _window(qtbot, ledger: Ledger, operator) -> MainWindow:  # type: ignore[no-untyped-def]
    """What run() builds after a switch."""
    window = MainWindow(AppContext(ledger, operator))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    window.till.refresh()
    return window


def _pay_by_card(qtbot, till) -> None:  # type: ignore[no-untyped-def]
    def card(dialog) -> None:  # type: ignore[no-untyped-def]
        qtbot.mouseClick(dialog.findChild(QPushButton, "pay_card"), Qt.MouseButton.LeftButton)

    _pay(qtbot, till, [card])


def test_train_at_the_till_and_come_back(qtbot, window, shop, clock) -> None:
    real = shop["ledger"]
    ring(real, operator="Camille")  # Monday, closed
    with real.transaction() as session:
        close_day(session, clock.today, operator="Camille")
    clock.advance(days=1)
    ring(real, ("Pain", 250, 1, 550), operator="Camille")  # Tuesday, open
    before = _records(real)
    with real.reader() as session:
        real_x = x_report(session)
        monday_z = list_closures(session, RecordType.DAY_CLOSURE)

    # The real window: no banner; the button asks for a manager's PIN.
    assert not window.training_banner.isVisible()
    assert window.training_button.text() == "Mode\nformation"
    qtbot.mouseClick(window.training_button, Qt.MouseButton.LeftButton)
    dialog = _pin_dialog(window)
    with qtbot.assertNotEmitted(window.switch_requested):
        qtbot.keyClicks(dialog.pin, "5678")  # a cashier's PIN is not enough
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.error.text() == "Code PIN de gérant incorrect."
    assert dialog.isVisible() and dialog.pin.text() == ""
    dialog.reject()
    request = _authorise(qtbot, window, "1234")
    assert request == SwitchRequest(True, "Camille")

    # run() closes the window, switches, and opens a window over the training ledger.
    window.close()
    training, operator = perform_switch(real, shop["manager"], request)
    assert operator is not None and operator.name == "Camille"
    assert training.path == config.training_path(real.path)
    twin = _window(qtbot, training, operator)
    banner = twin.findChild(QLabel, "trainingBanner")
    assert (
        banner.isVisible() and banner.text() == TRAINING_NOTICE == "FORMATION — sans valeur fiscale"
    )
    assert banner.height() >= 60 and "font-weight: bold" in banner.styleSheet()
    assert TRAINING_BACKGROUND in twin.centralWidget().styleSheet()
    assert "FORMATION" in twin.windowTitle()
    assert "responsabilité de Camille" in twin.banner.text()
    assert twin.training_button.text() == "Quitter la\nformation"

    # Ring a sale at the till, issue an invoice and close the day, all in training.
    _scan(qtbot, twin.till, WINE)
    _pay_by_card(qtbot, twin.till)
    assert "Ticket T000001 enregistré" in twin.till.message.text()
    receipt = training.path.with_name("ledger.formation-documents") / "tickets" / "T000001.pdf"
    assert pdf_text(receipt.read_bytes()).count(TRAINING_NOTICE) >= 2

    def invoice(session):  # type: ignore[no-untyped-def]
        buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
        line = InvoiceLineInput("Farine", Decimal(3), 2150, 550)
        return issue_and_store(session, InvoiceDraft(buyer, (line,)), operator="Camille")

    issued = twin.ctx.write(twin, invoice)
    assert TRAINING_NOTICE in pdf_text(issued.pdf.read_bytes())
    training_z = twin.ctx.write(twin, lambda s: close_day(s, clock.today, operator="Camille"))
    assert training_z.body["perpetual_total"] == 1150

    # Back to the real ledger, with the PIN again.
    request = _authorise(qtbot, twin, "1234")
    assert request == SwitchRequest(False, "Camille")
    twin.close()
    back, operator = perform_switch(training, operator, request)
    third = _window(qtbot, back, operator)
    assert not third.training_banner.isVisible() and "FORMATION" not in third.windowTitle()

    # The real ledger gained the two switch events, nothing else.
    after = _records(back)
    assert after[: len(before)] == before
    added = [canonical.decode(row[4]) for row in after[len(before) :]]
    assert [(r["type"], r["body"]["code"]) for r in added] == [
        ("EVENT", "TRAINING_ON"),
        ("EVENT", "TRAINING_OFF"),
    ]
    assert all("supervisor" not in r for r in added)  # the real format never changes
    with back.reader() as session:
        assert x_report(session) == real_x
        assert list_closures(session, RecordType.DAY_CLOSURE) == monday_z
    with back.transaction() as session:  # Tuesday's real Z: the training sale is not in it
        tuesday = close_day(session, clock.today, operator="Camille")
    assert tuesday.body["perpetual_total"] == monday_z[0].body["perpetual_total"] + 250
    assert tuesday.number == 2  # numbering went on where it was
    back.close()


def test_switch_refused_with_a_ticket_in_progress(qtbot, window, shop) -> None:
    before = _records(shop["ledger"])
    _scan(qtbot, window.till, WINE)
    with qtbot.assertNotEmitted(window.switch_requested):
        qtbot.mouseClick(window.training_button, Qt.MouseButton.LeftButton)
    assert BUSY_TICKET in _error_texts()
    assert window.findChild(ManagerPinDialog, "trainingDialog") is None
    assert _records(shop["ledger"]) == before
    assert not config.training_path(shop["ledger"].path).exists()


def test_switch_refused_when_the_training_file_is_a_real_ledger(qtbot, window, shop) -> None:
    impostor = config.training_path(shop["ledger"].path)
    Ledger.open(impostor).close()
    qtbot.mouseClick(window.training_button, Qt.MouseButton.LeftButton)
    assert any("devrait être le journal de formation" in t for t in _error_texts())
    assert window.findChild(ManagerPinDialog, "trainingDialog") is None


def test_files_opened_the_wrong_way_round_are_refused_in_the_gui(tmp_path) -> None:
    real, training = tmp_path / "shop.sqlite", tmp_path / "shop.formation.sqlite"
    Ledger.open(real).close()
    Ledger.open(training, kind="training").close()
    with pytest.raises(LedgerMismatch, match="journal de formation ; il ne peut pas"):
        open_ledger_for_gui(training, "real")
    with pytest.raises(LedgerMismatch, match="journal réel ; il ne peut pas"):
        open_ledger_for_gui(real, "training")
