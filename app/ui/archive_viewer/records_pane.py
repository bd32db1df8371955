"""The records a filter selects: the periods and quick type groups on the left, the
table on the right with its count.

Filters become an index of sequence numbers, at once on the GUI thread when the ledger
is small, on a worker thread when a filter must read every record of a large one (a
newer filter cancels the search still running); the table asks only for the rows it
paints.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.ledger.export.browse import (
    LedgerBrowser,
    RecordFilter,
    RecordIndex,
    SearchCancelled,
    find_seqs,
)
from app.ui.archive_viewer.filters import FilterBar, PeriodTree, QuickTypes
from app.ui.archive_viewer.jobs import Job
from app.ui.archive_viewer.model import RecordTableModel
from app.ui.background import Background

COLUMN_WIDTHS = (84, 150, 100, 132, 80, 90, 94, 120, 104)
ROW_HEIGHT = 26


class RecordsPane(QSplitter):
    SYNC_LIMIT = 50_000
    """Records up to which a filter runs at once on the GUI thread (a few milliseconds)."""

    current_changed = Signal(object)  # the sequence number now selected, or None
    unreadable = Signal(str)  # the message when the ledger file cannot be read

    def __init__(self, filters: FilterBar, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.browser: LedgerBrowser | None = None
        self.db_path: Path | None = None
        self.index: RecordIndex | None = None
        self.searching = False
        self._generation = 0
        self.search_job: Job | None = None
        self.searches = Background(self)
        self.periods = PeriodTree()
        self.periods.period_chosen.connect(filters.set_period)
        self.quick = QuickTypes()
        self.quick.group_chosen.connect(filters.set_type_group)
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
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.count_label = QLabel()
        self.count_label.setObjectName("countLabel")
        centre = QWidget()
        box = QVBoxLayout(centre)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.table, 1)
        box.addWidget(self.count_label)
        self.addWidget(left)
        self.addWidget(centre)
        self.setStretchFactor(1, 1)
        self.setSizes([185, 905])

    def show_ledger(self, browser: LedgerBrowser, db_path: Path) -> None:
        self.browser, self.db_path = browser, db_path
        self.periods.set_periods(browser.periods())

    def apply(self, flt: RecordFilter, keep: int | None) -> None:
        """Show the records ``flt`` selects; ``keep``: the record to keep selected."""
        if self.browser is None or self.db_path is None:
            return
        self._generation += 1
        generation = self._generation
        if self.search_job is not None:
            self.search_job.cancel()
        lo, hi = self.browser.bounds
        if hi - lo + 1 <= self.SYNC_LIMIT or not (flt.needs_scan or flt.types):
            try:
                index = self.browser.index(flt)
            except sqlite3.Error as exc:
                self.unreadable.emit(f"Lecture impossible : {exc}")
                return
            self._show_index(index, keep)
            return
        job = self.search_job = Job("Recherche")
        path = self.db_path
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
            self.current_changed.emit(None)
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

    def _row_changed(self, current: Any, _previous: Any) -> None:
        self.current_changed.emit(self.model.seq_at(current.row()) if current.isValid() else None)
