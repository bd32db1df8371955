"""The main window: navigation on the left, one screen at a time, a status banner."""

from __future__ import annotations

import logging
import sys
import threading
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.documents.preferences import till_id
from app.einvoice.pdp.outbox import outbox_problems
from app.einvoice.pdp.worker import OutboxWorker, configured_client
from app.errors import ComptoirError
from app.ledger.closures import Closure, day_label, pending_closures
from app.ledger.events import EventCode, log_event
from app.ledger.journal import Recorded
from app.ledger.models import RecordType
from app.ledger.service import verify_and_record
from app.ledger.settings import fiscal_settings
from app.ledger.store import Ledger
from app.ledger.verify import Report
from app.staff.service import Permission, has_operators
from app.ui.background import Background
from app.ui.closures.closures_screen import ClosuresScreen
from app.ui.context import AppContext, documents
from app.ui.errors import show_error
from app.ui.invoices.invoices_screen import InvoicesScreen
from app.ui.settings.catalog_screen import CatalogScreen
from app.ui.settings.settings_screen import SettingsScreen
from app.ui.till.correction_dialog import CorrectionDialog
from app.ui.till.till_screen import TillScreen

if TYPE_CHECKING:
    from app.documents import printing

log = logging.getLogger(__name__)
PAGES = ("Caisse", "Factures", "Clôtures", "Archives", "Catalogue", "Réglages")


class ArchivesScreen(QWidget):
    """Integrity check, run off the GUI thread; the full archive viewer comes later."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.background = Background(self)
        self.button = QPushButton("Vérifier l'intégrité du journal")
        self.button.setObjectName("verifyButton")
        self.button.setMinimumHeight(48)
        self.button.clicked.connect(self.start_verify)
        self.result = QPlainTextEdit()
        self.result.setObjectName("verifyResult")
        self.result.setReadOnly(True)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Vérification : empreintes, signatures, numérotation et totaux de chaque clôture."
            )
        )
        layout.addWidget(self.button)
        layout.addWidget(self.result, 1)

    def refresh(self) -> None:
        pass

    def start_verify(self) -> None:
        if self.background.busy:
            return
        self.button.setEnabled(False)
        self.result.setPlainText("Vérification en cours…")
        path, operator = self.ctx.ledger.path, self.ctx.operator_name
        self.background.run(
            lambda: verify_and_record(path, operator=operator), self._verified, self._failed
        )

    def _verified(self, report: Report) -> None:
        self.button.setEnabled(True)
        lines = [report.summary(), *(f"Remarque : {n}" for n in report.notices)]
        lines += [f"n°{f.seq} — {f.message}" for f in report.findings[:200]]
        self.result.setPlainText("\n".join(lines))
        self.ctx.ledger_changed.emit()

    def _failed(self, error: BaseException) -> None:
        self.button.setEnabled(True)
        self.result.setPlainText(f"La vérification n'a pas pu aboutir : {error}")


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext, worker: OutboxWorker | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.worker = worker
        self.background = Background(self)
        self.setWindowTitle(f"Comptoir {__version__}")
        self.setObjectName("mainWindow")
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setStyleSheet("padding: 6px; font-size: 14px;")
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(170)
        self.nav.setStyleSheet("font-size: 17px;")
        self.nav.addItems(PAGES)
        self.nav.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.stack = QStackedWidget()
        self.till = TillScreen(ctx)
        self.screens: dict[str, QWidget] = {
            "Caisse": self.till,
            "Factures": InvoicesScreen(ctx),
            "Clôtures": ClosuresScreen(ctx),
            "Archives": ArchivesScreen(ctx),
            "Catalogue": CatalogScreen(ctx),
            "Réglages": SettingsScreen(ctx),
        }
        for name in PAGES:
            self.stack.addWidget(self.screens[name])
        self.nav.currentRowChanged.connect(self.show_page)

        body = QHBoxLayout()
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.banner)
        layout.addLayout(body, 1)
        self.setCentralWidget(central)
        ctx.ledger_changed.connect(self.refresh_banner)
        self.till.correction_requested.connect(self.open_correction)
        self._connect_documents()
        self.nav.setCurrentRow(0 if ctx.can(Permission.SELL) else PAGES.index("Clôtures"))
        self.refresh_banner()

    def _connect_documents(self) -> None:
        closures = self.screens["Clôtures"]
        assert isinstance(closures, ClosuresScreen)
        closures.closure_recorded.connect(lambda c: self.output_closure(c, duplicate=False))
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

    def output_closure(self, closure: Closure, *, duplicate: bool) -> printing.Output | None:
        out = self.ctx.write(
            self,
            lambda s: documents().output_closure(
                s,
                closure.record_type,
                closure.period,
                operator=self.ctx.operator_name,
                duplicate=duplicate,
            ),
        )
        if out is not None:
            what = f"Duplicata n°{out.copy} du rapport Z" if out.copy else "Rapport Z"
            where = "imprimé et enregistré" if out.printed else "enregistré"
            self._tell("Rapport Z", f"{what} {where} : {out.pdf}")
        return out

    def output_x_report(self) -> printing.Output | None:
        out = self.ctx.write(
            self, lambda s: documents().output_x_report(s, operator=self.ctx.operator_name)
        )
        if out is not None:
            self._tell("Rapport X", f"Rapport X enregistré : {out.pdf}")
        return out

    def ask_ereport(self) -> None:
        today = date.today()
        months = []
        year, month = today.year, today.month
        for _ in range(12):
            month -= 1
            if month == 0:
                year, month = year - 1, 12
            months.append(f"{year:04d}-{month:02d}")
        choice, ok = QInputDialog.getItem(
            self, "E-reporting", "Mois à transmettre :", months, 0, False
        )
        if ok:
            self.send_ereport(choice)

    def send_ereport(self, month: str) -> None:
        import calendar

        from app.einvoice.pdp.ereporting import send_report

        year, number = (int(part) for part in month.split("-"))
        start = date(year, number, 1)
        end = date(year, number, calendar.monthrange(year, number)[1])
        ledger, operator = self.ctx.ledger, self.ctx.operator_name

        def work():  # type: ignore[no-untyped-def]
            client = configured_client(ledger)
            if client is None:
                raise ComptoirError(
                    "Aucune plateforme de facturation électronique n'est configurée (Réglages)."
                )
            try:
                return send_report(ledger, client, start, end, operator=operator)
            finally:
                client.close()

        def done(result) -> None:  # type: ignore[no-untyped-def]
            report, ref = result
            self._tell(
                "E-reporting",
                f"E-reporting de {month} transmis "
                f"({len(report.days)} journée(s)) : flux {ref.flow_id}.",
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
        self.stack.setCurrentWidget(screen)
        screen.refresh()  # type: ignore[attr-defined]

    def refresh_banner(self) -> None:
        ledger = self.ctx.ledger
        parts = [f"Opérateur : {self.ctx.operator_name}", f"Caisse : {ledger.till_id}"]
        pending = self.ctx.read(pending_closures)
        style = "background: #e8f0fe;"
        if ledger.kind == "training":
            parts.insert(0, "FORMATION — sans valeur fiscale")
            style = "background: #ffb300; font-weight: bold;"
        if pending:
            parts.append("À clôturer : " + ", ".join(p.label for p in pending))
            style = "background: #fde2e1; color: #8a1c14; font-weight: bold;"
        problems = self.ctx.read(outbox_problems)
        if self.worker is not None and self.worker.last_error:
            problems.append(self.worker.last_error)
        if problems:
            parts.append("Facturation électronique : " + " ; ".join(problems[:2]))
            style = "background: #fff3cd; color: #6d4c00; font-weight: bold;"
        self.banner.setText("   •   ".join(parts))
        self.banner.setStyleSheet(f"padding: 6px; font-size: 14px; {style}")


def dispose(widget: QWidget) -> None:
    """Delete a top-level widget now, while the application object still exists: left to
    the interpreter's exit, the destruction order can crash."""
    widget.close()
    widget.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def open_ledger_for_gui(path: Path, kind: str) -> Ledger:
    ledger = Ledger.open(path, kind=kind, operator="système")
    with ledger.reader() as session:
        ledger.till_id = till_id(session)
    with ledger.transaction() as session:
        log_event(session, EventCode.START, operator="système", software_version=__version__)
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
        f"{first.label.capitalize()} n'est pas clôturé(e) ({when}). "
        "Faites la clôture avant d'enregistrer de nouvelles ventes.",
    )
    window.nav.setCurrentRow(PAGES.index("Clôtures"))


def run(path: Path, *, kind: str = "real") -> int:
    from app.ui.first_run import FirstRunDialog
    from app.ui.login import LoginDialog

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Comptoir")
    try:
        ledger = open_ledger_for_gui(path, kind)
    except ComptoirError as exc:
        QMessageBox.critical(None, "Comptoir", exc.message)
        return 2
    with ledger.reader() as session:
        needs_setup = not fiscal_settings(session).is_complete or not has_operators(session)
    if needs_setup and FirstRunDialog(ledger).exec() != FirstRunDialog.DialogCode.Accepted:
        ledger.close()
        return 0
    login = LoginDialog(ledger)
    if login.exec() != LoginDialog.DialogCode.Accepted or login.operator is None:
        ledger.close()
        return 0
    # Invoices leave for the e-invoicing platform from a background thread, never the
    # GUI's; training and demo ledgers have no platform (configured_client says None).
    worker = OutboxWorker(lambda: ledger, configured_client)
    worker.start()
    ctx = AppContext(ledger, login.operator)
    ctx.ledger_changed.connect(worker.wake)
    window = MainWindow(ctx, worker)
    window.resize(1280, 800)
    window.show()
    QTimer.singleShot(0, lambda: offer_pending_closures(window))
    threading.Thread(target=documents, name="warm-printing", daemon=True).start()
    code = app.exec()
    dispose(window)
    worker.stop(10)
    try:
        with ledger.transaction() as session:
            log_event(session, EventCode.STOP, operator=window.ctx.operator_name)
    except ComptoirError as exc:
        log.warning("could not journal the stop: %s", exc)
    ledger.close()
    return code
