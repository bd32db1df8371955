"""Caisse: the sale screen. The barcode field keeps focus; every action has a key; a
code scanned while the focus is in the search field is still rung up."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QResizeEvent, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.catalog.service import ProductInfo, Scan, lookup_barcode
from app.errors import ComptoirError, InvalidInput
from app.ledger.closures import pending_closures
from app.ledger.closures import today as ledger_today
from app.ledger.journal import Recorded
from app.ledger.operators import Permission
from app.sales.cart import CartLine, Discount
from app.sales.limits import unusual_line
from app.sales.parking import park, parked_tickets, resume
from app.sales.service import closed_day_note, payment_refusal, sale_refusal
from app.sales.terminal.pending import record_sale_with_cards
from app.sales.terminal.settings import terminal_config
from app.ui.context import AppContext, documents
from app.ui.errors import show_error
from app.ui.theme import TOUCH, set_role
from app.ui.till.card_terminal import CardTerminal
from app.ui.till.cart_model import CartModel
from app.ui.till.cart_table import CartTable
from app.ui.till.entry import ScanCatcher, ends_with_times, parse_entry
from app.ui.till.payment_dialog import PaymentDialog
from app.ui.till.product_picker import ProductPicker
from app.ui.widgets.confirm import ask_confirmation
from app.ui.widgets.keypad import Keypad, till_rows
from app.ui.widgets.pdf_preview import show_pdf
from app.values.money import format_cents, parse_cents, to_decimal
from app.values.vat import format_rate

if TYPE_CHECKING:
    from app.documents import printing


class TillScreen(QWidget):
    sale_recorded = Signal(object)  # Recorded
    correction_requested = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = CartModel()
        self._sale_key: str | None = None
        self.last_number: int | None = None
        self.pending_quantity: Decimal | None = None
        self.notice_text: str | None = None
        self._error = False

        self.notice = QLabel()
        self.notice.setObjectName("closedNotice")
        self.notice.setWordWrap(True)
        self.notice.hide()

        self.barcode = QLineEdit()
        self.barcode.setObjectName("barcode")
        self.barcode.setPlaceholderText("Code-barres, ou « 24* » puis l'article")
        self.barcode.setMinimumHeight(TOUCH)
        self.barcode.returnPressed.connect(self.scan)
        self.barcode.textEdited.connect(self._typed)
        self.barcode.installEventFilter(self)
        self.quantity_label = QLabel()
        self.quantity_label.setObjectName("pendingQuantity")
        self.quantity_label.hide()
        self.message = QLabel()
        self.message.setObjectName("tillMessage")
        self.message.setWordWrap(True)

        self.table = CartTable(self.model)

        self.total_label = QLabel()
        self.total_label.setObjectName("total")
        self.total_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.vat_label = QLabel()
        self.vat_label.setObjectName("vatBreakdown")
        self.vat_label.setWordWrap(True)
        self.model.totals_changed.connect(self._show_totals)
        self.model.modelReset.connect(lambda: self._show_totals(self.model.totals))

        self.picker = ProductPicker(ctx)
        self.picker.chosen.connect(self.add_product)
        self.picker.category_chosen.connect(self.focus_scanner)
        self.search, self.grid = self.picker.search, self.picker.grid
        self.search.returnPressed.connect(self.search_enter)
        self.catcher = ScanCatcher(self.search)
        self.catcher.scanned.connect(self.scan_code)
        self.keypad = Keypad(self.barcode, till_rows(), name="tillKeypad", size=TOUCH)

        left = QVBoxLayout()
        left.addWidget(self.picker, 1)
        left.addWidget(self.keypad)

        entry = QHBoxLayout()
        entry.addWidget(self.quantity_label)
        entry.addWidget(self.barcode, 1)
        right = QVBoxLayout()
        right.addLayout(entry)
        right.addWidget(self.message)
        right.addWidget(self.table, 1)
        right.addWidget(self.vat_label)
        right.addWidget(self.total_label)
        right.addLayout(self._actions())

        body = QHBoxLayout()
        body.addLayout(left, 3)
        body.addLayout(right, 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.notice)
        layout.addLayout(body, 1)
        self._show_totals(self.model.totals)
        ctx.ledger_changed.connect(self.refresh_notice)
        # A scanner types into whatever has focus: give it back to the barcode field.
        self._focus_timer = QTimer(self, interval=500, timeout=self._refocus)
        self._focus_timer.start()
        # Midnight passes, another till closes the day: look again now and then.
        self._notice_timer = QTimer(self, interval=60_000, timeout=self.refresh_notice)
        self._notice_timer.start()

    # -- layout helpers -------------------------------------------------------------------
    def _actions(self) -> QGridLayout:
        actions: list[tuple[str, str, str, Callable[[], None]]] = [
            ("plus", "+1", "F5", lambda: self._step(1)),
            ("minus", "−1", "F6", lambda: self._step(-1)),
            ("lineDiscount", "Remise ligne", "F7", self.line_discount),
            ("ticketDiscount", "Remise ticket", "F8", self.ticket_discount),
            ("deleteLine", "Supprimer", "Del", self.delete_line),
            ("park", "En attente", "F9", self.park),
            ("resume", "Reprendre", "F10", self.resume),
            ("correct", "Corriger", "F11", self.correction_requested.emit),
            ("duplicate", "Duplicata", "F3", self.duplicate),
            ("drawer", "Tiroir", "F2", self.open_drawer),
            ("pay", "Payer", "F12", self.pay),
        ]
        grid = QGridLayout()
        grid.setSpacing(4)
        self.buttons: dict[str, QPushButton] = {}
        for i, (name, label, key, slot) in enumerate(actions):
            shown = "Suppr" if key == "Del" else key
            button = QPushButton(f"{label}\n({shown})")
            button.setObjectName(name)
            button.setMinimumSize(96, 56)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(slot)
            QShortcut(QKeySequence(key), self, activated=slot)
            if name == "pay":
                grid.addWidget(button, i // 4, i % 4, 1, 2)
            else:
                grid.addWidget(button, i // 4, i % 4)
            self.buttons[name] = button
        set_role(self.buttons["pay"], "primary")
        set_role(self.buttons["deleteLine"], "danger")
        return grid

    def refresh(self) -> None:
        self.picker.refresh()
        self.refresh_notice()
        self.focus_scanner()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.focus_scanner()

    def refresh_notice(self) -> None:
        """Say before anything is scanned that no sale can be recorded now."""
        self.notice_text = self.ctx.read(sale_refusal)
        note = None if self.notice_text else self.ctx.read(closed_day_note)
        # A day closed while trading goes on is news (role "note"), not a refusal.
        set_role(self.notice, "note" if note else "")
        self.notice.setText(self.notice_text or note or "")
        self.notice.setVisible(bool(self.notice_text or note))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.picker.fit_columns()
        self.table.fit_width()

    def _refocus(self) -> None:
        if self.isVisible() and self.window().isActiveWindow() and not self.search.hasFocus():
            self.barcode.setFocus(Qt.FocusReason.OtherFocusReason)

    def focus_scanner(self) -> None:
        """After every action the scanner field has the focus again."""
        if self.isVisible():
            self.barcode.setFocus(Qt.FocusReason.OtherFocusReason)

    def _show_totals(self, totals) -> None:  # type: ignore[no-untyped-def]
        set_role(self.total_label, "")
        self.total_label.setText(f"Total : {format_cents(totals.total_cents)}")
        self.vat_label.setText(
            "   ".join(
                f"TVA {format_rate(v.rate_bp)} : {format_cents(v.vat_cents)}" for v in totals.vat
            )
        )

    def _say(self, text: str, error: bool = False) -> None:
        set_role(self.message, "error" if error else "status")
        self.message.setText(text)
        self._error = error

    def _succeeded(self) -> None:
        """An action went through: an earlier error no longer applies."""
        if self._error:
            self._say("")

    def _guard(self, action: Callable[[], None]) -> bool:
        try:
            action()
        except InvalidInput as exc:
            self._say(exc.message, error=True)
            return False
        finally:
            self.focus_scanner()
        return True

    # -- keys in the scanner field -------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Suppr and Échap act on the ticket from the scanner field (a line edit would
        otherwise keep them for itself) when nothing is being typed there."""
        if watched is self.barcode and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() == Qt.Key.Key_Escape:
                self.cancel_entry()
                return True
            if event.key() == Qt.Key.Key_Delete and not self.barcode.text():
                self.delete_line()
                return True
        return super().eventFilter(watched, event)

    def cancel_entry(self) -> None:
        """Échap: forget what is being typed and a quantity waiting for its item."""
        self.barcode.clear()
        self._set_pending(None)
        self._say("")

    def _typed(self, text: str) -> None:
        """« 24* » (or « 24× » on the keypad): the quantity waits for the next item."""
        if ends_with_times(text):
            self.scan()

    def _set_pending(self, quantity: Decimal | None) -> None:
        self.pending_quantity = quantity
        if quantity is None:
            self.quantity_label.hide()
            return
        self.quantity_label.setText(f"{_quantity_text(quantity)} ×")
        self.quantity_label.show()

    # -- scanning and adding --------------------------------------------------------------
    def scan(self) -> None:
        text = self.barcode.text()
        self.barcode.clear()
        if not text.strip():
            return
        try:
            entry = parse_entry(text)
        except InvalidInput as exc:
            self._say(exc.message, error=True)
            return
        if entry.quantity is not None:
            self._set_pending(entry.quantity)
            if not entry.code:
                self._say(
                    f"Quantité {_quantity_text(entry.quantity)} : scannez ou touchez l'article."
                )
                return
        if entry.code:
            self.scan_code(entry.code)

    def scan_code(self, code: str) -> None:
        """A code from the scanner field, or caught in the search field."""
        try:
            entry = parse_entry(code)
            if entry.quantity is not None:
                self._set_pending(entry.quantity)
            found: Scan = self.ctx.read(lambda s: lookup_barcode(s, entry.code))
            self._add_scan(found, from_label=found.product.weighed)
        except InvalidInput as exc:
            self._say(exc.message, error=True)
        self.focus_scanner()

    def search_enter(self) -> None:
        """Enter in the search box adds the only article found."""
        if not self.search.text().strip():
            self.focus_scanner()
            return
        products = self.picker.shown_products()
        if len(products) == 1:
            self.add_product(products[0])
            return
        if products:
            self._say(f"{len(products)} articles correspondent : touchez le bon.", error=True)
        else:
            self._say("Aucun article ne correspond à la recherche.", error=True)

    def add_product(self, product: ProductInfo) -> None:
        quantity = self.pending_quantity or Decimal(1)
        if product.weighed and self.pending_quantity is None:
            text, ok = QInputDialog.getText(
                self, "Article pesé", f"Poids de « {product.name} » en kg (ex. 0,350) :"
            )
            self.focus_scanner()
            if not ok:
                return
            try:
                quantity = to_decimal(text.replace(",", "."), "Poids")
            except InvalidInput as exc:
                self._say(exc.message, error=True)
                return
        self._guard(lambda: self._add_scan(Scan(product, quantity)))

    def _add_scan(self, found: Scan, *, from_label: bool = False) -> None:
        scan = found
        if self.pending_quantity is not None and not from_label:
            scan = Scan(found.product, self.pending_quantity)
        elif self.pending_quantity is not None:
            raise InvalidInput("Le poids d'un article pesé vient de l'étiquette de la balance.")
        price = None
        if scan.product.open_price:
            text, ok = QInputDialog.getText(
                self, "Prix libre", f"Prix de « {scan.product.name} » (TTC) :"
            )
            self.focus_scanner()
            if not ok:
                return
            price = parse_cents(text, "Prix")
        line = scan.line(price)
        before, after = self.model.prospective(line)
        self._confirm_unusual(before, after, lambda: self._commit_line(line))

    def _confirm_unusual(
        self, before: CartLine | None, after: CartLine, go: Callable[[], None]
    ) -> None:
        """Above the sane limits of app/sales, ask first; once confirmed, a line is not
        asked about again at each +1."""
        reason = unusual_line(after)
        if reason is None or (before is not None and unusual_line(before) is not None):
            go()
            return
        ask_confirmation(
            self,
            "Quantité inhabituelle",
            f"{reason}\n\nEst-ce bien ce qui est vendu ?",
            yes="Oui, ajouter",
            no="Non, corriger",
            then=lambda: self._guard(go),
            otherwise=self._declined,
        )

    def _declined(self) -> None:
        self._set_pending(None)
        self._say("Rien n'a été ajouté.")
        self.focus_scanner()

    def _commit_line(self, line: CartLine) -> None:
        row = self.model.add(line)
        self.table.selectRow(row)
        self._set_pending(None)
        self._say(f"{line.label} ajouté.")

    # -- editing the cart ----------------------------------------------------------------
    def _selected_line(self) -> int | None:
        row = self.table.selected_row()
        if row is not None and self.model.is_discount_row(row):
            self._say("Choisissez une ligne d'article.", error=True)
            return None
        return row

    def _step(self, step: int) -> None:
        row = self._selected_line()
        if row is None:
            self.focus_scanner()
            return
        line = self.model.cart.lines[row]
        if step > 0 and not line.weighed:
            try:
                after = dataclasses.replace(line, quantity=line.quantity + step)
            except InvalidInput as exc:
                self._say(exc.message, error=True)
                return
            self._confirm_unusual(line, after, lambda: self._stepped(row, step))
            return
        self._stepped(row, step)

    def _stepped(self, row: int, step: int) -> None:
        if self._guard(lambda: self.model.step_quantity(row, step)):
            self._succeeded()

    def delete_line(self) -> None:
        row = self.table.selected_row()
        if row is None:
            self.focus_scanner()
            return
        if self.model.is_discount_row(row):
            action = lambda: self.model.set_ticket_discount(None)  # noqa: E731
        else:
            action = lambda: self.model.remove(row)  # noqa: E731
        if self._guard(action):
            self._succeeded()

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
            return Discount.percent_of(to_decimal(text[:-1].strip().replace(",", "."), "Remise"))
        return Discount.amount(parse_cents(text, "Remise"))

    def line_discount(self) -> None:
        row = self.table.selected_row()
        if row is None:
            return
        if self.model.is_discount_row(row):
            self.ticket_discount()
            return

        def apply() -> None:
            discount = self._ask_discount("Remise sur la ligne")
            if discount is not False:
                self.model.set_line_discount(row, discount)  # type: ignore[arg-type]
                self._succeeded()

        self._guard(apply)

    def ticket_discount(self) -> None:
        def apply() -> None:
            discount = self._ask_discount("Remise sur le ticket")
            if discount is not False:
                self.model.set_ticket_discount(discount)  # type: ignore[arg-type]
                self._succeeded()

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
    @property
    def sale_key(self) -> str:
        """The card terminal's key for the ticket being rung up: a card payment accepted
        for it is never asked again, and is recorded with it."""
        if self._sale_key is None:
            self._sale_key = uuid.uuid4().hex
        return self._sale_key

    def make_payment_dialog(self) -> PaymentDialog:
        config = self.ctx.read(terminal_config)
        terminal = None
        if config is not None:
            terminal = CardTerminal(self.ctx, config, self.sale_key, self.model.cart)
        dialog = PaymentDialog(self.model.totals.total_cents, self, terminal)
        if terminal is not None:
            terminal.setParent(dialog)
        return dialog

    def pay(self) -> None:
        if self.model.cart.is_empty:
            self._say("Le ticket est vide.", error=True)
            return
        if not self.ctx.can(Permission.SELL):
            show_error(self, ComptoirError("Votre rôle ne permet pas d'encaisser."))
            return
        self.refresh_notice()
        # Every reason record_sale could refuse is asked now, before the customer pays.
        cart, operator = self.model.cart, self.ctx.operator_name
        refusal = self.ctx.read(lambda s: payment_refusal(s, cart, operator))
        if refusal is not None:
            self._say(refusal, error=True)
            return
        opened_on = self.ctx.read(ledger_today)
        dialog = self.make_payment_dialog()
        dialog.finished.connect(lambda _result: self.focus_scanner())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.record(dialog.payments, opened_on=opened_on))
        dialog.open()

    def record(self, payments, *, opened_on: date | None = None) -> Recorded | None:  # type: ignore[no-untyped-def]
        """``opened_on``: the day the payment dialog opened (see ``record_sale``)."""
        cart = self.model.cart
        key = self.sale_key
        # The day changed while the customer paid: say which closures record_sale made.
        due = self.ctx.read(pending_closures) if opened_on is not None else []
        record = self.ctx.write(
            self,
            lambda s: record_sale_with_cards(
                s, cart, payments, self.ctx.operator_name, sale_key=key, opened_on=opened_on
            ),
        )
        if record is not None:
            self._sale_key = None
            change = record.body["change"]
            self.model.clear()
            self.last_number = record.number
            suffix = f" — rendu monnaie : {format_cents(change)}" if change else ""
            made = "".join(f" Clôture automatique : {p.label}." for p in due)
            self._say(f"Ticket {record.doc_number} enregistré{suffix}.{made}")
            if change:  # large, where the total was, until the next sale starts
                set_role(self.total_label, "change")
                self.total_label.setText(f"À rendre : {format_cents(change)}")
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
            if duplicate:  # asked for at the counter: seen on screen, printable anywhere
                show_pdf(out.pdf, f"Ticket n°{number}", said=f"{what} {where}", parent=self)
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


def _quantity_text(quantity: Decimal) -> str:
    text = format(quantity.normalize(), "f")
    return text.replace(".", ",")
