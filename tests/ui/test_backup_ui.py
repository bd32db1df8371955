"""Backups from the GUI: Réglages › Sauvegarde, and the copy made after a day closure."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QTabWidget

from app.documents.preferences import save_printer_config
from app.ledger.backup.copies import last_backup, save_backup_settings
from app.sales.payments import PaymentMethod
from app.ui.main_window import PAGES
from tests.helpers import ring
from tests.ui.dialogs import answer_confirmation, shown_document


def _backup_tab(window):
    window.nav.setCurrentRow(PAGES.index("Réglages"))
    tabs = window.screens["Réglages"].findChild(QTabWidget, "settingsTabs")
    index = next(i for i in range(tabs.count()) if tabs.tabText(i) == "Sauvegarde")
    tabs.setCurrentIndex(index)
    return tabs.widget(index)


def _copies(ledger) -> list[Path]:
    return sorted(ledger.path.with_name("ledger-sauvegardes").glob("ledger-*.sqlite"))


def _close_the_day(qtbot, window, clock) -> None:
    clock.set_local(clock.today, time(19, 0))
    window.nav.setCurrentRow(PAGES.index("Clôtures"))
    closures = window.screens["Clôtures"]
    qtbot.mouseClick(closures.findChild(QPushButton, "closeDayButton"), Qt.MouseButton.LeftButton)
    answer_confirmation(qtbot)
    # The Z is produced once the backup (off the GUI thread) is over.
    qtbot.waitUntil(lambda: shown_document(window) is not None, timeout=30000)


def test_backup_now_shows_the_last_backup(qtbot, window, shop) -> None:
    ledger = shop["ledger"]
    tab = _backup_tab(window)
    status = tab.findChild(QLabel, "backupStatus")
    assert status.text() == "Dernière sauvegarde : aucune"
    assert tab.findChild(QLineEdit, "backupFolderEdit").placeholderText() == str(
        ledger.path.with_name("ledger-sauvegardes")
    )

    qtbot.mouseClick(tab.findChild(QPushButton, "backupNowButton"), Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: status.text().startswith("Dernière sauvegarde : /"), timeout=30000)
    [copy] = _copies(ledger)
    assert status.text() == f"Dernière sauvegarde : {copy} (02/03/2026 09:00)"
    assert tab.findChild(QPushButton, "backupNowButton").isEnabled()


def test_a_folder_that_does_not_exist_is_refused_in_the_form(qtbot, window, shop, tmp_path):
    tab = _backup_tab(window)
    folder = tab.findChild(QLineEdit, "backupFolderEdit")
    folder.setText(str(tmp_path / "nulle-part"))
    qtbot.mouseClick(tab.findChild(QPushButton, "backupNowButton"), Qt.MouseButton.LeftButton)
    error = tab.findChild(QLabel, "backupError")
    assert error.isVisible() and "n'existe pas" in error.text()
    assert _copies(shop["ledger"]) == []


def test_day_closure_is_backed_up_and_its_z_names_the_copy(qtbot, window, shop, clock, tmp_path):
    ledger = shop["ledger"]
    printer = tmp_path / "printer.bin"
    with ledger.transaction() as session:
        save_printer_config(session, {"kind": "file", "path": str(printer)}, operator="Camille")
    ring(ledger, method=PaymentMethod.CASH, operator="Yanis")

    _close_the_day(qtbot, window, clock)

    [copy] = _copies(ledger)
    assert copy.name == "ledger-20260302-190000.sqlite"
    printed = printer.read_bytes().replace(b"\n", b"")
    assert str(copy).encode() in printed  # the Z on the receipt printer names the copy
    assert "Sauvegarde" not in window.banner.text()


def test_failed_backup_after_the_closure_shows_in_the_banner(qtbot, window, shop, clock, tmp_path):
    ledger = shop["ledger"]
    usb = tmp_path / "usb"
    usb.mkdir()
    with ledger.transaction() as session:
        save_backup_settings(session, str(usb), 7, operator="Camille")
    # The folder becomes a plain file: nothing can be written into it (permission bits
    # would not do: tests may run as root).
    usb.rmdir()
    usb.write_text("plus un dossier", encoding="utf-8")
    ring(ledger, method=PaymentMethod.CASH, operator="Yanis")

    _close_the_day(qtbot, window, clock)

    banner = window.banner.text()
    assert f"Sauvegarde : échec le 02/03/2026 19:00 — {usb} n'est pas un dossier." in banner
    assert "#fde2e1" in window.banner.styleSheet()
    with ledger.reader() as session:
        assert not last_backup(session).ok
    assert "Rapport Z enregistré" in (shown_document(window) or "")
