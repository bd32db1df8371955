"""Réglages › Périphériques: the card terminal and the customer display, with their tests."""

from __future__ import annotations

import pytest
from escpos.printer import Dummy
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabWidget

from app.documents.pole_display import PoleDisplay, pole_bytes
from app.sales.terminal.sandbox import TerminalSandbox
from app.sales.terminal.settings import terminal_config
from app.ui.settings.devices_tab import TEST_LINES


@pytest.fixture
def tab(qtbot, window):
    settings = window.screens["Réglages"]
    tabs = settings.findChild(QTabWidget, "settingsTabs")
    window.nav.setCurrentRow(list(window.screens).index("Réglages"))
    tabs.setCurrentWidget(settings.devices_tab)
    return settings.devices_tab


def _click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_the_terminal_is_saved_and_tested_without_charging(qtbot, tab, shop) -> None:
    sandbox = TerminalSandbox(0).start()
    try:
        tab.host.setText("127.0.0.1")
        tab.port.setValue(sandbox.port)
        tab.terminal_id.setText("42")
        _click(qtbot, tab.test_terminal_button)
        qtbot.waitUntil(lambda: "joignable à" in tab.terminal_status.text(), timeout=5000)
        assert sandbox.transactions == []
        with shop["ledger"].reader() as session:
            saved = terminal_config(session)
        assert (saved.host, saved.port, saved.terminal_id) == ("127.0.0.1", sandbox.port, "42")
    finally:
        sandbox.stop()
    _click(qtbot, tab.test_terminal_button)  # the simulator is gone
    qtbot.waitUntil(lambda: "injoignable" in tab.terminal_status.text(), timeout=15000)


def test_a_bad_terminal_setting_is_refused_in_french(qtbot, tab) -> None:
    tab.host.setText("127.0.0.1")
    tab.terminal_id.setText("abc")
    _click(qtbot, tab.save_terminal_button)
    assert "identifiant de 1 à 12 chiffres" in tab.terminal_error.text()


def test_the_customer_window_opens_when_saved_and_shows_the_test(qtbot, tab, window) -> None:
    assert window.customer_display.window is None
    tab.window_check.setChecked(True)
    _click(qtbot, tab.save_display_button)
    shown = window.customer_display.window
    assert shown is not None
    qtbot.addWidget(shown)
    _click(qtbot, tab.test_display_button)
    assert shown.shown_lines()[0] == f"{TEST_LINES[0]}\t"
    assert "essai est affiché" in tab.display_status.text()
    tab.window_check.setChecked(False)
    _click(qtbot, tab.save_display_button)
    assert window.customer_display.window is None


def test_the_pole_display_test_sends_two_lines(qtbot, tab, monkeypatch) -> None:
    device = Dummy()
    monkeypatch.setattr(PoleDisplay, "from_config", classmethod(lambda cls, c: cls(device)))
    tab.pole_kind.setCurrentIndex(2)  # USB
    tab.pole_device.setText("0416")
    _click(qtbot, tab.test_display_button)
    assert "fabricant:produit" in tab.display_error.text()
    tab.pole_device.setText("0416:f012")
    _click(qtbot, tab.test_display_button)
    qtbot.waitUntil(lambda: "doit montrer" in tab.display_status.text(), timeout=5000)
    assert pole_bytes(*TEST_LINES) in device.output
