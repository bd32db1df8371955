"""Small table models over lists of frozen values, for the back-office screens.

Each model holds plain values returned by a service (never live ORM objects) and is
reset as a whole when its screen refreshes: these lists stay short (a shop's catalog,
its closures, its operators).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from app.catalog.service import ProductInfo
from app.ledger.canonical import parse_ts
from app.ledger.closures import Closure, day_label, month_label
from app.ledger.operators import OperatorInfo
from app.ledger.records import RecordType, document_number
from app.values.money import format_cents
from app.values.vat import format_rate

SORT_ROLE = Qt.ItemDataRole.UserRole
"""Raw values (cents, numbers) for sorting, where the displayed text would sort wrongly."""

Index = QModelIndex | QPersistentModelIndex
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
INACTIVE = QColor("#8a8a8a")
CLOSURE_KIND_LABELS = {
    RecordType.DAY_CLOSURE: "Journalière",
    RecordType.MONTH_CLOSURE: "Mensuelle",
    RecordType.YEAR_CLOSURE: "Annuelle",
}


def local_time(ts: str, timezone: str) -> str:
    """A ledger timestamp (UTC) as the shop reads it: "21/11/2026 19:02"."""
    return parse_ts(ts).astimezone(ZoneInfo(timezone)).strftime("%d/%m/%Y %H:%M")


def closure_period(closure: Closure) -> str:
    if closure.record_type is RecordType.DAY_CLOSURE:
        return day_label(date.fromisoformat(closure.period))
    if closure.record_type is RecordType.MONTH_CLOSURE:
        return month_label(closure.period)
    return closure.period


@functools.lru_cache(maxsize=65_536)
def _fold(text: str) -> str:
    """Lower case without accents, so that "cafe" finds "Café"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class ListModel(QAbstractTableModel):
    """A read-only table over a list of values; subclasses say what each cell shows."""

    HEADERS: tuple[str, ...] = ()
    RIGHT_ALIGNED: frozenset[int] = frozenset()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_value(self, row: int) -> Any:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._rows):
            return str(section + 1)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        value = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(value, column)
        if role == SORT_ROLE:
            return self.sort_key(value, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.RIGHT_ALIGNED:
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole:
            return self.foreground(value)
        return None

    def display(self, value: Any, column: int) -> str:
        raise NotImplementedError

    def sort_key(self, value: Any, column: int) -> Any:
        return self.display(value, column)

    def foreground(self, value: Any) -> QBrush | None:
        return None


class ClosureListModel(ListModel):
    """Past closures, newest first: type, period, number, date, operator, totals."""

    HEADERS = ("Type", "Période", "N°", "Date", "Opérateur", "Total TTC", "Total perpétuel")
    RIGHT_ALIGNED = frozenset({5, 6})

    def __init__(self, timezone: str = "Europe/Paris", parent=None) -> None:
        super().__init__(parent)
        self.timezone = timezone

    def closure_at(self, row: int) -> Closure | None:
        return self.row_value(row)

    def row_of(self, seq: int) -> int:
        return next((i for i, c in enumerate(self._rows) if c.seq == seq), -1)

    def display(self, value: Closure, column: int) -> str:
        if column == 0:
            return CLOSURE_KIND_LABELS.get(value.record_type, value.record_type.label)
        if column == 1:
            return closure_period(value)
        if column == 2:
            return document_number(value.record_type, value.number)
        if column == 3:
            return local_time(value.ts, self.timezone)
        if column == 4:
            return value.operator
        if column == 5:
            return format_cents(value.grand_total)
        return format_cents(value.perpetual_total)

    def sort_key(self, value: Closure, column: int) -> Any:
        return {
            1: value.period,
            2: value.seq,
            3: value.ts,
            5: value.grand_total,
            6: value.perpetual_total,
        }.get(column, self.display(value, column))


class ProductTableModel(ListModel):
    """The catalog: one row per product, inactive ones greyed."""

    HEADERS = ("Nom", "EAN", "Rayon", "Prix TTC", "TVA", "Pesé", "Actif")
    RIGHT_ALIGNED = frozenset({3, 4})

    def product_at(self, row: int) -> ProductInfo | None:
        return self.row_value(row)

    def row_of(self, product_id: int) -> int:
        return next((i for i, p in enumerate(self._rows) if p.id == product_id), -1)

    def display(self, value: ProductInfo, column: int) -> str:
        if column == 0:
            return value.name
        if column == 1:
            return value.ean or ""
        if column == 2:
            return value.category or ""
        if column == 3:
            price = format_cents(value.price_cents)
            return f"{price} /kg" if value.weighed else price
        if column == 4:
            return format_rate(value.vat_rate_bp)
        if column == 5:
            return "Oui" if value.weighed else "Non"
        return "Oui" if value.active else "Non"

    def sort_key(self, value: ProductInfo, column: int) -> Any:
        if column == 3:
            return value.price_cents
        if column == 4:
            return value.vat_rate_bp
        return _fold(self.display(value, column))

    def foreground(self, value: ProductInfo) -> QBrush | None:
        return None if value.active else QBrush(INACTIVE)


class ProductFilterProxy(QSortFilterProxyModel):
    """Keeps the products whose name, EAN or category contains the typed text, accents
    and case ignored."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._needle = ""
        self.setSortRole(SORT_ROLE)

    def set_text(self, text: str) -> None:
        if not hasattr(self, "beginFilterChange"):  # Qt < 6.9
            self._needle = _fold(text.strip())
            self.invalidateFilter()
            return
        self.beginFilterChange()
        self._needle = _fold(text.strip())
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if not self._needle:
            return True
        model = self.sourceModel()
        if not isinstance(model, ProductTableModel):
            return True
        product = model.product_at(source_row)
        if product is None:
            return False
        haystack = " ".join(filter(None, (product.name, product.ean, product.category)))
        return self._needle in _fold(haystack)


class OperatorTableModel(ListModel):
    HEADERS = ("Nom", "Rôle")

    def operator_at(self, row: int) -> OperatorInfo | None:
        return self.row_value(row)

    def display(self, value: OperatorInfo, column: int) -> str:
        return value.name if column == 0 else value.role.label
