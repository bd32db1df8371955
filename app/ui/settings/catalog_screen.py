"""Catalogue: the product list with a search field, and a form to add or edit a product."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.catalog.images import image_path
from app.catalog.nature import NATURES
from app.catalog.service import (
    ProductInfo,
    all_products,
    categories,
    load_demo_catalog,
    save_product,
    set_product_image,
)
from app.errors import InvalidInput
from app.ledger.operators import Permission
from app.ui.context import AppContext
from app.ui.forms import TOUCH_STYLE, Screen, error_label, show_form_error, write_form
from app.ui.models import ProductFilterProxy, ProductTableModel
from app.values.money import format_cents, parse_cents
from app.values.vat import VAT_RATES_BP, format_rate

READ_ONLY = "Lecture seule : seul un gérant peut modifier le catalogue."
DEFAULT_RATE_BP = 2000


class CatalogScreen(Screen):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._editing: int | None = None
        self.setObjectName("catalogScreen")
        self.setStyleSheet(TOUCH_STYLE)
        layout = QVBoxLayout(self)
        title = QLabel("Catalogue")
        title.setObjectName("screenTitle")
        self.notice = QLabel(READ_ONLY)
        self.notice.setObjectName("catalogReadOnly")
        self.notice.setProperty("role", "notice")
        top = QHBoxLayout()
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("searchEdit")
        self.search_edit.setPlaceholderText("Rechercher : nom, code-barres ou rayon")
        self.search_edit.setClearButtonEnabled(True)
        self.demo_button = QPushButton("Charger le catalogue de démonstration")
        self.demo_button.setObjectName("demoButton")
        self.demo_button.clicked.connect(self.load_demo)
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.demo_button)
        self.count_label = QLabel()
        self.count_label.setObjectName("productCount")
        layout.addWidget(title)
        layout.addWidget(self.notice)
        layout.addLayout(top)
        layout.addWidget(self.count_label)

        self.model = ProductTableModel(self)
        self.proxy = ProductFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.search_edit.textChanged.connect(self._filter)
        self.table = QTableView()
        self.table.setObjectName("productTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(40)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(self._row_chosen)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self._form())
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setSizes([820, 420])
        layout.addWidget(splitter, 1)

    def _form(self) -> QWidget:
        self.form_box = QGroupBox("Nouvel article")
        self.form_box.setObjectName("productForm")
        self.form_box.setMinimumWidth(380)
        self.form_box.setMaximumWidth(520)
        form = QFormLayout(self.form_box)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("nameEdit")
        self.ean_edit = QLineEdit()
        self.ean_edit.setObjectName("eanEdit")
        self.ean_edit.setPlaceholderText("8 ou 13 chiffres (facultatif)")
        self.category_combo = QComboBox()
        self.category_combo.setObjectName("categoryCombo")
        self.category_combo.setEditable(True)
        self.category_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.price_edit = QLineEdit()
        self.price_edit.setObjectName("priceEdit")
        self.price_edit.setPlaceholderText("12,90")
        self.vat_combo = QComboBox()
        self.vat_combo.setObjectName("vatCombo")
        for rate in VAT_RATES_BP:
            self.vat_combo.addItem(format_rate(rate), rate)
        self.nature_combo = QComboBox()
        self.nature_combo.setObjectName("natureCombo")
        self.nature_combo.addItem("Selon le taux de TVA", None)
        for nature, label in NATURES.items():
            self.nature_combo.addItem(label, nature)
        self.nature_combo.setToolTip("Catégorie de l'article dans l'e-reporting des ventes")
        self.weighed_check = QCheckBox("Vendu au poids (prix au kg)")
        self.weighed_check.setObjectName("weighedCheck")
        self.open_price_check = QCheckBox("Prix libre (saisi à la caisse)")
        self.open_price_check.setObjectName("openPriceCheck")
        self.active_check = QCheckBox("En vente (actif)")
        self.active_check.setObjectName("activeCheck")
        self.save_button = QPushButton("Enregistrer l'article")
        self.save_button.setObjectName("saveProductButton")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self.new_button = QPushButton("Nouvel article")
        self.new_button.setObjectName("newProductButton")
        self.new_button.clicked.connect(self.new_product)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.new_button)
        self.picture = QLabel()
        self.picture.setObjectName("productPicture")
        self.picture.setFixedSize(64, 64)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.choose_picture = QPushButton("Choisir…")
        self.choose_picture.setObjectName("choosePicture")
        self.choose_picture.setToolTip("Une photo PNG ou JPEG, montrée sur la touche de l'article")
        self.choose_picture.clicked.connect(self.ask_picture)
        self.remove_picture = QPushButton("Retirer")
        self.remove_picture.setObjectName("removePicture")
        self.remove_picture.clicked.connect(lambda: self.set_picture(None))
        picture_row = QHBoxLayout()
        picture_row.addWidget(self.picture)
        picture_row.addWidget(self.choose_picture)
        picture_row.addWidget(self.remove_picture)
        picture_row.addStretch(1)
        self.form_error = error_label("formError")
        self.form_status = QLabel()
        self.form_status.setObjectName("formStatus")
        self.form_status.setProperty("role", "status")
        self.form_status.setWordWrap(True)
        form.addRow("Nom", self.name_edit)
        form.addRow("Code-barres (EAN)", self.ean_edit)
        form.addRow("Rayon", self.category_combo)
        form.addRow("Prix TTC (€)", self.price_edit)
        form.addRow("TVA", self.vat_combo)
        form.addRow("Nature", self.nature_combo)
        form.addRow("", self.weighed_check)
        form.addRow("", self.open_price_check)
        form.addRow("", self.active_check)
        form.addRow("Image", picture_row)
        form.addRow(buttons)
        form.addRow(self.form_error)
        form.addRow(self.form_status)
        self.new_product()
        return self.form_box

    # -- showing -----------------------------------------------------------------------

    def refresh(self) -> None:
        super().refresh()
        editable = self.ctx.can(Permission.EDIT_CATALOG)
        self.notice.setVisible(not editable)
        self.demo_button.setEnabled(editable)
        for widget in self.form_box.findChildren(QWidget):
            widget.setEnabled(editable)
        products, names = self.ctx.read(
            lambda s: (all_products(s), [name for _, name, _ in categories(s)])
        )
        self.model.set_rows(products)
        typed = self.category_combo.currentText()
        self.category_combo.clear()
        self.category_combo.addItems(names)
        self.category_combo.setCurrentText(typed)
        self._show_count()
        if self._editing is not None:
            self._select(self._editing)

    def _filter(self, text: str) -> None:
        self.proxy.set_text(text)
        self._show_count()

    def _show_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        text = f"{total} article(s)" if shown == total else f"{shown} article(s) sur {total}"
        self.count_label.setText(text)

    def _select(self, product_id: int) -> None:
        row = self.model.row_of(product_id)
        if row < 0:
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if index.isValid():
            self.table.selectRow(index.row())
            self.table.scrollTo(index)

    # -- the form ----------------------------------------------------------------------
    def _row_chosen(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        product = self.model.product_at(self.proxy.mapToSource(rows[0]).row())
        if product is not None and product.id != self._editing:
            self.edit_product(product)

    def new_product(self) -> None:
        self._editing = None
        self.form_box.setTitle("Nouvel article")
        for edit in (self.name_edit, self.ean_edit, self.price_edit):
            edit.clear()
        self.category_combo.setCurrentText("")
        self.vat_combo.setCurrentIndex(self.vat_combo.findData(DEFAULT_RATE_BP))
        self.nature_combo.setCurrentIndex(0)
        self.weighed_check.setChecked(False)
        self.open_price_check.setChecked(False)
        self.active_check.setChecked(True)
        self._show_picture(None)
        show_form_error(self.form_error, "")
        self.table.clearSelection()
        self.name_edit.setFocus()

    def edit_product(self, product: ProductInfo) -> None:
        self._editing = product.id
        self.form_box.setTitle(f"Modifier : {product.name}")
        self.name_edit.setText(product.name)
        self.ean_edit.setText(product.ean or "")
        self.category_combo.setCurrentText(product.category or "")
        self.price_edit.setText(format_cents(product.price_cents).removesuffix(" €"))
        self.vat_combo.setCurrentIndex(max(0, self.vat_combo.findData(product.vat_rate_bp)))
        self.nature_combo.setCurrentIndex(max(0, self.nature_combo.findData(product.nature)))
        self.weighed_check.setChecked(product.weighed)
        self.open_price_check.setChecked(product.open_price)
        self.active_check.setChecked(product.active)
        self._show_picture(product.image)
        show_form_error(self.form_error, "")
        self.form_status.clear()

    # -- picture -----------------------------------------------------------------------
    def _show_picture(self, name: str | None) -> None:
        path = image_path(name)
        self.picture.setPixmap(
            QPixmap(str(path)).scaled(
                64, 64, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            if path is not None
            else QPixmap()
        )  # fmt: skip
        self.picture.setText("" if path is not None else "—")
        self.remove_picture.setEnabled(path is not None)

    def ask_picture(self) -> None:
        if self._editing is None:
            show_form_error(self.form_error, "Enregistrez d'abord l'article, puis son image.")
            return
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Image de l'article", "", "Images (*.png *.jpg *.jpeg *.webp *.gif *.bmp)"
        )
        if chosen:
            self.set_picture(Path(chosen))

    def set_picture(self, source: Path | None) -> None:
        if self._editing is None:
            return
        product_id, operator = self._editing, self.ctx.operator_name
        done = write_form(
            self.ctx,
            self,
            lambda s: set_product_image(s, product_id, source, operator=operator),
            self.form_error,
        )
        if done is None:
            return
        self._show_picture(done.value.image)
        self.form_status.setText(
            f"Image de « {done.value.name} » {'enregistrée' if source else 'retirée'}."
        )

    def save(self) -> None:
        self.form_status.clear()
        try:
            price = parse_cents(self.price_edit.text(), "Prix")
        except InvalidInput as exc:
            show_form_error(self.form_error, exc.message)
            return
        values = {
            "name": self.name_edit.text(),
            "price_cents": price,
            "vat_rate_bp": self.vat_combo.currentData(),
            "ean": self.ean_edit.text().strip() or None,
            "category": self.category_combo.currentText().strip() or None,
            "weighed": self.weighed_check.isChecked(),
            "open_price": self.open_price_check.isChecked(),
            "active": self.active_check.isChecked(),
            "nature": self.nature_combo.currentData(),
            "product_id": self._editing,
        }
        done = write_form(
            self.ctx,
            self,
            lambda s: save_product(s, **values, operator=self.ctx.operator_name),
            self.form_error,
        )
        if done is None:
            return
        saved = done.value
        self._editing = saved.id
        self.refresh()
        self.edit_product(saved)
        self.form_status.setText(f"Article « {saved.name} » enregistré.")

    def load_demo(self) -> None:
        self.form_status.clear()
        by = self.ctx.operator_name
        done = write_form(
            self.ctx, self, lambda s: load_demo_catalog(s, operator=by), self.form_error
        )
        if done is not None:
            self.refresh()
            self.form_status.setText(f"{done.value} article(s) de démonstration ajouté(s).")
