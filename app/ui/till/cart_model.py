"""The cart as a table model: the till's view reads it, the cart does the arithmetic."""

from __future__ import annotations

import copy
import dataclasses
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont

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


def discount_label(discount: Discount) -> str:
    if discount.percent is not None:
        percent = format_decimal(discount.percent).replace(".", ",")
        return f"Remise ticket {percent} %"
    return "Remise ticket"


class CartModel(QAbstractTableModel):
    """Wraps a Cart; every change goes through the cart's own checks. A ticket discount
    is shown as one more row after the lines, so the Total column adds up to the total."""

    totals_changed = Signal(object)  # TicketTotals

    def __init__(self, cart: Cart | None = None) -> None:
        super().__init__()
        self.cart = cart or Cart()

    # -- Qt model -----------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid():
            return 0
        return len(self.cart.lines) + (self.cart.ticket_discount is not None)

    def is_discount_row(self, row: int) -> bool:
        return self.cart.ticket_discount is not None and row == len(self.cart.lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.rowCount():
            return None
        if self.is_discount_row(index.row()):
            return self._discount_data(index.column(), role)
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
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:  # a narrow screen elides it
            return line.label
        return None

    def _discount_data(self, column: int, role: int) -> Any:
        discount = self.cart.ticket_discount
        assert discount is not None
        cents = self.totals.ticket_discount_cents
        if role == Qt.ItemDataRole.DisplayRole:
            amount = format_cents(-cents) if cents else format_cents(0)
            return (discount_label(discount), "", "", amount, "", amount)[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setItalic(True)
            return font
        return None

    # -- cart actions -------------------------------------------------------------------
    @property
    def totals(self) -> TicketTotals:
        return self.cart.totals()

    def _changed(self) -> None:
        if self.cart.ticket_discount is not None:  # its amount follows the lines
            row = len(self.cart.lines)
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))
        self.totals_changed.emit(self.totals)

    def _merges_with_last(self, line: CartLine) -> CartLine | None:
        """The last line, when ``line`` would only add to its quantity."""
        lines = self.cart.lines
        if not lines or line.weighed or line.product_id is None:
            return None
        previous = lines[-1]
        if (
            previous.product_id == line.product_id
            and previous.discount is None
            and previous.unit_price_cents == line.unit_price_cents
        ):
            return previous
        return None

    def prospective(self, line: CartLine) -> tuple[CartLine | None, CartLine]:
        """(the line as it is, the line as add() would leave it): for a confirmation."""
        previous = self._merges_with_last(line)
        if previous is None:
            return None, line
        return previous, dataclasses.replace(previous, quantity=previous.quantity + line.quantity)

    def add(self, line: CartLine) -> int:
        """Add a line, or one more of the last line if it is the same product."""
        lines = self.cart.lines
        previous = self._merges_with_last(line)
        if previous is not None:
            last = len(lines) - 1
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
        copy.deepcopy(self.cart).ticket_discount = discount  # refused before the view is told
        self.beginResetModel()
        self.cart.ticket_discount = discount
        self.endResetModel()
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
