"""The ticket being rung up, a line a row, as the cashier sees it beside the tiles."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from app.ui.till.cart_model import CartModel

COLUMN_WIDTHS = (0, 86, 78, 70, 54, 84)  # the article takes what is left
VAT_COLUMN, NARROW_CART = 4, 560  # below this width the cart leaves out its VAT column


class CartTable(QTableView):
    """Never takes the focus (the scanner field keeps it); rows are chosen by touch."""

    def __init__(self, model: CartModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cart_model = model
        self.setObjectName("cartTable")
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setDefaultSectionSize(36)
        header = self.horizontalHeader()
        # Fixed widths: sizing columns to their contents re-measures every row on each
        # change, which a 200-line cart feels.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in enumerate(COLUMN_WIDTHS):
            if width:
                header.resizeSection(column, width)
        self.verticalHeader().setVisible(False)

    def fit_width(self) -> None:
        self.setColumnHidden(VAT_COLUMN, self.width() < NARROW_CART)

    def selected_row(self) -> int | None:
        """The row chosen, else the last line of the ticket (None when it is empty)."""
        model = self.cart_model
        rows = self.selectionModel().selectedRows()
        if rows and rows[0].row() < model.rowCount():
            return rows[0].row()
        return len(model.cart.lines) - 1 if model.cart.lines else None
