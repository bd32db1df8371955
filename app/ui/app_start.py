"""Starting the application: the ledger opened and its start journaled, the first run and
the login, the window with its background senders, and the loop that reopens the window
over the other ledger when the training mode is switched."""

from __future__ import annotations

import logging
import sys
import threading
from datetime import date
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QApplication,
    QMessageBox,
)

from app import __version__
from app.demo import DemoServices
from app.einvoice.pdp.worker import OutboxWorker, configured_client, training_client
from app.errors import ComptoirError, KeyUnavailable
from app.ledger.central.sync import SyncWorker
from app.ledger.closures import day_label, pending_closures
from app.ledger.events import EventCode, log_event
from app.ledger.operators import OperatorInfo, Permission, Role, has_operators
from app.ledger.periods import agreed
from app.ledger.records import RecordType
from app.ledger.settings import fiscal_settings
from app.ledger.store import Ledger
from app.ui.clock_dialog import journal_start
from app.ui.context import AppContext, documents
from app.ui.login import LoginDialog
from app.ui.main_window import APP_ICON, PAGES, MainWindow, dispose
from app.ui.settings.key_copy import import_at_start
from app.ui.start_check import check_at_start
from app.ui.theme import apply_theme
from app.ui.till.card_settlement import offer_card_settlement
from app.ui.till.left_at_quit import offer_left_cart
from app.ui.training import (
    SwitchRequest,
    ask_supervisor_at_start,
    switch_or_stay,
)

log = logging.getLogger(__name__)
DEMO_OPERATOR = OperatorInfo(0, "Gérant", Role.MANAGER)
DEMO_SYNC = 5.0  # seconds: the demo platform's answers show up while one watches


def open_ledger_for_gui(path: Path, kind: str) -> Ledger | None:
    """The ledger, opened and its START journaled; None when the clock is far ahead and no
    manager confirmed the date (nothing was written)."""
    ledger = Ledger.open(path, kind=kind, operator="système")
    if not journal_start(ledger, __version__):
        ledger.close()
        return None
    return ledger


def offer_pending_closures(window: MainWindow) -> None:
    """On a new day with an earlier day unclosed, say so before any sale."""
    pending = window.ctx.read(pending_closures)
    if not pending:
        return
    first = pending[0]
    when = (
        day_label(date.fromisoformat(first.period))
        if first.kind is RecordType.DAY_CLOSURE
        else first.period
    )
    QMessageBox.information(
        window,
        "Clôture nécessaire",
        f"{first.label.capitalize()} n'est pas {agreed('clôturé', first.kind)} ({when}). "
        "Faites la clôture avant d'enregistrer de nouvelles ventes.",
    )
    window.nav.setCurrentRow(PAGES.index("Clôtures"))


def run(path: Path, *, kind: str = "real") -> int:
    from app.ui.first_run import FirstRunDialog
    from app.ui.translations import install_french

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Comptoir")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("comptoir")  # Linux: matches installer/comptoir.desktop
    app.setWindowIcon(QIcon(str(APP_ICON)))
    install_french(app)
    apply_theme(app)
    try:
        try:
            ledger = open_ledger_for_gui(path, kind)
        except KeyUnavailable as exc:
            if not import_at_start(path, exc.message):
                return 2
            ledger = open_ledger_for_gui(path, kind)
    except ComptoirError as exc:
        QMessageBox.critical(None, "Comptoir", exc.message)
        return 2
    if ledger is None:
        return 0
    operator: OperatorInfo | None = DEMO_OPERATOR  # a demo shop has no operators, no PIN
    if ledger.kind != "demo":
        with ledger.reader() as session:
            needs_setup = not fiscal_settings(session).is_complete or not has_operators(session)
        if needs_setup and FirstRunDialog(ledger).exec() != FirstRunDialog.DialogCode.Accepted:
            ledger.close()
            return 0
        login = LoginDialog(ledger)
        if login.exec() != LoginDialog.DialogCode.Accepted or login.operator is None:
            ledger.close()
            return 0
        operator = login.operator
    if ledger.kind == "training":
        ledger.supervisor = ask_supervisor_at_start(ledger, operator)
        if ledger.supervisor is None:
            ledger.close()
            return 0
    threading.Thread(target=documents, name="warm-printing", daemon=True).start()
    # Mode formation restarts the window over the other ledger: the old window is gone
    # before its ledger is closed, so no screen keeps a handle on a closed ledger.
    while True:
        assert operator is not None
        window, worker, requests = _open_window(app, ledger, operator)
        code = app.exec()
        if window.sync is not None:
            window.sync.stop(10)
        dispose(window)
        worker.stop(10)
        if not requests:
            break
        ledger, operator = switch_or_stay(ledger, operator, requests[0])
        if operator is None:  # an operator created in training does not exist for real
            login = LoginDialog(ledger)
            if login.exec() != LoginDialog.DialogCode.Accepted or login.operator is None:
                break
            operator = login.operator
    try:
        with ledger.transaction() as session:
            log_event(session, EventCode.STOP, operator=operator.name if operator else "système")
    except ComptoirError as exc:
        log.warning("could not journal the stop: %s", exc)
    ledger.close()
    return code


def _open_window(
    app: QApplication, ledger: Ledger, operator: OperatorInfo
) -> tuple[MainWindow, OutboxWorker, list[SwitchRequest]]:
    """A main window over ``ledger``, shown, with its sender; a switch request ends the
    event loop (``run`` then switches ledgers and opens the next window)."""
    # Invoices leave for the e-invoicing platform from a background thread, never the
    # GUI's. A training ledger has only a sandbox; a demo ledger the plateforme de
    # démonstration its window starts on 127.0.0.1, with the card terminal simulator.
    demo = DemoServices(ledger).start(operator.name) if ledger.kind == "demo" else None
    sync_every = DEMO_SYNC if demo else 60.0
    factory = training_client if ledger.kind == "training" else configured_client
    worker = OutboxWorker(lambda: ledger, factory, sync_interval=sync_every)
    worker.start()
    ctx = AppContext(ledger, operator)
    ctx.ledger_changed.connect(worker.wake)
    sync = SyncWorker(lambda: ledger)  # to the central server, when one is configured
    sync.start()
    ctx.ledger_changed.connect(sync.wake)
    window = MainWindow(ctx, worker, sync, demo)
    requests: list[SwitchRequest] = []
    window.switch_requested.connect(lambda request: (requests.append(request), app.quit()))
    window.resize(1280, 800)
    window.fit_screen()
    window.show()
    QTimer.singleShot(0, lambda: offer_pending_closures(window))
    if ctx.can(Permission.SELL):
        QTimer.singleShot(0, lambda: offer_left_cart(window.till))
    QTimer.singleShot(0, lambda: offer_card_settlement(window, window.ctx))
    check_at_start(window)
    window.stamp_waiting()
    return window, worker, requests
