"""Réglages › Sauvegarde: a manager exports the signing key and imports it back."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QTabWidget

from app.ledger import keys
from app.ui.main_window import PAGES
from app.ui.settings import key_copy


def _key_box(window):
    window.nav.setCurrentRow(PAGES.index("Réglages"))
    tabs = window.screens["Réglages"].findChild(QTabWidget, "settingsTabs")
    index = next(i for i in range(tabs.count()) if tabs.tabText(i) == "Sauvegarde")
    tabs.setCurrentIndex(index)
    return tabs.widget(index).findChild(key_copy.KeyCopyBox, "keyCopyBox")


def test_export_then_import_the_key(qtbot, window, shop, tmp_path: Path, monkeypatch) -> None:
    copy = tmp_path / "cle.comptoir"
    monkeypatch.setattr(key_copy, "ask_key_file", lambda parent, saving: copy)
    monkeypatch.setattr(key_copy, "ask_passphrase", lambda parent, twice: "phrase secrète")
    box = _key_box(window)
    status = box.findChild(QLabel, "keyCopyStatus")
    qtbot.mouseClick(box.findChild(QPushButton, "exportKeyButton"), Qt.MouseButton.LeftButton)
    assert status.text().startswith("Clé ") and str(copy) in status.text()
    assert copy.stat().st_mode & 0o777 == 0o600
    ledger_id = shop["ledger"].ledger_id
    stored = keys.load_key(ledger_id)
    qtbot.mouseClick(box.findChild(QPushButton, "importKeyButton"), Qt.MouseButton.LeftButton)
    assert status.text() == f"Clé {stored.key_id} installée sur cet ordinateur."
    assert keys.load_key(ledger_id).key_id == stored.key_id


def test_a_wrong_passphrase_is_said_in_french(qtbot, window, shop, tmp_path, monkeypatch) -> None:
    copy = tmp_path / "cle.comptoir"
    monkeypatch.setattr(key_copy, "ask_key_file", lambda parent, saving: copy)
    phrases = iter(["phrase secrète", "une autre phrase"])
    monkeypatch.setattr(key_copy, "ask_passphrase", lambda parent, twice: next(phrases))
    box = _key_box(window)
    qtbot.mouseClick(box.findChild(QPushButton, "exportKeyButton"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(box.findChild(QPushButton, "importKeyButton"), Qt.MouseButton.LeftButton)
    assert "Phrase de passe incorrecte" in box.findChild(QLabel, "keyCopyError").text()


def test_a_cashier_cannot_export_the_key(qtbot, shop) -> None:
    from app.ui.context import AppContext
    from app.ui.main_window import MainWindow

    win = MainWindow(AppContext(shop["ledger"], shop["cashier"]))
    qtbot.addWidget(win)
    win.show()
    box = _key_box(win)
    assert box is None or not box.findChild(QPushButton, "exportKeyButton").isEnabled()
