"""Réglages › Serveur central, and the banner when the central server does not answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QTabWidget

from app import config
from app.ledger.central.models import TillRecord, TillUpload
from app.ledger.central.service import local_head, open_central
from app.ledger.central.sync import SyncWorker, central_url
from app.ui.context import AppContext
from app.ui.main_window import PAGES, MainWindow
from tests.helpers import ring
from tests.ledger.central_shop import count


def _central_tab(window):
    window.nav.setCurrentRow(PAGES.index("Réglages"))
    tabs = window.screens["Réglages"].findChild(QTabWidget, "settingsTabs")
    index = next(i for i in range(tabs.count()) if tabs.tabText(i) == "Serveur central")
    tabs.setCurrentIndex(index)
    return tabs.widget(index)


@pytest.fixture
def synced_window(qtbot, shop):
    """The main window with its sender to the central (not started: the button drives it)."""
    ledger = shop["ledger"]
    sync = SyncWorker(lambda: ledger)
    win = MainWindow(AppContext(ledger, shop["manager"]), None, sync)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    yield win
    sync.stop(5)


def _send(qtbot, tab) -> None:
    button = tab.findChild(QPushButton, "centralSendButton")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: button.isEnabled(), timeout=30000)


def test_send_now_uploads_to_the_central_typed_in(qtbot, window, shop, tmp_path: Path) -> None:
    ledger = shop["ledger"]
    ring(ledger, operator="Yanis")
    central_path = tmp_path / "central.sqlite"
    with open_central(central_path, create=True) as central:
        central_id = central.ledger_id
    (config.data_dir() / "keys" / f"{central_id}.pem").unlink()  # it stays on the server
    tab = _central_tab(window)
    status = tab.findChild(QLabel, "centralStatus")
    texts = [label.text() for label in tab.findChildren(QLabel) if label.isVisible()]
    assert any("la clé du serveur central n'a pas" in text for text in texts)
    tab.findChild(QLineEdit, "centralUrlEdit").setText(str(central_path))

    _send(qtbot, tab)

    assert status.text().startswith("Caisse CAISSE-1 : ")
    assert "enregistrement(s) envoyé(s)" in status.text()
    with ledger.reader() as session:
        assert central_url(session) == str(central_path)
    with open_central(central_path, readonly=True) as central:
        assert count(central, TillRecord) > 0
        assert count(central, TillUpload) == 1


def test_a_password_in_the_address_is_refused(qtbot, window, shop) -> None:
    tab = _central_tab(window)
    tab.findChild(QLineEdit, "centralUrlEdit").setText(
        "postgresql+psycopg://comptoir:secret@serveur/boutique"
    )
    qtbot.mouseClick(tab.findChild(QPushButton, "saveCentralButton"), Qt.MouseButton.LeftButton)
    error = tab.findChild(QLabel, "centralError")
    assert error.isVisible() and "mot de passe" in error.text()
    with shop["ledger"].reader() as session:
        assert central_url(session) == ""


def test_banner_says_since_when_the_central_is_unreachable_and_clears(
    qtbot, synced_window, shop, tmp_path: Path
) -> None:
    ledger = shop["ledger"]
    for _ in range(3):
        ring(ledger, operator="Yanis")
    central_path = tmp_path / "serveur" / "central.sqlite"
    tab = _central_tab(synced_window)
    tab.findChild(QLineEdit, "centralUrlEdit").setText(str(central_path))

    _send(qtbot, tab)  # nothing there yet: as good as a server that does not answer

    error = tab.findChild(QLabel, "centralError")
    assert "Serveur central introuvable ou injoignable" in error.text()
    banner = synced_window.banner.text()
    waiting = local_head(ledger)
    assert f"Serveur central injoignable depuis 09:00 — {waiting} enregistrements en attente" in (
        banner
    ), banner
    assert "#fff3cd" in synced_window.banner.styleSheet()

    central_path.parent.mkdir()
    open_central(central_path, create=True).close()  # the server is back
    _send(qtbot, tab)

    assert not error.isVisible()
    assert "Serveur central" not in synced_window.banner.text()
    assert tab.findChild(QLabel, "centralStatus").text().startswith("Caisse CAISSE-1 : ")
    assert synced_window.sync.state.pending == 0


def test_archive_viewer_browses_and_verifies_a_till_on_the_central(
    qtbot, window, shop, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QComboBox, QInputDialog

    from app.ledger.central.service import upload
    from app.ui.archive_viewer import ArchiveViewer

    ledger = shop["ledger"]
    for _ in range(2):
        ring(ledger, operator="Yanis")
    central_path = tmp_path / "central.sqlite"
    with open_central(central_path, create=True) as central:
        upload(ledger, central)
    window.nav.setCurrentRow(PAGES.index("Archives"))
    viewer = window.screens["Archives"]
    assert isinstance(viewer, ArchiveViewer)
    qtbot.mouseClick(viewer.findChild(QPushButton, "openCentral"), Qt.MouseButton.LeftButton)
    address = viewer.findChild(QInputDialog, "centralAddressDialog")
    assert address is not None and address.isVisible()
    address.findChild(QLineEdit).setText(str(central_path))
    address.accept()
    qtbot.waitUntil(lambda: viewer.findChild(QInputDialog, "centralChainDialog") is not None)
    chains = viewer.findChild(QInputDialog, "centralChainDialog")
    combo = chains.findChild(QComboBox)
    items = [combo.itemText(i) for i in range(combo.count())]
    assert items == ["Toute la boutique (chaîne du serveur central)", "Caisse CAISSE-1"]
    combo.setCurrentIndex(1)
    chains.accept()
    qtbot.waitUntil(lambda: viewer.source is not None and viewer.source.central is not None)
    qtbot.waitUntil(lambda: not viewer.ops.busy and not viewer.searching, timeout=30000)

    source = viewer.findChild(QLabel, "sourceLabel").text()
    assert source.startswith(f"Serveur central {central_path} — caisse CAISSE-1 (instantané du ")
    assert viewer.model.rowCount() == local_head(ledger)
    assert not viewer.findChild(QPushButton, "fecButton").isEnabled()
    qtbot.mouseClick(viewer.findChild(QPushButton, "verifyButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: viewer.verdict is not None, timeout=60000)
    assert viewer.verdict.ok, viewer.verdict.summary
    assert viewer.verdict.notices  # one till only: it says what was not checked
