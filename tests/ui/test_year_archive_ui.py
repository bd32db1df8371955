"""Closing a fiscal year from the Clôtures screen writes the year's archive."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from app.ledger.archive.check import verify_archive
from app.ledger.archive.folder import default_archive_dir, list_archives
from app.ledger.closures import close_pending
from app.sales.payments import PaymentMethod
from app.ui.main_window import PAGES
from tests.helpers import ring
from tests.ui.dialogs import shown_document


def test_year_closure_in_the_gui_writes_a_verified_archive(qtbot, window, shop, clock) -> None:
    ledger = shop["ledger"]
    ring(ledger, method=PaymentMethod.CASH, operator="Yanis")
    clock.set_local(date(2026, 12, 31))
    with ledger.transaction() as session:  # days and months up to November
        close_pending(session, operator="Camille")
    clock.set_local(date(2027, 1, 2))
    with ledger.transaction() as session:
        close_pending(session, operator="Camille", on=date(2026, 12, 31))
    window.nav.setCurrentRow(PAGES.index("Clôtures"))
    closures = window.screens["Clôtures"]
    closures.refresh()
    closures.year_spin.setValue(2026)
    button = closures.findChild(QPushButton, "closeYearButton")
    assert button.isEnabled()

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shown_document(window) is not None, timeout=30000)

    told = shown_document(window) or ""
    folder = default_archive_dir(ledger.path)
    [archive] = list(folder.glob("*.zip"))
    assert f"Archive de l'exercice écrite : {archive}" in told
    with ledger.reader() as session:
        assert [entry.period for entry in list_archives(session)] == ["2026"]
    assert verify_archive(archive).ok
