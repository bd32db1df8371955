"""The closures already made, filtered by kind, with the text of the one chosen and a
button to print it again."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHeaderView,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.documents.text import closure_text
from app.ledger.closures import Closure
from app.ledger.records import RecordType
from app.ledger.settings import FiscalSettings
from app.ui.models import ClosureListModel

KIND_FILTERS = (
    ("Toutes", None),
    ("Journalières", RecordType.DAY_CLOSURE),
    ("Mensuelles", RecordType.MONTH_CLOSURE),
    ("Annuelles", RecordType.YEAR_CLOSURE),
)


class ClosureList(QGroupBox):
    """``reprint_requested(Closure)``: print this closure again."""

    reprint_requested = Signal(object)

    def __init__(self, timezone: str, parent: QWidget | None = None) -> None:
        super().__init__("Clôtures enregistrées", parent)
        self.timezone = timezone
        self._closures: list[Closure] = []
        self._shop = FiscalSettings()
        layout = QVBoxLayout(self)
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("closureKindCombo")
        for label, _kind in KIND_FILTERS:
            self.kind_combo.addItem(label)
        self.kind_combo.currentIndexChanged.connect(self._show_closures)
        layout.addWidget(self.kind_combo)
        self.model = ClosureListModel(timezone, self)
        self.table = QTableView()
        self.table.setObjectName("closureTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(36)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._show_detail)
        self.detail = QPlainTextEdit()
        self.detail.setObjectName("closureText")
        self.detail.setReadOnly(True)
        self.detail.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.detail.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.detail.setPlaceholderText("Choisissez une clôture pour l'afficher.")
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout.addWidget(splitter, 1)
        self.reprint_button = QPushButton("Réimprimer")
        self.reprint_button.setObjectName("reprintButton")
        self.reprint_button.clicked.connect(self._reprint)
        layout.addWidget(self.reprint_button)

    def show_closures(self, closures: list[Closure], shop: FiscalSettings) -> None:
        """The closures, newest first, and the shop whose name heads their text."""
        self._closures, self._shop = closures, shop
        self._show_closures()

    def show_all(self) -> None:
        self.kind_combo.setCurrentIndex(0)

    def _show_closures(self) -> None:
        kind = KIND_FILTERS[max(0, self.kind_combo.currentIndex())][1]
        shown_seq = self.selected().seq if self.selected() else None
        rows = [c for c in self._closures if kind is None or c.record_type is kind]
        self.model.set_rows(rows)
        if shown_seq is not None:
            self.select_closure(shown_seq)
        else:
            self._show_detail()

    def select_closure(self, seq: int) -> None:
        row = self.model.row_of(seq)
        if row >= 0:
            self.table.selectRow(row)
        self._show_detail()

    def selected(self) -> Closure | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.closure_at(rows[0].row()) if rows else None

    def _show_detail(self) -> None:
        closure = self.selected()
        self.reprint_button.setEnabled(closure is not None)
        if closure is None:
            self.detail.clear()
            return
        self.detail.setPlainText(closure_text(closure, self._shop, self.timezone))

    def _reprint(self) -> None:
        closure = self.selected()
        if closure is not None:
            self.reprint_requested.emit(closure)
