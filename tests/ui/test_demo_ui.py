"""The demo shop in its window at 1024×768: its invoices reach the plateforme de
démonstration and their statuses come back, an e-reporting period is sent and accepted,
a card is paid through the terminal simulator, supplier invoices wait to be answered; and
closing the window leaves nothing running on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from shiboken6 import isValid

from app import demo as demo_module
from app.demo import run_demo
from app.einvoice.pdp.ereporting.sent import period_states
from app.ledger.store import Ledger
from app.ui import app_start
from app.ui.app_start import DEMO_OPERATOR, _open_window
from app.ui.invoices.ereporting_dialog import EReportingDialog
from app.ui.main_window import PAGES, dispose
from tests.ui.test_till import BAGUETTE, WINE, _scan, _tickets

LOCAL_THREADS = ("pdp-sandbox", "terminal-sandbox", "pdp-outbox")


def _wait(qtbot, predicate, timeout: float = 30.0, what=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out {what()}"
        qtbot.wait(50)


def _local_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(LOCAL_THREADS)]


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def demo_window(qtbot, qapp, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(demo_module, "LIFECYCLE_STEP", 0.05)
    monkeypatch.setattr(app_start, "DEMO_SYNC", 0.3)
    path = tmp_path / "demo.sqlite"
    run_demo(path, days=2, with_invoices=True).close()
    before = set(_local_threads())
    ledger = Ledger.open(path, kind="demo", operator="système")
    window, worker, _requests = _open_window(qapp, ledger, DEMO_OPERATOR)
    window.resize(1024, 768)
    yield window
    if isValid(window):  # the test may have closed it already
        dispose(window)
    worker.stop(10)
    ledger.close()
    assert set(_local_threads()) <= before


def test_the_demo_reaches_the_platform_the_terminal_and_the_sandbox_inbox(
    qtbot, demo_window
) -> None:
    window = demo_window
    platform, terminal = window.demo.platform, window.demo.terminal
    assert "plateforme de démonstration (127.0.0.1:" in window.banner.text()
    assert "rien n'est envoyé à une plateforme réelle" in window.banner.text()

    # Its invoices to French companies go to the demo platform; their statuses come back.
    window.nav.setCurrentRow(PAGES.index("Factures"))
    invoices = window.screens["Factures"]

    def approved() -> bool:
        invoices.refresh()
        rows = range(invoices.model.rowCount())
        states = {
            invoices.model.index(r, 0).data(): invoices.model.index(r, 7).data() for r in rows
        }
        return states.get("F2026-000001") == "Approuvée"

    _wait(qtbot, approved)
    assert platform.deposits

    # The suppliers' invoices wait in the demo platform's inbox.
    inbox = invoices.open_inbox()
    _wait(qtbot, lambda: (inbox.refresh(), inbox.model.rowCount())[1] == 2)
    sellers = {inbox.model.index(r, 1).data() for r in range(2)}
    assert sellers == {"Minoterie du Rhône SAS", "Domaine des Coteaux EARL"}
    inbox.close()

    # An e-reporting period is due; it is sent to the demo platform and accepted.
    window.nav.setCurrentRow(PAGES.index("Clôtures"))
    closures = window.screens["Clôtures"]
    qtbot.mouseClick(closures.ereport_button, Qt.MouseButton.LeftButton)
    dialog = window.findChild(EReportingDialog)
    assert dialog is not None and dialog.isVisible()
    due = [row for row in window.ctx.read(period_states) if row.due]
    assert due
    qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    _wait(qtbot, lambda: "transmis" in dialog.message.text(), what=dialog.message.text)
    assert platform.reports, dialog.message.text()

    def accepted() -> bool:
        states = {row.period: row.state for row in window.ctx.read(period_states)}
        return all(states[row.period] == "Déposé" for row in due)  # accepted, then filed

    _wait(
        qtbot,
        accepted,
        what=lambda: [(r.period.label(), r.state) for r in window.ctx.read(period_states)],
    )
    dialog.refresh()
    dialog.close()

    # Réglages show the demo platform, read-only, and it answers.
    window.nav.setCurrentRow(PAGES.index("Réglages"))
    tab = window.screens["Réglages"].platform_tab
    tab.refresh()
    assert tab.base_url.text() == platform.url and not tab.base_url.isEnabled()
    assert "rien n'est envoyé à une plateforme réelle" in tab.environment_note.text()
    qtbot.mouseClick(tab.findChild(QPushButton, "testPlatform"), Qt.MouseButton.LeftButton)
    _wait(qtbot, lambda: tab.status.text() == "La plateforme répond.", what=tab.status.text)

    # A card payment through the terminal simulator the window started.
    window.nav.setCurrentRow(PAGES.index("Caisse"))
    till = window.till
    for code in (BAGUETTE, WINE):
        _scan(qtbot, till, code)
    pay = till.make_payment_dialog()
    pay.accepted.connect(lambda: till.record(pay.payments))
    qtbot.addWidget(pay)
    pay.resize(1024, 768)
    pay.show()
    qtbot.mouseClick(pay.findChild(QPushButton, "pay_card"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not pay.card_panel.isVisible(), timeout=5000)
    qtbot.mouseClick(pay.ok_button, Qt.MouseButton.LeftButton)
    last = _tickets(window.ctx.ledger)[-1]
    assert last["payments"] == [{"method": "card", "amount": 1280, "reference": "100001"}]
    assert [(t.kind, t.amount_cents) for t in terminal.transactions] == [("debit", 1280)]

    # Closing the window stops what it started on 127.0.0.1.
    ports = (int(platform.url.rsplit(":", 1)[1]), terminal.port)
    dispose(window)
    assert _local_threads() == []
    assert all(_refused(port) for port in ports)
