"""Caisse: the sale screen. The barcode field keeps focus; every action has a key."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.catalog.service import ProductInfo, Scan, categories, lookup_barcode, products_in
from app.catalog.service import search_products as find_products
from app.errors import ComptoirError, InvalidInput
from app.ledger.journal import Recorded
from app.ledger.operators import Permission
from app.sales.cart import Discount
from app.sales.parking import park, parked_tickets, resume
from app.sales.service import record_sale
from app.ui.context import AppContext, documents
from app.ui.errors import show_error
from app.ui.till.cart_model import CartModel
from app.ui.till.payment_dialog import PaymentDialog
from app.values.money import format_cents, parse_cents, to_decimal
from app.values.vat import format_rate

if TYPE_CHECKING:
    from app.documents import printing

GRID_COLUMNS = 4


class TillScreen(QWidget):
    sale_recorded = Signal(object)  # Recorded
    correction_requested = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = CartModel()
        self.category_id: int | None = None
        self.last_number: int | None = None

        self.barcode = QLineEdit()
        self.barcode.setObjectName("barcode")
        self.barcode.setPlaceholderText("Scanner ou saisir un code-barres, puis Entrée")
        self.barcode.setMinimumHeight(40)
        self.barcode.returnPressed.connect(self.scan)
        self.message = QLabel()
        self.message.setObjectName("tillMessage")
        self.message.setWordWrap(True)

        self.table = QTableView()
        self.table.setObjectName("cartTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.table.horizontalHeader()
        # Fixed widths: sizing columns to their contents re-measures every row on each
        # change, which a 200-line cart feels.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in enumerate((0, 80, 90, 80, 60, 90)):
            if width:
                header.resizeSection(column, width)
        self.table.verticalHeader().setVisible(False)

        self.total_label = QLabel()
        self.total_label.setObjectName("total")
        self.total_label.setStyleSheet("font-size: 32px; font-weight: bold;")
        self.vat_label = QLabel()
        self.vat_label.setObjectName("vatBreakdown")
        self.model.totals_changed.connect(self._show_totals)
        self.model.modelReset.connect(lambda: self._show_totals(self.model.totals))

        self.search = QLineEdit()
        self.search.setObjectName("productSearch")
        self.search.setPlaceholderText("Rechercher un article…")
        self.search.textChanged.connect(lambda _: self._fill_grid())
        self.categories_bar = QHBoxLayout()
        self.grid = QGridLayout()
        grid_host = QWidget()
        grid_host.setLayout(self.grid)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(grid_host)

        left = QVBoxLayout()
        left.addWidget(self.search)
        left.addLayout(self.categories_bar)
        left.addWidget(scroll, 1)

        right = QVBoxLayout()
        right.addWidget(self.barcode)
        right.addWidget(self.message)
        right.addWidget(self.table, 1)
        right.addWidget(self.vat_label)
        right.addWidget(self.total_label)
        right.addLayout(self._actions())

        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(right, 4)
        self._show_totals(self.model.totals)
        # A scanner types into whatever has focus: give it back to the barcode field.
        self._focus_timer = QTimer(self, interval=500, timeout=self._refocus)
        self._focus_timer.start()

    # -- layout helpers -------------------------------------------------------------------
    def _actions(self) -> QGridLayout:
        actions: list[tuple[str, str, str, Callable[[], None]]] = [
            ("plus", "+1", "F5", lambda: self._step(1)),
            ("minus", "−1", "F6", lambda: self._step(-1)),
            ("lineDiscount", "Remise ligne", "F7", self.line_discount),
            ("ticketDiscount", "Remise ticket", "F8", self.ticket_discount),
            ("deleteLine", "Supprimer la ligne", "Del", self.delete_line),
            ("park", "Mettre en attente", "F9", self.park),
            ("resume", "Reprendre", "F10", self.resume),
            ("correct", "Corriger un ticket", "F11", self.correction_requested.emit),
            ("duplicate", "Duplicata", "F3", self.duplicate),
            ("drawer", "Ouvrir le tiroir", "F2", self.open_drawer),
            ("pay", "Payer", "F12", self.pay),
        ]
        grid = QGridLayout()
        self.buttons: dict[str, QPushButton] = {}
        for i, (name, label, key, slot) in enumerate(actions):
            shown = "Suppr" if key == "Del" else key
            button = QPushButton(f"{label}\n({shown})")
            button.setObjectName(name)
            button.setMinimumSize(120, 60)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(slot)
            QShortcut(QKeySequence(key), self, activated=slot)
            grid.addWidget(button, i // 3, i % 3)
            self.buttons[name] = button
        self.buttons["pay"].setStyleSheet("font-size: 20px; font-weight: bold;")
        return grid

    def refresh(self) -> None:
        self._fill_categories()
        self._fill_grid()
        self._refocus()

    def _fill_categories(self) -> None:
        _empty(self.categories_bar)
        for category_id, name, _color in [(None, "Tout", ""), *self.ctx.read(categories)]:
            button = QPushButton(name)
            button.setMinimumHeight(44)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _=False, c=category_id: self._choose_category(c))
            self.categories_bar.addWidget(button)

    def _choose_category(self, category_id: int | None) -> None:
        self.category_id = category_id
        self._fill_grid()

    def _fill_grid(self) -> None:
        _empty(self.grid)
        text = self.search.text()
        if text.strip():
            products = self.ctx.read(lambda s: find_products(s, text, limit=60))
        else:
            products = self.ctx.read(lambda s: products_in(s, self.category_id, limit=120))
        for i, product in enumerate(products):
            unit = " /kg" if product.weighed else ""
            button = QPushButton(f"{product.name}\n{format_cents(product.price_cents)}{unit}")
            button.setObjectName(f"product_{product.id}")
            button.setMinimumSize(150, 72)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _=False, p=product: self.add_product(p))
            self.grid.addWidget(button, i // GRID_COLUMNS, i % GRID_COLUMNS)

    def _refocus(self) -> None:
        if self.isVisible() and self.window().isActiveWindow() and not self.search.hasFocus():
            self.barcode.setFocus(Qt.FocusReason.OtherFocusReason)

    def _show_totals(self, totals) -> None:  # type: ignore[no-untyped-def]
        self.total_label.setText(f"Total : {format_cents(totals.total_cents)}")
        self.vat_label.setText(
            "   ".join(
                f"TVA {format_rate(v.rate_bp)} : {format_cents(v.vat_cents)}" for v in totals.vat
            )
        )

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #b00020;" if error else "color: #0a5c2e;")
        self.message.setText(text)

    def _guard(self, action: Callable[[], None]) -> None:
        try:
            action()
        except InvalidInput as exc:
            self._say(exc.message, error=True)

    # -- scanning and adding --------------------------------------------------------------
    def scan(self) -> None:
        code = self.barcode.text().strip()
        self.barcode.clear()
        if not code:
            return
        try:
            found: Scan = self.ctx.read(lambda s: lookup_barcode(s, code))
            self._add_scan(found)
        except InvalidInput as exc:
            self._say(exc.message, error=True)

    def add_product(self, product: ProductInfo) -> None:
        quantity = Decimal(1)
        if product.weighed:
            text, ok = QInputDialog.getText(
                self, "Article pesé", f"Poids de « {product.name} » en kg (ex. 0,350) :"
            )
            if not ok:
                return
            try:
                quantity = to_decimal(text, "Poids")
            except InvalidInput as exc:
                self._say(exc.message, error=True)
                return
        self._guard(lambda: self._add_scan(Scan(product, quantity)))

    def _add_scan(self, found: Scan) -> None:
        price = None
        if found.product.open_price:
            text, ok = QInputDialog.getText(
                self, "Prix libre", f"Prix de « {found.product.name} » (TTC) :"
            )
            if not ok:
                return
            price = parse_cents(text, "Prix")
        row = self.model.add(found.line(price))
        self.table.selectRow(row)
        self._say(f"{found.product.name} ajouté.")

    # -- editing the cart ----------------------------------------------------------------
    def _selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            return rows[0].row()
        return len(self.model.cart.lines) - 1 if self.model.cart.lines else None

    def _step(self, step: int) -> None:
        row = self._selected_row()
        if row is not None:
            self._guard(lambda: self.model.step_quantity(row, step))

    def delete_line(self) -> None:
        row = self._selected_row()
        if row is not None:
            self._guard(lambda: self.model.remove(row))

    def _ask_discount(self, title: str) -> Discount | bool | None:
        text, ok = QInputDialog.getText(
            self, title, "Remise : « 10 % » ou un montant « 1,50 » (vide = aucune) :"
        )
        if not ok:
            return False
        text = text.strip()
        if not text:
            return None
        if text.endswith("%"):
            return Discount.percent_of(to_decimal(text[:-1], "Remise"))
        return Discount.amount(parse_cents(text, "Remise"))

    def line_discount(self) -> None:
        row = self._selected_row()
        if row is None:
            return

        def apply() -> None:
            discount = self._ask_discount("Remise sur la ligne")
            if discount is not False:
                self.model.set_line_discount(row, discount)  # type: ignore[arg-type]

        self._guard(apply)

    def ticket_discount(self) -> None:
        def apply() -> None:
            discount = self._ask_discount("Remise sur le ticket")
            if discount is not False:
                self.model.set_ticket_discount(discount)  # type: ignore[arg-type]

        self._guard(apply)

    # -- parking -------------------------------------------------------------------------
    def park(self) -> None:
        cart = self.model.cart
        if self.ctx.write(self, lambda s: park(s, cart, operator=self.ctx.operator_name)):
            self.model.clear()
            self._say("Ticket mis en attente.")

    def resume(self) -> None:
        waiting = self.ctx.read(parked_tickets)
        if not waiting:
            self._say("Aucun ticket en attente.", error=True)
            return
        if not self.model.cart.is_empty:
            self._say("Terminez ou mettez en attente le ticket en cours d'abord.", error=True)
            return
        labels = [f"n°{p.id} — {p.label} ({p.operator})" for p in waiting]
        choice, ok = QInputDialog.getItem(
            self, "Reprendre un ticket", "Ticket en attente :", labels, 0, False
        )
        if not ok:
            return
        chosen = waiting[labels.index(choice)]
        self.resume_parked(chosen.id)

    def resume_parked(self, parked_id: int) -> None:
        cart = self.ctx.write(self, lambda s: resume(s, parked_id))
        if cart is not None:
            self.model.replace_cart(cart)
            self._say("Ticket repris.")

    # -- payment -------------------------------------------------------------------------
    def make_payment_dialog(self) -> PaymentDialog:
        return PaymentDialog(self.model.totals.total_cents, self)

    def pay(self) -> None:
        if self.model.cart.is_empty:
            self._say("Le ticket est vide.", error=True)
            return
        if not self.ctx.can(Permission.SELL):
            show_error(self, ComptoirError("Votre rôle ne permet pas d'encaisser."))
            return
        dialog = self.make_payment_dialog()
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.record(dialog.payments))
        dialog.open()

    def record(self, payments) -> Recorded | None:  # type: ignore[no-untyped-def]
        cart = self.model.cart
        record = self.ctx.write(
            self, lambda s: record_sale(s, cart, payments, self.ctx.operator_name)
        )
        if record is not None:
            change = record.body["change"]
            self.model.clear()
            self.last_number = record.number
            suffix = f" — rendu monnaie : {format_cents(change)}" if change else ""
            self._say(f"Ticket {record.doc_number} enregistré{suffix}.")
            self.sale_recorded.emit(record)
            cash = any(p["method"] == "cash" for p in record.body["tendered"])
            self.print_receipt(record.number, open_drawer=cash, said=self.message.text())
        return record

    def print_receipt(
        self, number: int, *, duplicate: bool = False, open_drawer: bool = False, said: str = ""
    ) -> printing.Output | None:
        """Receipt to PDF and printer; a failed print is shown, the sale stays recorded."""
        out = self.ctx.write(
            self,
            lambda s: documents().output_receipt(
                s,
                number,
                operator=self.ctx.operator_name,
                duplicate=duplicate,
                open_drawer=open_drawer,
            ),
        )
        if out is not None:
            where = "imprimé" if out.printed else f"PDF : {out.pdf}"
            what = f"Duplicata n°{out.copy}" if out.copy else "Ticket"
            self._say(f"{said} {what} {where}".strip())
        return out

    def duplicate(self) -> None:
        number, ok = QInputDialog.getInt(
            self, "Duplicata", "Numéro du ticket :", self.last_number or 1, 1, 10**9
        )
        if ok:
            self.print_receipt(number, duplicate=True)

    def open_drawer(self) -> None:
        if self.ctx.write(
            self, lambda s: documents().open_drawer(s, operator=self.ctx.operator_name)
        ):
            self._say("Tiroir-caisse ouvert.")


def _empty(layout: QGridLayout | QHBoxLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget()
        if widget is not None:
            widget.hide()  # gone at once, not at the next event loop turn
            widget.deleteLater()


def ask_text(parent: QWidget, title: str, label: str, *, password: bool = False) -> str | None:
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    if password:
        dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
    return dialog.textValue() if dialog.exec() == QDialog.DialogCode.Accepted else None
