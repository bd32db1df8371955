"""Taking payment: several methods on one ticket, a notes-and-coins pad, change on cash.

The ticket is recorded by the caller only once the dialog is accepted, i.e. fully paid.
With a card terminal set in Réglages, « Carte » sends the amount to it and waits
(« Présentez la carte… »); only an approved answer adds the payment, and a card payment
the terminal accepted stays on the ticket.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import InvalidInput
from app.sales.payments import Payment, PaymentMethod, Settlement, settle
from app.ui.till.card_terminal import CardTerminal
from app.values.money import format_cents, parse_cents

NOTES_AND_COINS = (10000, 5000, 2000, 1000, 500, 200, 100, 50)
METHOD_KEYS = {
    PaymentMethod.CASH: "F1",
    PaymentMethod.CARD: "F2",
    PaymentMethod.CHEQUE: "F3",
    PaymentMethod.VOUCHER: "F4",
}


class PaymentDialog(QDialog):
    def __init__(
        self,
        total_cents: int,
        parent: QWidget | None = None,
        terminal: CardTerminal | None = None,
    ) -> None:
        super().__init__(parent)
        self.terminal = terminal
        self.setWindowTitle("Encaissement")
        self.setObjectName("paymentDialog")
        self.total = total_cents
        self.payments: list[Payment] = []
        self.settlement: Settlement | None = None

        self.total_label = QLabel(f"À payer : {format_cents(total_cents)}")
        self.total_label.setObjectName("paymentTotal")
        self.remaining_label = QLabel()
        self.remaining_label.setObjectName("remaining")
        self.change_label = QLabel()
        self.change_label.setObjectName("change")
        self.error_label = QLabel()
        self.error_label.setObjectName("paymentError")
        self.error_label.setProperty("role", "error")
        self.error_label.setWordWrap(True)
        self.amount = QLineEdit()
        self.amount.setObjectName("amount")
        self.amount.setPlaceholderText("Montant (vide = le reste)")
        self.amount.setMinimumHeight(40)
        self.list = QListWidget()
        self.list.setObjectName("paymentList")

        methods = QHBoxLayout()
        self.method_buttons: dict[PaymentMethod, QPushButton] = {}
        for method, key in METHOD_KEYS.items():
            button = QPushButton(f"{method.label}\n({key})")
            button.setObjectName(f"pay_{method.value}")
            button.setMinimumSize(130, 64)
            button.clicked.connect(lambda _=False, m=method: self.add_payment(m))
            QShortcut(QKeySequence(key), self, activated=lambda m=method: self.add_payment(m))
            methods.addWidget(button)
            self.method_buttons[method] = button

        pad = QGridLayout()
        self.pad_buttons: list[QPushButton] = []
        for i, cents in enumerate(NOTES_AND_COINS):
            button = QPushButton(format_cents(cents).replace(",00", ""))
            button.setObjectName(f"cash_{cents}")
            button.setMinimumSize(90, 52)
            button.clicked.connect(lambda _=False, c=cents: self.add_cash(c))
            pad.addWidget(button, i // 4, i % 4)
            self.pad_buttons.append(button)
        exact = QPushButton("Espèces : compte juste")
        exact.setObjectName("cash_exact")
        exact.clicked.connect(lambda: self.add_cash(self.remaining))
        pad.addWidget(exact, 2, 0, 1, 2)
        undo = QPushButton("Retirer le dernier paiement")
        undo.setObjectName("undoPayment")
        undo.clicked.connect(self.remove_last)
        pad.addWidget(undo, 2, 2, 1, 2)
        self.pad_buttons += [exact, undo]

        self.ok_button = QPushButton("Valider le ticket (Entrée)")
        self.ok_button.setObjectName("validatePayment")
        self.ok_button.setProperty("role", "primary")
        self.ok_button.setMinimumHeight(56)
        self.ok_button.clicked.connect(self.accept)
        self.ok_button.setDefault(True)
        cancel = QPushButton("Revenir au ticket (Échap)")
        cancel.clicked.connect(self.reject)
        self.back_button = cancel
        self.card_panel = QWidget()
        self.card_panel.setObjectName("cardPanel")
        self.card_panel.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)  # its colour
        self.card_label = QLabel()
        self.card_label.setObjectName("cardWaiting")
        self.card_cancel = QPushButton("Annuler")
        self.card_cancel.setObjectName("cardCancel")
        self.card_cancel.setMinimumSize(130, 52)
        self.card_cancel.clicked.connect(self.cancel_card)
        panel = QHBoxLayout(self.card_panel)
        panel.addWidget(self.card_label, 1)
        panel.addWidget(self.card_cancel)
        self.card_panel.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(cancel)
        buttons.addWidget(self.ok_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.total_label)
        layout.addWidget(self.card_panel)
        layout.addWidget(self.remaining_label)
        layout.addWidget(self.amount)
        layout.addLayout(methods)
        layout.addLayout(pad)
        layout.addWidget(self.list)
        layout.addWidget(self.change_label)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        if terminal is not None:
            terminal.approved.connect(self._card_approved)
            terminal.failed.connect(self._card_failed)
            for payment in terminal.approved_payments():  # accepted before, not yet on a ticket
                self._add(payment)
        self._update()

    @property
    def paid(self) -> int:
        return sum(p.amount_cents for p in self.payments)

    @property
    def remaining(self) -> int:
        return max(self.total - self.paid, 0)

    def add_cash(self, cents: int) -> None:
        if cents > 0 and not self.waiting_for_card:
            self._add(Payment(PaymentMethod.CASH, cents))

    def add_payment(self, method: PaymentMethod) -> None:
        if self.waiting_for_card:  # F1…F4 while the terminal has the customer's card
            return
        text = self.amount.text().strip()
        try:
            cents = parse_cents(text, "Montant") if text else self.remaining
            if cents <= 0:
                raise InvalidInput("Le ticket est déjà entièrement payé.")
            if method is not PaymentMethod.CASH and cents > self.remaining:
                raise InvalidInput(
                    f"{method.label} : pas plus que le reste dû ({format_cents(self.remaining)});"
                    " seules les espèces rendent la monnaie."
                )
            if method is PaymentMethod.CARD and self.terminal is not None:
                self._send_to_terminal(cents)
                return
            self._add(Payment(method, cents))
        except InvalidInput as exc:
            self.error_label.setText(exc.message)
            return
        self.amount.clear()

    def _add(self, payment: Payment) -> None:
        self.payments.append(payment)
        self.list.addItem(f"{payment.method.label} : {format_cents(payment.amount_cents)}")
        self.error_label.clear()
        self._update()

    # -- the card terminal -----------------------------------------------------------------
    def _send_to_terminal(self, cents: int) -> None:
        assert self.terminal is not None
        if self.terminal.busy:
            return
        self.error_label.clear()
        self.card_label.setText(f"Présentez la carte… ({format_cents(cents)})")
        self._waiting(True)
        if not self.terminal.start(cents, self.payments):
            self._waiting(False)
        self.amount.clear()

    def cancel_card(self) -> None:
        if self.terminal is not None:
            self.card_label.setText("Annulation…")
            self.terminal.cancel()

    def _waiting(self, waiting: bool) -> None:
        self.card_panel.setVisible(waiting)
        for widget in (
            *self.method_buttons.values(), *self.pad_buttons, self.amount, self.ok_button,
            self.back_button,
        ):  # fmt: skip
            widget.setEnabled(not waiting)
        if not waiting:
            self._update()

    def _card_approved(self, payment: Payment) -> None:
        self._waiting(False)
        self._add(payment)

    def _card_failed(self, message: str) -> None:
        self._waiting(False)
        self.error_label.setText(message)

    @property
    def waiting_for_card(self) -> bool:
        return self.terminal is not None and self.terminal.busy

    def reject(self) -> None:
        if self.waiting_for_card:
            self.error_label.setText("Attendez la réponse du terminal, ou annulez-la.")
            return
        super().reject()

    def remove_last(self) -> None:
        if self.payments and self.payments[-1].reference:
            self.error_label.setText(
                "Ce paiement par carte a été accepté par le terminal : il reste sur le ticket."
            )
            return
        if self.payments:
            self.payments.pop()
            self.list.takeItem(self.list.count() - 1)
            self._update()

    def _update(self) -> None:
        try:
            self.settlement = settle(self.total, self.payments) if self.paid >= self.total else None
        except InvalidInput as exc:
            self.settlement = None
            self.error_label.setText(exc.message)
        self.remaining_label.setText(f"Reste dû : {format_cents(self.remaining)}")
        change = self.settlement.change_cents if self.settlement else 0
        self.change_label.setText(f"Rendu monnaie : {format_cents(change)}" if change else "")
        self.ok_button.setEnabled(self.settlement is not None)
        self.amount.setFocus(Qt.FocusReason.OtherFocusReason)

    def accept(self) -> None:
        if self.waiting_for_card:
            return
        if self.settlement is None:
            self.error_label.setText("Le ticket n'est pas entièrement payé.")
            return
        super().accept()
