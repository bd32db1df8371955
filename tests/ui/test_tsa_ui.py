"""Réglages › Horodatage: the authority typed, saved and tried, and the queue stamped by
the button, against the test authority on 127.0.0.1 (tests/tsa.py)."""

from __future__ import annotations

from datetime import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QTabWidget

from app.ledger.closures import close_day
from app.ledger.timestamps.queue import set_tsa_url, stamped_count, tsa_url
from app.sales.payments import PaymentMethod
from app.ui.main_window import PAGES
from tests.helpers import ring
from tests.ui.dialogs import answer_confirmation, shown_document


def _tsa_tab(window):
    window.nav.setCurrentRow(PAGES.index("Réglages"))
    tabs = window.screens["Réglages"].findChild(QTabWidget, "settingsTabs")
    index = next(i for i in range(tabs.count()) if tabs.tabText(i) == "Horodatage")
    tabs.setCurrentIndex(index)
    return tabs.widget(index)


def _click(qtbot, tab, name: str, *, wait: bool = False) -> None:
    button = tab.findChild(QPushButton, name)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    if wait:
        qtbot.waitUntil(lambda: not tab.background.busy, timeout=30000)


def test_type_save_and_try_an_authority(qtbot, window, shop, local_tsa) -> None:
    tab = _tsa_tab(window)
    queue = tab.findChild(QLabel, "tsaQueue")
    assert "Aucune autorité d'horodatage" in queue.text()
    tab.findChild(QLineEdit, "tsaUrlEdit").setText(local_tsa.url)
    _click(qtbot, tab, "saveTsaButton")
    with shop["ledger"].reader() as session:
        assert tsa_url(session) == local_tsa.url
    assert "en attente : 0" in queue.text()

    _click(qtbot, tab, "tsaTestButton", wait=True)
    status = tab.findChild(QLabel, "tsaStatus")
    assert "jeton valide" in status.text() and "Comptoir Test TSA" in status.text()


def test_the_button_stamps_what_waits(qtbot, window, shop, local_tsa, clock) -> None:
    ledger = shop["ledger"]
    ring(ledger, operator="Yanis")
    with ledger.transaction() as session:
        close_day(session, clock.today, operator="Camille")
    tab = _tsa_tab(window)
    tab.findChild(QLineEdit, "tsaUrlEdit").setText(local_tsa.url)
    _click(qtbot, tab, "saveTsaButton")
    assert "en attente : 1" in tab.findChild(QLabel, "tsaQueue").text()

    _click(qtbot, tab, "tsaStampButton", wait=True)

    assert tab.findChild(QLabel, "tsaStatus").text() == "1 horodatage obtenu."
    assert "gardés : 1 ; en attente : 0" in tab.findChild(QLabel, "tsaQueue").text()
    with ledger.reader() as session:
        assert stamped_count(session) == 1


def test_a_bad_address_and_an_authority_down_are_said_in_french(
    qtbot, window, shop, closed_port
) -> None:
    tab = _tsa_tab(window)
    edit = tab.findChild(QLineEdit, "tsaUrlEdit")
    edit.setText("horloge.example")
    _click(qtbot, tab, "saveTsaButton")
    error = tab.findChild(QLabel, "tsaError")
    assert error.isVisible() and "commence par http:// ou https://" in error.text()
    with shop["ledger"].reader() as session:
        assert tsa_url(session) == ""

    edit.setText(closed_port)
    _click(qtbot, tab, "tsaTestButton", wait=True)
    assert "Échec : L'autorité d'horodatage ne répond pas" in error.text()


def test_a_day_closed_in_the_window_is_stamped(qtbot, window, shop, clock, local_tsa) -> None:
    ledger = shop["ledger"]
    with ledger.transaction() as session:
        set_tsa_url(session, local_tsa.url, operator="Camille")
    ring(ledger, method=PaymentMethod.CASH, operator="Yanis")
    clock.set_local(clock.today, time(19, 0))
    window.nav.setCurrentRow(PAGES.index("Clôtures"))
    closures = window.screens["Clôtures"]
    qtbot.mouseClick(closures.findChild(QPushButton, "closeDayButton"), Qt.MouseButton.LeftButton)
    answer_confirmation(qtbot)
    qtbot.waitUntil(lambda: shown_document(window) is not None, timeout=30000)
    assert "Horodatage : 1 horodatage obtenu." in (shown_document(window) or "")
    with ledger.reader() as session:
        assert stamped_count(session) == 1
