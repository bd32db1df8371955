"""The articles on sale at the till, as tiles a finger touches: by category, or found
by a search typed in the field above them. A wider screen shows more columns."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.catalog.service import ProductInfo, categories, products_in
from app.catalog.service import search_products as find_products
from app.ui.context import AppContext
from app.ui.theme import TOUCH
from app.ui.till import tiles

GRID_COLUMNS = 3
TILE_WIDTH = 170  # px: a wider screen shows more columns of tiles


class ProductPicker(QWidget):
    """The search field, the category buttons and the tiles of the articles shown."""

    chosen = Signal(object)  # ProductInfo: its tile was touched
    category_chosen = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.category_id: int | None = None
        self.tones: dict[str, str] = {}  # category name: its colour on tiles (tiles.py)
        self.category_group = QButtonGroup(self)  # the chosen category stands out

        self.search = QLineEdit()
        self.search.setObjectName("productSearch")
        self.search.setPlaceholderText("Rechercher un article…")
        self.search.setMinimumHeight(TOUCH)
        # Only a click (or a touch) puts the cursor here: the scanner field keeps the focus.
        self.search.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.search.textChanged.connect(lambda _: self._fill_grid())
        self.categories_bar = QGridLayout()
        self.categories_bar.setSpacing(4)
        self.grid = QGridLayout()
        grid_host = QWidget()
        grid_host.setLayout(self.grid)
        scroll = self.product_scroll = QScrollArea()
        self.grid_columns = GRID_COLUMNS
        self.tile_line = tiles.line_length(0)  # characters of a name per line of a tile
        scroll.setObjectName("productScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(grid_host)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addLayout(self.categories_bar)
        layout.addWidget(scroll, 1)

    def refresh(self) -> None:
        self._fill_categories()
        self._fill_grid()

    def _fill_categories(self) -> None:
        for old in self.category_group.buttons():
            self.category_group.removeButton(old)
        _empty(self.categories_bar)
        known = self.ctx.read(categories)
        self.tones = tiles.category_tones(name for _id, name, _color in known)
        for i, (category_id, name, _color) in enumerate([(None, "Tout", ""), *known]):
            tone = tiles.tone_of(self.tones, category_id and name)
            button = tiles.category_button(category_id, name, tone, category_id == self.category_id)
            self.category_group.addButton(button)
            button.clicked.connect(lambda _=False, c=category_id: self._choose_category(c))
            self.categories_bar.addWidget(button, i // 3, i % 3)

    def _choose_category(self, category_id: int | None) -> None:
        self.category_id = category_id
        self._fill_grid()
        self.category_chosen.emit()

    def _fill_grid(self) -> None:
        _empty(self.grid)
        columns = self.grid_columns
        for i, product in enumerate(self.shown_products()):
            tone = tiles.tone_of(self.tones, product.category)
            button = tiles.product_tile(product, tone, self.tile_line)
            button.clicked.connect(lambda _=False, p=product: self.chosen.emit(p))
            self.grid.addWidget(button, i // columns, i % columns)

    def fit_columns(self) -> None:
        """As many columns of tiles as the width holds, never fewer than three."""
        width = self.product_scroll.viewport().width()
        columns = max(GRID_COLUMNS, width // TILE_WIDTH)
        line = tiles.line_length(width // columns)
        if (columns, line) != (self.grid_columns, self.tile_line):
            self.grid_columns, self.tile_line = columns, line
            self._fill_grid()

    def shown_products(self) -> list[ProductInfo]:
        text = self.search.text()
        if text.strip():
            return self.ctx.read(lambda s: find_products(s, text, limit=60))
        return self.ctx.read(lambda s: products_in(s, self.category_id, limit=120))


def _empty(layout: QGridLayout | QHBoxLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget()
        if widget is not None:
            widget.hide()  # gone at once, not at the next event loop turn
            widget.deleteLater()
