"""The cart as a table model: the till's view reads it, the cart does the arithmetic."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from app.errors import InvalidInput
from app.ledger.canonical import format_decimal
from app.sales.cart import Cart, CartLine, Discount, TicketTotals
from app.values.money import format_cents
from app.values.vat import format_rate

HEADERS = ("Article", "Qté", "Prix unit.", "Remise", "TVA", "Total")
Index = QModelIndex | QPersistentModelIndex


def format_quantity(line: CartLine) -> str:
    text = format_decimal(line.quantity).replace(".", ",")
    return f"{text} kg" if line.weighed else text


class CartModel(QAbstractTableModel):
    """Wraps a Cart; every change goes through the cart's own checks."""

    totals_changed = Signal(object)  # TicketTotals

    def __init__(self, cart: Cart | None = None) -> None:
        super().__init__()
        self.cart = cart or Cart()

    # -- Qt model -----------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.cart.lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.cart.lines):
            return None
        priced = self.totals.lines[index.row()]
        line = priced.line
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                line.label,
                format_quantity(line),
                format_cents(line.unit_price_cents),
                format_cents(priced.line_discount_cents) if priced.line_discount_cents else "",
                format_rate(line.vat_rate_bp),
                format_cents(priced.gross_cents - priced.line_discount_cents),
            )[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    # -- cart actions -------------------------------------------------------------------
    @property
    def totals(self) -> TicketTotals:
        return self.cart.totals()

    def _changed(self) -> None:
        self.totals_changed.emit(self.totals)

    def add(self, line: CartLine) -> int:
        """Add a line, or one more of the last line if it is the same product."""
        lines = self.cart.lines
        if lines and not line.weighed and line.product_id is not None:
            last = len(lines) - 1
            previous = lines[last]
            if (
                previous.product_id == line.product_id
                and previous.discount is None
                and previous.unit_price_cents == line.unit_price_cents
            ):
                self.set_quantity(last, previous.quantity + line.quantity)
                return last
        row = len(lines)
        copy.deepcopy(self.cart).add(line)  # refused here, before the view is told
        self.beginInsertRows(QModelIndex(), row, row)
        self.cart.add(line)
        self.endInsertRows()
        self._changed()
        return row

    def _row_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))
        self._changed()

    def set_quantity(self, row: int, quantity: Decimal) -> None:
        self.cart.set_quantity(row, quantity)
        self._row_changed(row)

    def step_quantity(self, row: int, step: int) -> None:
        line = self.cart.lines[row]
        if line.weighed:
            raise InvalidInput("La quantité d'un article pesé vient de la balance.")
        quantity = line.quantity + step
        if quantity <= 0:
            self.remove(row)
        else:
            self.set_quantity(row, quantity)

    def set_line_discount(self, row: int, discount: Discount | None) -> None:
        self.cart.set_line_discount(row, discount)
        self._row_changed(row)

    def set_ticket_discount(self, discount: Discount | None) -> None:
        self.cart.ticket_discount = discount
        if self.cart.lines:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.cart.lines) - 1, 5))
        self._changed()

    def remove(self, row: int) -> None:
        copy.deepcopy(self.cart).remove(row)  # refused here, before the view is told
        self.beginRemoveRows(QModelIndex(), row, row)
        self.cart.remove(row)
        self.endRemoveRows()
        self._changed()

    def replace_cart(self, cart: Cart) -> None:
        self.beginResetModel()
        self.cart = cart
        self.endResetModel()
        self._changed()

    def clear(self) -> None:
        self.replace_cart(Cart())
