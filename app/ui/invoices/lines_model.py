"""The invoice editor's lines: an editable table model over plain dictionaries."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtWidgets import QComboBox, QStyledItemDelegate, QWidget

from app.einvoice.invoices import CATEGORIES, UNITS, InvoiceLineInput
from app.errors import InvalidInput
from app.sales.cart import Discount
from app.values.money import format_cents, parse_cents, to_decimal
from app.values.vat import format_rate, parse_rate

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("label", "qty", "unit", "price", "rate", "category", "discount", "nature")
HEADERS = (
    "Désignation",
    "Qté",
    "Unité",
    "Prix unit.",
    "TVA",
    "Catégorie TVA",
    "Remise %",
    "Nature",
)
NATURES = {"goods": "Marchandise", "services": "Prestation de services"}
# The columns chosen from a list: what each code is called on screen.
CHOICES = {
    "category": CATEGORIES,
    "nature": NATURES,
    "unit": {code: name for code, name in UNITS.items() if code != "H87"},  # one « pièce »
}


def new_line(**values: Any) -> dict[str, Any]:
    line = {
        "label": "",
        "qty": "1",
        "unit": "C62",
        "price": 0,
        "rate": 2000,
        "category": "S",
        "discount": "",
        "nature": "goods",
        "product_id": None,
    }
    line.update(values)
    return line


def to_input(line: dict[str, Any]) -> InvoiceLineInput:
    discount = None
    if str(line["discount"]).strip():
        discount = Discount.percent_of(to_decimal(str(line["discount"]).strip(), "Remise"))
    return InvoiceLineInput(
        line["label"],
        to_decimal(str(line["qty"]), "Quantité"),
        line["price"],
        line["rate"],
        unit=line["unit"],
        category=line["category"],
        discount=discount,
        nature=line["nature"],
        product_id=line["product_id"],
    )


def _chosen(choices: dict[str, str], text: str) -> str | None:
    """The code typed, or named (« Autoliquidation »), in any case."""
    wanted = text.strip().lower()
    for code, name in choices.items():
        if wanted in (code.lower(), name.lower()):
            return code
    return None


class ChoiceDelegate(QStyledItemDelegate):
    """Cells of a column with a fixed list (VAT category, nature, unit) are chosen in a
    list of plain French names; the model keeps the codes."""

    def createEditor(self, parent: QWidget, option: Any, index: Index) -> QWidget:
        column = COLUMNS[index.column()]
        if column not in CHOICES:
            return super().createEditor(parent, option, index)
        combo = QComboBox(parent)
        combo.setObjectName(f"{column}Choice")
        for code, name in CHOICES[column].items():
            combo.addItem(name, code)
        return combo

    def sizeHint(self, option: Any, index: Index) -> QSize:
        size = super().sizeHint(option, index)
        if COLUMNS[index.column()] in CHOICES:  # room for the list's arrow when editing
            size.setWidth(size.width() + 36)
        return size

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        if isinstance(editor, QComboBox):
            editor.setCurrentIndex(max(0, editor.findData(index.data(Qt.ItemDataRole.EditRole))))
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor: QWidget, model: Any, index: Index) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)
        else:
            super().setModelData(editor, model, index)


class DraftLinesModel(QAbstractTableModel):
    """Cells are edited as text; a refused value is reported and the cell kept."""

    refused = Signal(str)
    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return super().flags(index) | Qt.ItemFlag.ItemIsEditable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.lines):
            return None
        line, column = self.lines[index.row()], COLUMNS[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            value = line[column]
            if column == "price":
                return (
                    format_cents(value)
                    if role == Qt.ItemDataRole.DisplayRole
                    else format_cents(value).replace(" €", "")
                )
            if column == "rate":
                return format_rate(value)
            if column == "unit":
                return UNITS[value] if role == Qt.ItemDataRole.DisplayRole else value
            if column == "nature":
                return NATURES[value] if role == Qt.ItemDataRole.DisplayRole else value
            if column == "category":
                return CATEGORIES[value] if role == Qt.ItemDataRole.DisplayRole else value
            if column == "qty":
                return str(value).replace(".", ",")
            return str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in ("qty", "price", "rate"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        line, column = self.lines[index.row()], COLUMNS[index.column()]
        try:
            line[column] = self._parse(column, str(value).strip())
        except InvalidInput as exc:
            self.refused.emit(exc.message)
            return False
        if column == "category":  # the rate follows: exempt lines are at 0 %
            if line["category"] != "S":
                line["rate"] = 0
            elif line["rate"] == 0:
                line["rate"] = 2000
            rate = self.index(index.row(), COLUMNS.index("rate"))
            self.dataChanged.emit(rate, rate)
        self.dataChanged.emit(index, index)
        self.changed.emit()
        return True

    @staticmethod
    def _parse(column: str, text: str) -> Any:
        if column == "price":
            return parse_cents(text, "Prix unitaire")
        if column == "rate":
            return parse_rate(text.replace("%", "").strip())
        if column == "qty":
            return format(to_decimal(text, "Quantité"), "f")
        if column == "unit":
            found = [code for code, name in UNITS.items() if text in (code, name)]
            if not found:
                raise InvalidInput(f"Unité inconnue : {text} ({', '.join(UNITS.values())}).")
            return found[0]
        if column == "category":
            found = _chosen(CATEGORIES, text)
            if found is None:
                raise InvalidInput(f"Catégorie de TVA : {', '.join(CATEGORIES.values())}.")
            return found
        if column == "nature":
            found = _chosen(NATURES, text)
            if found is None:
                raise InvalidInput(f"Nature : {' ou '.join(NATURES.values())}.")
            return found
        if column == "discount":
            return text.replace("%", "").strip()
        return text

    def add(self, line: dict[str, Any]) -> int:
        row = len(self.lines)
        self.beginInsertRows(QModelIndex(), row, row)
        self.lines.append(line)
        self.endInsertRows()
        self.changed.emit()
        return row

    def remove(self, row: int) -> None:
        if 0 <= row < len(self.lines):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self.lines[row]
            self.endRemoveRows()
            self.changed.emit()

    def inputs(self) -> tuple[InvoiceLineInput, ...]:
        return tuple(to_input(line) for line in self.lines)
