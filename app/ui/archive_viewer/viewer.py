"""Archives: the journal (or an archive file) browsed read-only, verified, exported.

The screen reads the ledger file through its own read-only connection (``browse``), so
browsing never takes the write lock the till needs. Filters become an index of sequence
numbers, built on a worker thread when the ledger is large; the table asks only for the
rows it paints. Verification, exports, the FEC and archive creation (``actions``) run
off the GUI thread, one at a time, with a progress bar and a cancel button.
"""

from __future__ import annotations

import logging
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
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
    SearchCancelled,
    SignatureStatus,
    find_seqs,
)
from app.ledger.models import RecordType
from app.ui.archive_viewer.actions import ViewerActions
from app.ui.archive_viewer.central_source import ask_central
from app.ui.archive_viewer.filters import FilterBar, PeriodTree, QuickTypes
from app.ui.archive_viewer.jobs import Job, Verdict
from app.ui.archive_viewer.model import RecordTableModel
from app.ui.archive_viewer.printed import printed_text
from app.ui.archive_viewer.source import Source
from app.ui.background import Background
from app.ui.context import AppContext
from app.ui.errors import show_error
from app.ui.forms import TOUCH_STYLE, Screen

log = logging.getLogger(__name__)

COLUMN_WIDTHS = (84, 150, 100, 132, 80, 90, 94, 120, 104)
ROW_HEIGHT = 26
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


def _mono() -> QFont:
    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSize(10)
    return font


class ArchiveViewer(ViewerActions, Screen):
    SYNC_LIMIT = 50_000
    """Records up to which a filter runs at once on the GUI thread (a few milliseconds)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("archiveViewer")
        self.setStyleSheet(TOUCH_STYLE + VIEWER_STYLE)
        self.source: Source | None = None
        self.browser: LedgerBrowser | None = None
        self.index: RecordIndex | None = None
        self.detail: RecordDetail | None = None
        self.verdict: Verdict | None = None
        self.last_output: Path | None = None
        self.searching = False
        self._generation = 0
        self._search_job: Job | None = None
        self._task: Job | None = None
        self.searches = Background(self)
        self.lookups = Background(self)
        self.tasks = Background(self)
        self._poll = QTimer(self, interval=100, timeout=self._show_progress)

        layout = QVBoxLayout(self)
        layout.addLayout(self._source_row())
        self.filters = FilterBar()
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
        layout.addLayout(self._action_row())
        self.message = QLabel()
        self.message.setObjectName("viewerMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self.filters.text.setFocus)
        application = QApplication.instance()
        if application is not None:  # a verification of millions of records must not hold the exit
            application.aboutToQuit.connect(self.cancel_all)

    # -- building ---------------------------------------------------------------------------
    def _source_row(self) -> QHBoxLayout:
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
        row = QHBoxLayout()
        row.addWidget(title)
        row.addSpacing(16)
        row.addWidget(self.source_label, 1)
        row.addWidget(self.live_button)
        row.addWidget(self.open_button)
        row.addWidget(self.central_button)
        return row

    def _browse_area(self) -> QSplitter:
        self.periods = PeriodTree()
        self.periods.period_chosen.connect(self.filters.set_period)
        self.quick = QuickTypes()
        self.quick.group_chosen.connect(self.filters.set_type_group)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.periods)
        left.addWidget(self.quick)
        self.model = RecordTableModel(self)
        self.table = QTableView()
        self.table.setObjectName("recordTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        rows = self.table.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(ROW_HEIGHT)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for column, width in enumerate(COLUMN_WIDTHS):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.count_label = QLabel()
        self.count_label.setObjectName("countLabel")
        centre = QWidget()
        box = QVBoxLayout(centre)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.table, 1)
        box.addWidget(self.count_label)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(centre)
        split.setStretchFactor(1, 1)
        split.setSizes([185, 905])
        return split

    def _bottom_tabs(self) -> QTabWidget:
        self.tabs = QTabWidget()
        self.tabs.setObjectName("bottomTabs")
        self.tabs.addTab(self._detail_pane(), "Détail")
        self.tabs.addTab(self._verification_pane(), "Vérification")
        return self.tabs

    def _detail_pane(self) -> QWidget:
        self.printed = QPlainTextEdit()
        self.printed.setObjectName("detailText")
        self.printed.setReadOnly(True)
        self.printed.setFont(_mono())
        self.printed.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.printed.setPlaceholderText(
            "Sélectionnez un enregistrement pour le voir tel qu'imprimé."
        )
        self.facts: dict[str, QLabel] = {}
        form = QFormLayout()
        for name, label in (
            ("detailRecord", "Enregistrement"),
            ("detailWhen", "Fait le"),
            ("detailHash", "Empreinte"),
            ("detailPrevHash", "Empreinte précédente"),
            ("hashCheck", "Empreinte recalculée"),
            ("detailSignature", "Signature"),
            ("signatureStatus", "Statut"),
        ):
            value = QLabel()
            value.setObjectName(name)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if name in ("detailHash", "detailPrevHash"):
                value.setFont(_mono())
            form.addRow(label, value)
            self.facts[name] = value
        facts = QWidget()
        facts.setObjectName("detailFacts")
        facts.setLayout(form)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.printed)
        split.addWidget(facts)
        split.setSizes([430, 600])
        return split

    def _verification_pane(self) -> QWidget:
        self.verify_result = QLabel("Aucune vérification lancée depuis cet écran.")
        self.verify_result.setObjectName("verifyResult")
        self.verify_result.setWordWrap(True)
        self.verify_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.findings = QTableWidget(0, 3)
        self.findings.setObjectName("findingsTable")
        self.findings.setHorizontalHeaderLabels(["N°", "Fichier", "Constat"])
        self.findings.verticalHeader().setVisible(False)
        self.findings.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.findings.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.findings.horizontalHeader().setStretchLastSection(True)
        self.findings.setColumnWidth(0, 90)
        self.findings.setColumnWidth(1, 180)
        self.findings.cellDoubleClicked.connect(self._finding_clicked)
        self.report_button = QPushButton("Rapport PDF…")
        self.report_button.setObjectName("reportButton")
        self.report_button.setEnabled(False)
        self.report_button.clicked.connect(self.ask_report)
        pane = QWidget()
        box = QVBoxLayout(pane)
        top = QHBoxLayout()
        top.addWidget(self.verify_result, 1)
        top.addWidget(self.report_button)
        box.addLayout(top)
        box.addWidget(self.findings, 1)
        return pane

    def _action_row(self) -> QHBoxLayout:
        self.actions: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for name, label, slot in (
            ("verifyButton", "Vérifier l'intégrité", self.start_verify),
            ("exportCsv", "Exporter CSV", lambda: self.ask_export("csv")),
            ("exportXlsx", "Exporter XLSX", lambda: self.ask_export("xlsx")),
            ("fecButton", "FEC…", self.ask_fec),
            ("archiveButton", "Créer une archive…", self.ask_create_archive),
            ("purgeButton", "Purger…", self.ask_purge),
            ("auditButton", "Contrôle fiscal…", self.ask_audit_pack),
        ):
            button = QPushButton(label)
            button.setObjectName(name)
            button.clicked.connect(slot)
            row.addWidget(button)
            self.actions[name] = button
        self.verify_button = self.actions["verifyButton"]
        row.addStretch(1)
        self.task_label = QLabel()
        self.task_label.setObjectName("taskLabel")
        self.progress = QProgressBar()
        self.progress.setObjectName("taskProgress")
        self.progress.setFixedWidth(220)
        self.cancel_button = QPushButton("Annuler")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.clicked.connect(self.cancel_task)
        for widget in (self.task_label, self.progress, self.cancel_button):
            widget.setVisible(False)
            row.addWidget(widget)
        return row

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
        dialog = QFileDialog(self, "Ouvrir une archive", str(self._archive_dir()))
        dialog.setObjectName("archiveFileDialog")
        dialog.setNameFilter("Archives Comptoir (*.zip)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        self._open_dialog(dialog, lambda chosen: self.open_archive(Path(chosen)))

    def _archive_dir(self) -> Path:
        try:
            from app.ledger.archive.write import default_archive_dir

            folder = default_archive_dir(Path(self.ctx.ledger.path))
        except (ImportError, AttributeError):
            folder = Path(self.ctx.ledger.path).parent
        return folder if folder.is_dir() else Path(self.ctx.ledger.path).parent

    def open_archive(self, path: Path) -> None:
        """Load the archive into a temporary ledger file, then browse it like the journal."""
        workdir = tempfile.TemporaryDirectory(prefix="comptoir-archive-")

        def work(job: Job) -> Path:
            from app.ledger.archive.write import load_archive_as_ledger

            return load_archive_as_ledger(path, Path(workdir.name) / "archive.sqlite")

        def done(db_path: Path) -> None:
            self._use_source(Source(db_path, f"Archive {path.name}", path, workdir))
            self._say(f"Archive ouverte : {path}")

        self._run_task(f"Ouverture de {path.name}", work, done, cancellable=False)

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
        self.periods.set_periods(browser.periods())
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
        keep = self.current_seq() if keep == -1 else keep
        self._generation += 1
        generation = self._generation
        if self._search_job is not None:
            self._search_job.cancel()
        lo, hi = self.browser.bounds
        if hi - lo + 1 <= self.SYNC_LIMIT or not (flt.needs_scan or flt.types):
            try:
                index = self.browser.index(flt)
            except sqlite3.Error as exc:
                self._say(f"Lecture impossible : {exc}")
                return
            self._show_index(index, keep)
            return
        job = self._search_job = Job("Recherche")
        path = self.source.db_path
        self.searching = True
        self.count_label.setText("Recherche en cours…")
        self.searches.run(
            lambda: find_seqs(path, flt, job.cancelled),
            lambda seqs: self._searched(generation, seqs, flt, keep),
            lambda error: self._search_failed(generation, error),
        )

    def _searched(self, generation: int, seqs: Any, flt: RecordFilter, keep: int | None) -> None:
        if generation != self._generation or self.browser is None:
            return
        self.searching = False
        self._show_index(self.browser.index_of(seqs, flt), keep)

    def _search_failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self.searching = False
        if not isinstance(error, SearchCancelled):
            self.count_label.setText(f"La recherche n'a pas pu aboutir : {error}")

    def _show_index(self, index: RecordIndex, keep: int | None) -> None:
        self.index = index
        self.model.set_index(index)
        count = f"{len(index):,}".replace(",", "\u202f")
        plural = "s" if len(index) > 1 else ""
        self.count_label.setText(f"{count} enregistrement{plural} — {index.filter.summary()}")
        position = index.position_of(keep) if keep is not None else None
        if position is None:
            self._clear_detail()
            return
        self.table.selectRow(position)
        self.table.scrollTo(self.model.index(position, 0))

    def current_seq(self) -> int | None:
        current = self.table.currentIndex()
        return self.model.seq_at(current.row()) if current.isValid() else None

    def select_seq(self, seq: int) -> bool:
        """Select a record if the current filter shows it (the findings link to it)."""
        if self.index is None:
            return False
        position = self.index.position_of(seq)
        if position is None:
            return False
        self.table.selectRow(position)
        self.table.scrollTo(self.model.index(position, 0))
        return True

    # -- detail -------------------------------------------------------------------------------
    def _current_changed(self, current: Any, _previous: Any) -> None:
        seq = self.model.seq_at(current.row()) if current.isValid() else None
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
        self.printed.setPlainText(printed_text(detail, training=training))
        number = detail.doc_number
        if detail.record_type in (RecordType.INVOICE, RecordType.CREDIT_NOTE):
            number = detail.body.get("number", number)
        ref = f" — corrige ou copie le n°{detail.ref_seq}" if detail.ref_seq else ""
        values = {
            "detailRecord": f"n°{detail.seq} — {detail.record_type.label} {number}{ref}",
            "detailWhen": f"{detail.when}, caisse {detail.till}, par {detail.operator}",
            "detailHash": _split_hash(detail.hash),
            "detailPrevHash": _split_hash(detail.prev_hash),
            "hashCheck": "conforme" if detail.hash_ok else "NON CONFORME : contenu modifié",
            "detailSignature": f"{detail.signature_excerpt} (clé {detail.key_id})",
            "signatureStatus": detail.signature_status.label,
        }
        for name, text in values.items():
            self.facts[name].setText(text)
        status = self.facts["signatureStatus"]
        state = detail.signature_status.value
        if not detail.hash_ok and detail.signature_status is SignatureStatus.VALID:
            state = SignatureStatus.INVALID.value
        status.setProperty("state", state)
        status.style().unpolish(status)
        status.style().polish(status)

    def _clear_detail(self) -> None:
        self.detail = None
        self.printed.clear()
        for label in getattr(self, "facts", {}).values():
            label.clear()


def _split_hash(value: str) -> str:
    return f"{value[:32]}\n{value[32:]}" if len(value) > 32 else value
