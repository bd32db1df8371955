"""Cancel a recorded ticket, or refund some of its lines: a counter-entry that references
the original, authorised by a manager's PIN."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.errors import ComptoirError, InvalidInput
from app.ledger.journal import Recorded
from app.sales.payments import PaymentMethod
from app.sales.service import cancel_ticket, get_ticket, refund_lines, refundable
from app.sales.terminal.pending import attach_to_ticket
from app.staff.service import check_manager_pin
from app.ui.context import AppContext
from app.ui.till.card_refund import refund_lines_on_terminal, refund_on_terminal
from app.values.money import format_cents


class CorrectionDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.recorded: Recorded | None = None
        self.setWindowTitle("Annuler ou rembourser un ticket")
        self.setObjectName("correctionDialog")
        self.number = QSpinBox()
        self.number.setObjectName("ticketNumber")
        self.number.setRange(1, 10**9)
        self.number.valueChanged.connect(self.load)
        self.lines = QListWidget()
        self.lines.setObjectName("ticketLines")
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        self.method = QComboBox()
        self.method.setObjectName("refundMethod")
        self.method.setMinimumHeight(44)
        for method in PaymentMethod:
            self.method.addItem(method.label, method.value)
        self.method.setToolTip(
            "Comment le client est remboursé ; l'annulation d'un ticket entier rembourse "
            "par les moyens de paiement du ticket."
        )
        self.pin = QLineEdit()
        self.pin.setObjectName("managerPin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel()
        self.error.setObjectName("correctionError")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        cancel_all = QPushButton("Annuler tout le ticket")
        cancel_all.setObjectName("cancelTicket")
        cancel_all.setProperty("role", "danger")
        cancel_all.clicked.connect(lambda: self.apply(whole=True))
        refund = QPushButton("Rembourser les lignes cochées")
        refund.setObjectName("refundLines")
        refund.clicked.connect(lambda: self.apply(whole=False))
        close = QPushButton("Fermer")
        close.clicked.connect(self.reject)
        form = QFormLayout()
        form.addRow("Ticket n°", self.number)
        form.addRow("Motif", self.reason)
        form.addRow("Remboursé en", self.method)
        form.addRow("PIN du gérant", self.pin)
        buttons = QHBoxLayout()
        for button in (close, refund, cancel_all):
            button.setMinimumHeight(44)
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.lines, 1)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.load()

    def load(self) -> None:
        self.lines.clear()
        self.error.clear()
        number = self.number.value()
        try:
            ticket, left = self.ctx.read(lambda s: (t := get_ticket(s, number), refundable(s, t)))
        except InvalidInput as exc:
            self.error.setText(exc.message)
            return
        for line, (qty, amount) in zip(ticket.body["lines"], left, strict=True):
            item = QListWidgetItem(
                f"{line['label']} — reste {str(qty).replace('.', ',')} ({format_cents(amount)})"
            )
            flags = item.flags() | Qt.ItemFlag.ItemIsUserCheckable
            item.setFlags(flags if qty > 0 else flags & ~Qt.ItemFlag.ItemIsEnabled)
            item.setCheckState(Qt.CheckState.Unchecked)
            item.setData(Qt.ItemDataRole.UserRole, str(qty))
            self.lines.addItem(item)

    def apply(self, *, whole: bool) -> None:
        number, reason, pin = self.number.value(), self.reason.text(), self.pin.text()
        method = PaymentMethod(self.method.currentData())
        items = [
            (i, self.lines.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.lines.count())
            if self.lines.item(i).checkState() == Qt.CheckState.Checked
        ]

        credit: str | None = None  # the card credit this cancellation is recorded with

        def action(session: Session) -> Recorded:
            manager = check_manager_pin(session, pin)
            if whole:
                recorded = cancel_ticket(session, number, operator=manager.name, reason=reason)
                if credit is not None:
                    attach_to_ticket(session, credit, recorded)
                return recorded
            recorded = refund_lines(
                session, number, items, method=method, operator=manager.name, reason=reason
            )
            if credit is not None:
                attach_to_ticket(session, credit, recorded)
            return recorded

        try:
            if whole:
                manager = self.ctx.read(lambda s: check_manager_pin(s, pin)).name
                credited, credit = refund_on_terminal(
                    self.ctx, self, number, manager=manager, reason=reason
                )
                if not credited:
                    return
            elif method is PaymentMethod.CARD:  # the card is credited first, for that amount
                manager = self.ctx.read(lambda s: check_manager_pin(s, pin)).name
                credited, credit = refund_lines_on_terminal(
                    self.ctx, self, number, items, manager=manager, reason=reason
                )
                if not credited:
                    return
            with self.ctx.ledger.transaction() as session:
                self.recorded = action(session)
        except ComptoirError as exc:
            self.error.setText(exc.message)
            return
        self.ctx.ledger_changed.emit()
        self.accept()
