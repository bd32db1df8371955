"""Receipts and reports produced from the GUI land beside the ledger and in it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from sqlalchemy import select

from app.documents.preferences import save_printer_config
from app.ledger.models import JournalRecord
from app.ui.main_window import PAGES
from tests.ui.dialogs import shown_document
from tests.ui.test_till import WINE, _pay, _scan


def _types(ledger) -> list[str]:
    with ledger.reader() as session:
        return session.scalars(select(JournalRecord.record_type).order_by(JournalRecord.seq)).all()


def test_sale_prints_receipt_and_kicks_drawer_on_cash(qtbot, window, shop, tmp_path) -> None:
    ledger = shop["ledger"]
    with ledger.transaction() as session:
        save_printer_config(
            session, {"kind": "file", "path": str(tmp_path / "printer.bin")}, operator="Camille"
        )
    till = window.till
    _scan(qtbot, till, WINE)
    _pay(
        qtbot,
        till,
        [
            lambda d: qtbot.mouseClick(
                d.findChild(QPushButton, "cash_2000"), Qt.MouseButton.LeftButton
            )
        ],
    )
    assert "Ticket imprimé" in till.message.text()
    sent = (tmp_path / "printer.bin").read_bytes()
    assert b"T000001" in sent and b"\x1bp" in sent
    pdf = ledger.path.with_name("ledger-documents") / "tickets" / "T000001.pdf"
    assert pdf.exists()
    assert _types(ledger)[-3:] == ["TICKET", "EVENT", "EVENT"]  # sale, print, drawer


def test_receipt_without_printer_is_a_pdf(qtbot, window, shop) -> None:
    _scan(qtbot, window.till, WINE)
    _pay(
        qtbot,
        window.till,
        [
            lambda d: qtbot.mouseClick(
                d.findChild(QPushButton, "pay_card"), Qt.MouseButton.LeftButton
            )
        ],
    )
    assert "PDF :" in window.till.message.text()
    window.till.print_receipt(1, duplicate=True)
    assert "Duplicata n°1" in window.till.message.text()
    assert "Duplicata n°1" in (shown_document(window.till) or "")
    assert "REPRINT" in _types(shop["ledger"])


def test_x_report_from_the_closures_screen(qtbot, window, shop) -> None:
    window.nav.setCurrentRow(PAGES.index("Clôtures"))
    closures = window.screens["Clôtures"]
    qtbot.mouseClick(closures.x_report_button, Qt.MouseButton.LeftButton)
    assert "Rapport X enregistré" in (shown_document(window) or "")
    x_dir = shop["ledger"].path.with_name("ledger-documents") / "rapports-x"
    assert len(list(x_dir.glob("X-*.pdf"))) == 1
