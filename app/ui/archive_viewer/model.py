"""The table of records: a lazy model over a ``RecordIndex``.

``rowCount`` is the length of the index; ``data`` asks the index for the row, which
reads its block of rows from the file the first time. The view only asks for the rows
it paints, so a million records cost the index (8 bytes each) and a few blocks.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from app.ledger.export.browse import AMOUNT_COLUMN, COLUMNS, RecordIndex, RecordRow

log = logging.getLogger(__name__)
Index = QModelIndex | QPersistentModelIndex
HASH_COLUMN = COLUMNS.index("Empreinte")
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
MISSING = QBrush(QColor("#c62828"))
CLOSURE = QBrush(QColor("#eef3fb"))
_CLOSURE_TYPES = frozenset({"DAY_CLOSURE", "MONTH_CLOSURE", "YEAR_CLOSURE"})


class RecordTableModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.index_: RecordIndex | None = None
        self._bold = QFont()
        self._bold.setBold(True)
        self._mono = QFont("DejaVu Sans Mono")
        self._mono.setStyleHint(QFont.StyleHint.Monospace)

    def set_index(self, index: RecordIndex | None) -> None:
        self.beginResetModel()
        self.index_ = index
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() or self.index_ is None:
            return 0
        return len(self.index_)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section] if 0 <= section < len(COLUMNS) else None
        return None

    def row_at(self, row: int) -> RecordRow | None:
        if self.index_ is None or not 0 <= row < len(self.index_):
            return None
        try:
            return self.index_.row(row)
        except sqlite3.Error as exc:  # the file went away under the view
            log.warning("row %s unreadable: %s", row, exc)
            return None

    def seq_at(self, row: int) -> int | None:
        if self.index_ is None or not 0 <= row < len(self.index_):
            return None
        return self.index_.seq_at(row)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = index.column()
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if column in (0, AMOUNT_COLUMN) else LEFT
        if role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.ForegroundRole,
            Qt.ItemDataRole.BackgroundRole,
            Qt.ItemDataRole.FontRole,
        ):
            return None
        row = self.row_at(index.row())
        if row is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return row.cells()[column]
        if role == Qt.ItemDataRole.ToolTipRole:  # what an elided cell hides
            return row.hash if column == HASH_COLUMN else row.cells()[column] or None
        if role == Qt.ItemDataRole.ForegroundRole:
            return MISSING if not row.record_type else None
        if role == Qt.ItemDataRole.BackgroundRole:
            return CLOSURE if row.record_type in _CLOSURE_TYPES else None
        if column == HASH_COLUMN:
            return self._mono
        return self._bold if row.record_type in _CLOSURE_TYPES else None
