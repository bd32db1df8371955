"""The main window: navigation on the left, one screen at a time, a status banner."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.demo import DemoServices
from app.einvoice.pdp.autoreport import send_due_after_closure
from app.einvoice.pdp.outbox_status import outbox_problems
from app.einvoice.pdp.worker import OutboxWorker, configured_client
from app.errors import ComptoirError
from app.ledger.backup.copies import last_backup
from app.ledger.central.sync import SyncWorker
from app.ledger.central.sync import banner_text as central_banner
from app.ledger.closing import FollowUp, follow_up_closure
from app.ledger.closures import Closure, pending_closures
from app.ledger.events import EventCode, log_event
from app.ledger.journal import Recorded
from app.ledger.operators import OperatorInfo, Permission
from app.ledger.records import RecordType
from app.ledger.settings import fiscal_settings
from app.ledger.timestamps.queue import StampOutcome
from app.timestamping.service import stamp_pending
from app.ui.archive_viewer import ArchiveViewer
from app.ui.background import Background
from app.ui.closures.closures_screen import ClosuresScreen
from app.ui.context import AppContext, documents
from app.ui.customers.customers_screen import CustomersScreen
from app.ui.errors import show_error
from app.ui.invoices.ereporting_dialog import EReportingDialog
from app.ui.invoices.invoices_screen import InvoicesScreen
from app.ui.login import LoginDialog
from app.ui.settings.catalog_screen import CatalogScreen
from app.ui.settings.settings_screen import SettingsScreen
from app.ui.till.correction_dialog import CorrectionDialog
from app.ui.till.customer_display import CustomerDisplays
from app.ui.till.left_at_quit import park_left_cart
from app.ui.till.till_screen import TillScreen
from app.ui.training import (
    ask_switch,
    dress_for_training,
    switch_button,
    training_banner,
)
from app.ui.widgets.pdf_preview import show_pdf

if TYPE_CHECKING:
    from app.documents import printing

log = logging.getLogger(__name__)
# resources/ sits beside the app package, in a checkout as in the bundled application.
APP_ICON = Path(__file__).resolve().parents[2] / "resources" / "icons" / "comptoir.png"
PAGES = ("Caisse", "Factures", "Clients", "Clôtures", "Archives", "Catalogue", "Réglages")
# The smallest point-of-sale screen the window must fit, with its title bar and a task bar.
MIN_WINDOW = (1000, 680)


class MainWindow(QMainWindow):
    switch_requested = Signal(object)  # SwitchRequest: run() reopens over the other ledger

    def __init__(
        self,
        ctx: AppContext,
        worker: OutboxWorker | None = None,
        sync: SyncWorker | None = None,
        demo: DemoServices | None = None,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.worker = worker
        self.demo = demo  # a demo ledger's platform and card terminal, on 127.0.0.1
        self.sync = sync  # uploads to the central server; Réglages › Serveur central uses it
        self._sync_seen: object = None
        self.integrity_problem: str | None = None  # what the start-of-day check found
        self.background = Background(self)
        self.setWindowTitle(f"Comptoir {__version__}")
        self.setObjectName("mainWindow")
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setStyleSheet("padding: 6px; font-size: 14px;")
        self.banner.setWordWrap(True)
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(140)
        self.nav.addItems(PAGES)
        self.nav.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.stack = QStackedWidget()
        self.till = TillScreen(ctx)
        self.customer_display = CustomerDisplays(ctx, self)
        self.customer_display.follow(self.till)
        self.customer_display.configure()
        self.screens: dict[str, QWidget] = {
            "Caisse": self.till,
            "Factures": InvoicesScreen(ctx),
            "Clients": CustomersScreen(ctx),
            "Clôtures": ClosuresScreen(ctx),
            "Archives": ArchiveViewer(ctx),
            "Catalogue": CatalogScreen(ctx),
            "Réglages": SettingsScreen(ctx),
        }
        # Every screen but the till scrolls rather than pushing the window past a small
        # screen; the till is laid out to fit 1024×768 as it is.
        self.pages: dict[str, QWidget] = {}
        for name in PAGES:
            screen = self.screens[name]
            page = screen if screen is self.till else _scrolling(screen)
            self.pages[name] = page
            self.stack.addWidget(page)
        self.nav.currentRowChanged.connect(self.show_page)

        self.training_banner = training_banner(ctx.ledger)
        self.training_button = switch_button(ctx.ledger)
        self.training_button.clicked.connect(lambda: ask_switch(self))
        self.switch_operator_button = _side_button("Changer\nd'opérateur", "switchOperator")
        self.switch_operator_button.clicked.connect(self.switch_operator)
        self.lock_button = _side_button("Verrouiller", "lockTill")
        self.lock_button.clicked.connect(self.lock)
        side = QVBoxLayout()
        side.addWidget(self.nav, 1)
        side.addWidget(self.switch_operator_button)
        side.addWidget(self.lock_button)
        side.addWidget(self.training_button)
        body = QHBoxLayout()
        body.addLayout(side)
        body.addWidget(self.stack, 1)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.training_banner)
        layout.addWidget(self.banner)
        layout.addLayout(body, 1)
        self.setCentralWidget(central)
        dress_for_training(self, central)
        ctx.ledger_changed.connect(self.refresh_banner)
        self.till.correction_requested.connect(self.open_correction)
        self._connect_documents()
        self.nav.setCurrentRow(0 if ctx.can(Permission.SELL) else PAGES.index("Clôtures"))
        self.refresh_banner()
        self.setMinimumSize(*MIN_WINDOW)
        if sync is not None:  # its state changes in its own thread: look at it now and then
            QTimer(self, interval=5000, timeout=self._sync_changed).start()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Quitting (or switching ledgers) parks the ticket in progress: nothing is lost."""
        if park_left_cart(self.till):
            log.info("the ticket in progress was parked at quit")
        self.customer_display.shutdown()  # the customer's window goes with the till's
        if self.demo is not None:  # the demo's platform and terminal go with the window
            if self.worker is not None:
                self.worker.stop(10)
            self.demo.stop()
        super().closeEvent(event)

    def fit_screen(self) -> None:
        """Never larger than the screen the window is on (a long text must wrap or scroll,
        not push the window off the screen)."""
        screen = self.screen()
        if screen is None:
            return
        available = screen.availableGeometry().size()
        self.setMaximumSize(available)
        if self.width() > available.width() or self.height() > available.height():
            self.resize(
                min(self.width(), available.width()), min(self.height(), available.height())
            )

    # -- operators ------------------------------------------------------------------------
    def switch_operator(self) -> LoginDialog:
        """Another operator takes over without quitting; the ticket in progress stays."""
        dialog = LoginDialog(self.ctx.ledger, self, current=self.ctx.operator_name)
        dialog.setObjectName("switchOperatorDialog")
        self._ask_operator(dialog)
        return dialog

    def lock(self) -> LoginDialog:
        """Hide the screens until a PIN is given; nothing is lost meanwhile."""
        dialog = LoginDialog(self.ctx.ledger, self, locked_by=self.ctx.operator_name)
        dialog.setObjectName("lockDialog")
        self.stack.hide()
        self.nav.setEnabled(False)
        self._ask_operator(dialog)
        return dialog

    def _ask_operator(self, dialog: LoginDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)

        def done() -> None:
            self.stack.show()
            self.nav.setEnabled(True)
            if dialog.operator is not None:
                self.operator_changed_to(dialog.operator)
            self.till.focus_scanner()

        dialog.finished.connect(lambda _result: done())
        dialog.open()

    def operator_changed_to(self, operator: OperatorInfo) -> None:
        previous = self.ctx.operator_name
        if operator.name != previous:  # the new operator's LOGIN is already journaled
            self.ctx.write(self, lambda s: log_event(s, EventCode.LOGOUT, operator=previous))
        self.ctx.operator = operator
        self.ctx.operator_changed.emit()
        self.refresh_banner()
        self.show_page(self.nav.currentRow())  # the new role may not reach this screen

    def _sync_changed(self) -> None:
        if self.sync is not None and self.sync.state is not self._sync_seen:
            self.refresh_banner()

    def _connect_documents(self) -> None:
        closures = self.screens["Clôtures"]
        assert isinstance(closures, ClosuresScreen)
        closures.closure_recorded.connect(self.closure_made)
        closures.reprint_requested.connect(lambda c: self.output_closure(c, duplicate=True))
        closures.x_report_requested.connect(self.output_x_report)
        closures.ereport_requested.connect(self.ask_ereport)
        settings = self.screens["Réglages"]
        assert isinstance(settings, SettingsScreen)
        settings.test_print_requested.connect(self.test_print)

    def _tell(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, title, text, parent=self)
        box.setObjectName("documentDialog")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()

    def closure_made(self, closure: Closure) -> None:
        """After a closure, off the GUI thread, what follows it (``follow_up_closure``, the
        same as the command line's): a day is backed up first so that its Z report names the
        copy (a failed backup is recorded and shown in the banner); a fiscal year is
        archived (a failed archive is shown). The closure itself is recorded either way."""
        ledger, operator = self.ctx.ledger, self.ctx.operator_name
        if closure.record_type not in (RecordType.DAY_CLOSURE, RecordType.YEAR_CLOSURE):
            self.output_closure(closure, duplicate=False)
            self.stamp_waiting()
            return

        def work() -> FollowUp:
            return follow_up_closure(
                ledger, closure.record_type, closure.period, operator=operator,
                stamp=stamp_pending, then=(send_due_after_closure,),
            )  # fmt: skip

        def then(outcome: object) -> None:
            note = ""
            if isinstance(outcome, FollowUp):
                if outcome.archive is not None:
                    note = f"\nArchive de l'exercice écrite : {outcome.archive.path}"
                if outcome.stamp_notice:
                    note += f"\n{outcome.stamp_notice}"
                note += "".join(f"\n{line}" for line in outcome.notes)
                if outcome.error is not None and closure.record_type is not (
                    RecordType.DAY_CLOSURE
                ):
                    show_error(self, outcome.error)
            else:  # follow_up_closure reports its failures: this is a bug
                log.warning("work after the closure failed: %r", outcome)
            self.refresh_banner()
            self.output_closure(closure, duplicate=False, note=note)

        self.background.run(work, then, then)

    def stamp_waiting(self) -> None:
        """Ask, off the GUI thread, for the time-stamps still waiting (at start, after a
        closure); what cannot be had waits for the next time, silently."""
        ledger = self.ctx.ledger
        if ledger.readonly:
            return

        def done(outcome: object) -> None:
            if isinstance(outcome, BaseException):
                log.warning("time-stamping failed: %r", outcome)
            elif isinstance(outcome, StampOutcome) and outcome.error:
                log.info("time-stamps waiting: %s", outcome.error)

        self.background.run(lambda: stamp_pending(ledger), done, done)

    def output_closure(
        self, closure: Closure, *, duplicate: bool, note: str = ""
    ) -> printing.Output | None:
        out = self.ctx.write(
            self,
            lambda s: documents().output_closure(
                s,
                closure.record_type,
                closure.period,
                operator=self.ctx.operator_name,
                duplicate=duplicate,
                number=closure.number,
            ),
        )
        if out is not None:
            what = f"Duplicata n°{out.copy} du rapport Z" if out.copy else "Rapport Z"
            where = "imprimé et enregistré" if out.printed else "enregistré"
            show_pdf(out.pdf, "Rapport Z", said=f"{what} {where} : {out.pdf}{note}", parent=self)
        return out

    def output_x_report(self) -> printing.Output | None:
        out = self.ctx.write(
            self, lambda s: documents().output_x_report(s, operator=self.ctx.operator_name)
        )
        if out is not None:
            where = "imprimé et enregistré" if out.printed else "enregistré"
            show_pdf(out.pdf, "Rapport X", said=f"Rapport X {where} : {out.pdf}", parent=self)
        return out

    def ask_ereport(self) -> EReportingDialog:
        """The e-reporting periods: due, sent, replaced; sending from there."""
        dialog = EReportingDialog(self.ctx, self)
        dialog.setModal(True)
        dialog.show()
        return dialog

    def send_ereport(self, month: str) -> None:
        from app.einvoice.pdp.ereporting.periods import parse_period
        from app.einvoice.pdp.ereporting.report import send_due

        ledger, operator = self.ctx.ledger, self.ctx.operator_name

        def work():  # type: ignore[no-untyped-def]
            client = configured_client(ledger)
            if client is None:
                raise ComptoirError(
                    "Aucune plateforme de facturation électronique n'est configurée (Réglages)."
                )
            try:
                with ledger.reader() as session:
                    periods = parse_period(fiscal_settings(session).vat_regime, month)
                return send_due(ledger, client, operator=operator, periods=periods)
            finally:
                client.close()

        def done(result) -> None:  # type: ignore[no-untyped-def]
            sent = "\n".join(
                f"{report.period.label().capitalize()} : flux {ref.flow_id}"
                for report, ref in result
            )
            self._tell(
                "E-reporting",
                f"E-reporting de {month} transmis :\n{sent}"
                if result
                else f"Aucune vente de {month} à déclarer par e-reporting.",
            )
            self.ctx.ledger_changed.emit()

        def failed(error: BaseException) -> None:
            if isinstance(error, ComptoirError):
                show_error(self, error)
            else:
                show_error(self, ComptoirError(f"L'e-reporting n'a pas pu être transmis : {error}"))

        self.background.run(work, done, failed)

    def test_print(self, config: dict) -> None:
        try:
            documents().print_test(config)
        except ComptoirError as exc:
            show_error(self, exc)
            return
        self._tell("Imprimante", "Page de test envoyée à l'imprimante.")

    def open_correction(self) -> CorrectionDialog:
        dialog = CorrectionDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._print_correction(dialog.recorded))
        dialog.open()
        return dialog

    def _print_correction(self, recorded: Recorded | None) -> None:
        if recorded is not None:
            cash = any(p["method"] == "cash" for p in recorded.body["payments"])
            self.till.print_receipt(
                recorded.number, open_drawer=cash, said=f"Ticket {recorded.doc_number} enregistré."
            )

    def show_page(self, row: int) -> None:
        if not 0 <= row < len(PAGES):
            return
        name = PAGES[row]
        if name == "Caisse" and not self.ctx.can(Permission.SELL):
            QMessageBox.information(self, "Caisse", "Votre rôle ne permet pas d'encaisser.")
            self.nav.setCurrentRow(PAGES.index("Clôtures"))
            return
        screen = self.screens[name]
        self.stack.setCurrentWidget(self.pages[name])
        screen.refresh()  # type: ignore[attr-defined]

    def refresh_banner(self) -> None:
        ledger = self.ctx.ledger
        parts = [f"Opérateur : {self.ctx.operator_name}", f"Caisse : {ledger.till_id}"]
        pending = self.ctx.read(pending_closures)
        style = "background: #e8f0fe;"
        if ledger.kind == "training":  # the large banner above says FORMATION
            parts.insert(0, f"Formation sous la responsabilité de {ledger.supervisor or '?'}")
            style = "background: #ffb300; font-weight: bold;"
        elif ledger.kind == "demo":
            parts.insert(0, self.demo.description if self.demo else "Boutique de démonstration")
        if pending:
            parts.append("À clôturer : " + ", ".join(p.label for p in pending))
            style = "background: #fde2e1; color: #8a1c14; font-weight: bold;"
        problems = self.ctx.read(outbox_problems)
        if self.worker is not None and self.worker.last_error:
            problems.append(self.worker.last_error)
        if problems:
            parts.append("Facturation électronique : " + " ; ".join(problems[:2]))
            style = "background: #fff3cd; color: #6d4c00; font-weight: bold;"
        if self.sync is not None:
            self._sync_seen = self.sync.state
            central = central_banner(self._sync_seen, ledger.timezone)
            if central:
                parts.append(central)
                style = "background: #fff3cd; color: #6d4c00; font-weight: bold;"
        if self.integrity_problem:
            parts.append(self.integrity_problem)
            style = "background: #fde2e1; color: #8a1c14; font-weight: bold;"
        backup = self.ctx.read(last_backup)
        if backup is not None and not backup.ok:
            when = backup.local_time(ledger.timezone)
            parts.append(f"Sauvegarde : échec le {when} — {backup.error}")
            style = "background: #fde2e1; color: #8a1c14; font-weight: bold;"
        self.banner.setText("   •   ".join(parts))
        self.banner.setStyleSheet(f"padding: 6px; font-size: 14px; {style}")


def _scrolling(screen: QWidget) -> QScrollArea:
    for tabs in screen.findChildren(QTabWidget):  # many tabs scroll rather than widen
        tabs.setUsesScrollButtons(True)
    area = QScrollArea()
    area.setObjectName(f"{screen.objectName() or 'screen'}Scroll")
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(screen)
    return area


def _side_button(text: str, name: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setMinimumHeight(56)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return button


def dispose(widget: QWidget) -> None:
    """Delete a top-level widget now, while the application object still exists: left to
    the interpreter's exit, the destruction order can crash."""
    widget.close()
    widget.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
