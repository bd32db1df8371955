"""Archives: the journal (or an archive file) browsed read-only, verified, exported.

The screen reads the ledger file through its own read-only connection (``browse``), so
browsing never takes the write lock the till needs. Filters become an index of sequence
numbers, built on a worker thread when the ledger is large; the table asks only for the
rows it paints. Verification, exports, the FEC, the tax-audit pack, archive creation
and the purge are small ``operations`` run by one ``OpRunner``: off the GUI thread, one
at a time, with a progress bar and a cancel button; their questions are ``dialogs``.
The jobs of a closed period (FEC, audit pack, archive, purge) are ``period_jobs``.
"""

from __future__ import annotations

import logging
import tempfile
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.errors import ComptoirError
from app.ledger.export.browse import (
    LedgerBrowser,
    RecordDetail,
    RecordFilter,
    RecordIndex,
)
from app.ledger.operators import Permission
from app.ui.archive_viewer import operations
from app.ui.archive_viewer.action_bar import ActionBar
from app.ui.archive_viewer.central_source import ask_central
from app.ui.archive_viewer.detail_pane import DetailPane
from app.ui.archive_viewer.dialogs import ViewerDialogs
from app.ui.archive_viewer.filters import FilterBar
from app.ui.archive_viewer.jobs import Verdict
from app.ui.archive_viewer.operations import Outcome
from app.ui.archive_viewer.period_jobs import PeriodJobs
from app.ui.archive_viewer.records_pane import RecordsPane
from app.ui.archive_viewer.runner import OpRunner
from app.ui.archive_viewer.source import Source
from app.ui.archive_viewer.verification_pane import VerificationPane
from app.ui.background import Background
from app.ui.context import AppContext
from app.ui.errors import show_error
from app.ui.forms import TOUCH_STYLE, Screen

log = logging.getLogger(__name__)

VIEWER_STYLE = """
QLabel#countLabel { color: #455a64; }
QLabel#signatureStatus[state="valid"] { color: #2e7d32; font-weight: bold; }
QLabel#signatureStatus[state="invalid"] { color: #c62828; font-weight: bold; }
QLabel#signatureStatus[state="unknown_key"] { color: #6d4c00; font-weight: bold; }
QLabel#verifyResult[state="ok"] { color: #2e7d32; font-weight: bold; }
QLabel#verifyResult[state="bad"] { color: #c62828; font-weight: bold; }
QTableView { font-size: 13px; }
QTreeWidget, QListWidget { font-size: 13px; }
QWidget#detailFacts QLabel { font-size: 13px; }
"""
OPERATOR_SCAN_LIMIT = 200_000  # records: beyond, listing operators would read the whole file


def _operators_of(path: Path) -> list[str]:
    with LedgerBrowser(path) as browser:
        return browser.operators()


class ArchiveViewer(Screen):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("archiveViewer")
        self.setStyleSheet(TOUCH_STYLE + VIEWER_STYLE)
        self.source: Source | None = None
        self.browser: LedgerBrowser | None = None
        self.detail: RecordDetail | None = None
        self.verdict: Verdict | None = None
        self.last_output: Path | None = None
        self.lookups = Background(self)
        self.dialogs = ViewerDialogs(self)
        self.period_jobs = PeriodJobs(self)

        layout = QVBoxLayout(self)
        layout.addLayout(self._source_row())
        self.filters = FilterBar(ctx.shop_today())
        self.filters.changed.connect(self.apply_filter)
        self.filters.text.returnPressed.connect(self.filters.flush)
        layout.addWidget(self.filters)
        self.main_split = QSplitter(Qt.Orientation.Vertical)
        self.main_split.addWidget(self._browse_area())
        self.main_split.addWidget(self._bottom_tabs())
        self.main_split.setStretchFactor(0, 3)
        self.main_split.setStretchFactor(1, 2)
        self.main_split.setSizes([440, 260])
        layout.addWidget(self.main_split, 1)
        layout.addWidget(self._action_row())
        self.message = QLabel()
        self.message.setObjectName("viewerMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        self.ops = OpRunner(
            self,
            label=self.action_bar.task_label,
            progress=self.action_bar.progress,
            cancel_button=self.action_bar.cancel_button,
            say=self._say,
            changed=self._update_actions,
        )
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self.filters.text.setFocus)
        application = QApplication.instance()
        if application is not None:  # a verification of millions of records must not hold the exit
            application.aboutToQuit.connect(self.cancel_all)

    # -- building ---------------------------------------------------------------------------
    def _source_row(self) -> QVBoxLayout:
        title = QLabel("Archives")
        title.setObjectName("screenTitle")
        self.source_label = QLabel()
        self.source_label.setObjectName("sourceLabel")
        self.live_button = QPushButton("Journal en cours")
        self.live_button.setObjectName("liveSource")
        self.live_button.clicked.connect(self.show_live)
        self.open_button = QPushButton("Ouvrir une archive…")
        self.open_button.setObjectName("openArchive")
        self.open_button.clicked.connect(self.ask_archive_file)
        self.central_button = QPushButton("Serveur central…")
        self.central_button.setObjectName("openCentral")
        self.central_button.clicked.connect(lambda: ask_central(self))
        # What is shown goes under the title: a long file name beside the three buttons
        # widened the screen past a 1024-px display.
        self.source_label.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(title)
        row.addStretch(1)
        row.addWidget(self.live_button)
        row.addWidget(self.open_button)
        row.addWidget(self.central_button)
        column = QVBoxLayout()
        column.addLayout(row)
        column.addWidget(self.source_label)
        return column

    def _browse_area(self) -> RecordsPane:
        self.records = RecordsPane(self.filters)
        self.records.current_changed.connect(self._current_changed)
        self.records.unreadable.connect(self._say)
        self.periods, self.model, self.table = (
            self.records.periods,
            self.records.model,
            self.records.table,
        )
        return self.records

    @property
    def index(self) -> RecordIndex | None:
        """The records the table shows: the current filter's index."""
        return self.records.index

    @property
    def searching(self) -> bool:
        return self.records.searching

    def _bottom_tabs(self) -> QTabWidget:
        self.tabs = QTabWidget()
        self.tabs.setObjectName("bottomTabs")
        self.tabs.addTab(self._detail_pane(), "Détail")
        self.tabs.addTab(self._verification_pane(), "Vérification")
        return self.tabs

    def _detail_pane(self) -> QWidget:
        self.detail_pane = DetailPane()
        self.printed = self.detail_pane.printed
        return self.detail_pane

    def _verification_pane(self) -> QWidget:
        self.verification = VerificationPane(lambda: self.source)
        self.verification.receipt_check.seq_chosen.connect(self.select_seq)
        self.verification.seq_chosen.connect(self._show_record)
        self.verification.report_button.clicked.connect(self.ask_report)
        self.verify_result = self.verification.result
        self.findings = self.verification.findings
        self.report_button = self.verification.report_button
        return self.verification

    def _action_row(self) -> ActionBar:
        self.action_bar = ActionBar()
        self.actions = self.action_bar.actions
        for name, slot in (
            ("verifyButton", self.start_verify),
            ("exportCsv", lambda: self.ask_export("csv")),
            ("exportXlsx", lambda: self.ask_export("xlsx")),
            ("fecButton", self.period_jobs.ask_fec),
            ("archiveButton", self.period_jobs.ask_create_archive),
            ("purgeButton", self.period_jobs.ask_purge),
            ("auditButton", self.period_jobs.ask_audit_pack),
        ):
            self.actions[name].clicked.connect(slot)
        self.verify_button = self.actions["verifyButton"]
        return self.action_bar

    # -- long jobs: each a small operation handed to the runner -----------------------------
    def _update_actions(self) -> None:
        busy = self.ops.busy
        live = self.source is not None and self.source.live
        self.action_bar.enable(
            busy=busy,
            live=live,
            ready=self.browser is not None,
            manager=self.ctx.can(Permission.CLOSE_PERIOD),
            auditor=self.ctx.can(Permission.READ_ALL),
        )
        self.open_button.setEnabled(not busy)
        self.live_button.setEnabled(not busy and not live)

    def _say(self, text: str) -> None:
        self.message.setText(text)

    def cancel_all(self) -> None:
        for job in (self.ops.job, self.records.search_job):
            if job is not None:
                job.cancel()

    def _done(self, outcome: Outcome) -> None:
        """An operation's outcome: the browsed ledger reloaded if it lost records, the
        file written remembered, the message shown, the journal's readers told."""
        if outcome.reload:
            self.show_live()
        if outcome.path is not None:
            self.last_output = outcome.path
        self._say(outcome.message)
        if outcome.journaled:
            self.ctx.ledger_changed.emit()

    def start_verify(self) -> None:
        if self.source is None:
            return
        verify = partial(operations.verify_ledger, self.source, operator=self.ctx.operator_name)
        interrupted = partial(self.verification.show_text, ok=False)
        title = "Vérification de l'intégrité"
        if self.ops.run(title, verify, self._verified, interrupted=interrupted):
            self.tabs.setCurrentIndex(1)
            self.verification.show_running()

    def _verified(self, verdict: Verdict) -> None:
        self.verdict = verdict
        self.verification.show_verdict(verdict)
        if self.source is not None and self.source.live:
            self.ctx.ledger_changed.emit()  # the check is journaled on the shop's computer

    def _show_record(self, seq: int) -> None:
        if self.select_seq(seq):
            self.tabs.setCurrentIndex(0)

    def ask_report(self) -> None:
        if self.verdict is None:
            return
        stamp = self.ctx.shop_now().strftime("%Y%m%d-%H%M")
        self.dialogs.ask_save_path(
            "Rapport de vérification",
            f"verification-{stamp}.pdf",
            "PDF (*.pdf)",
            self.write_report,
        )

    def write_report(self, path: Path) -> None:
        """The verification's printable report, written off the GUI thread."""
        if self.verdict is None or self.browser is None:
            return
        summary = self.verdict.printable(
            operator=self.ctx.operator_name,
            shop_name=str(self.browser.shop().get("name", "")),
            timezone=self.browser.timezone,
        )
        write = partial(operations.write_report, summary, path)
        self.ops.run("Rapport PDF", write, self._done, cancellable=False)

    def ask_export(self, fmt: str) -> None:
        stamp = self.ctx.shop_now().strftime("%Y%m%d-%H%M")
        self.dialogs.ask_save_path(
            f"Exporter en {fmt.upper()}",
            f"journal-{stamp}.{fmt}",
            f"{fmt.upper()} (*.{fmt})",
            lambda path: self.export_to(fmt, path),
        )

    def export_to(self, fmt: str, path: Path) -> None:
        """Export what the table shows (the current filter) to ``path``, journaled."""
        if self.source is None or self.index is None:
            return
        ledger = None if self.ctx.ledger.readonly else self.ctx.ledger
        export = partial(
            operations.export_view,
            self.source,
            self.index.filter,
            fmt,  # type: ignore[arg-type]
            path,
            ledger=ledger,
            operator=self.ctx.operator_name,
        )
        self.ops.run(f"Export {fmt.upper()}", export, self._done)

    # -- sources ----------------------------------------------------------------------------
    def refresh(self) -> None:
        super().refresh()
        self._update_actions()
        if self.source is None:
            self.show_live()
        elif self.source.live:
            self.apply_filter()

    def show_live(self) -> None:
        path = Path(self.ctx.ledger.path)
        self._use_source(Source(path, f"Journal en cours — {path.name} (lecture seule)"))

    def ask_archive_file(self) -> None:
        self.dialogs.ask_archive(
            "archiveFileDialog",
            "Ouvrir une archive",
            self.period_jobs.archive_dir(),
            self.open_archive,
        )

    def open_archive(self, path: Path) -> None:
        """Load the archive into a temporary ledger file, then browse it like the journal."""
        workdir = tempfile.TemporaryDirectory(prefix="comptoir-archive-")
        load = partial(operations.open_archive, path, Path(workdir.name) / "archive.sqlite")

        def done(db_path: Path) -> None:
            self._use_source(Source(db_path, f"Archive {path.name}", path, workdir))
            self._say(f"Archive ouverte : {path}")

        self.ops.run(f"Ouverture de {path.name}", load, done, cancellable=False)

    def _use_source(self, source: Source) -> None:
        try:
            browser = LedgerBrowser(source.db_path)
        except ComptoirError as exc:
            show_error(self, exc)
            return
        if self.browser is not None:
            self.browser.close()
        self.source, self.browser = source, browser
        self.source_label.setText(source.label)
        self.verdict = None
        self._clear_detail()
        self.records.show_ledger(browser, source.db_path)
        self._load_operators()
        self._update_actions()
        self.apply_filter(keep=None)

    def _load_operators(self) -> None:
        assert self.browser is not None and self.source is not None
        lo, hi = self.browser.bounds
        if hi - lo + 1 <= OPERATOR_SCAN_LIMIT:
            path = self.source.db_path
            self.lookups.run(lambda: _operators_of(path), self.filters.set_operators, log.info)
        elif self.source.live:
            from app.staff.service import list_operators

            names = [o.name for o in self.ctx.read(list_operators)]
            self.filters.set_operators(names)
        else:
            self.filters.set_operators([])

    # -- filtering --------------------------------------------------------------------------
    def apply_filter(self, flt: RecordFilter | None = None, *, keep: int | None = -1) -> None:
        """Show the records the filter bar (or ``flt``) selects. ``keep``: the record to
        keep selected (-1: the one selected now)."""
        if self.browser is None or self.source is None:
            return
        flt = flt or self.filters.current()
        if flt is None:
            return
        self.records.apply(flt, self.current_seq() if keep == -1 else keep)

    def current_seq(self) -> int | None:
        return self.records.current_seq()

    def select_seq(self, seq: int) -> bool:
        """Select a record if the current filter shows it (the findings link to it)."""
        return self.records.select_seq(seq)

    # -- detail -------------------------------------------------------------------------------
    def _current_changed(self, seq: int | None) -> None:
        if seq is None or self.browser is None:
            self._clear_detail()
            return
        try:
            detail = self.browser.detail(seq)
        except ComptoirError as exc:
            self._clear_detail()
            self.printed.setPlainText(exc.message)
            return
        self.show_detail(detail)

    def show_detail(self, detail: RecordDetail) -> None:
        self.detail = detail
        training = self.browser is not None and self.browser.kind == "training"
        self.detail_pane.show_record(detail, training=training)

    def _clear_detail(self) -> None:
        self.detail = None
        self.detail_pane.clear()
