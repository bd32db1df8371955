"""A cancelled ticket paid by card is paid back by a credit on the terminal before the
cancellation is recorded: the customer's card is credited first, and the credit is
journaled with the ticket it cancels, so that an interruption in between is settled at
the next start by recording the cancellation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.sales.service import Ticket, check_cancellation, plan_refund
from app.sales.terminal.settings import terminal_config
from app.ui.context import AppContext
from app.ui.till.card_terminal import CardTerminal
from app.values.money import format_cents


def card_part(ticket: Ticket) -> int:
    """What the ticket took by card (its cancellation gives it back the same way)."""
    return sum(p["amount"] for p in ticket.body["payments"] if p["method"] == "card")


class CardRefundDialog(QDialog):
    def __init__(
        self,
        ctx: AppContext,
        number: int,
        reason: str,
        cents: int,
        parent: QWidget | None,
        items: Sequence[tuple[int, str]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Remboursement par carte")
        self.setObjectName("cardRefund")
        self.sale_key = f"cancel-{number}-{uuid.uuid4().hex[:16]}"
        config = ctx.read(terminal_config)
        assert config is not None
        self.terminal = CardTerminal(ctx, config, self.sale_key, None, self)
        self.label = QLabel(
            f"Remboursement de {format_cents(cents)} sur la carte du client : "
            "présentez la carte au terminal…"
        )
        self.label.setObjectName("cardRefundWaiting")
        self.label.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("cardRefundError")
        self.error.setWordWrap(True)
        self.error.setProperty("role", "error")
        self.cancel_button = QPushButton("Annuler")
        self.cancel_button.setObjectName("cardRefundCancel")
        self.cancel_button.setMinimumHeight(48)
        self.cancel_button.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.error)
        layout.addLayout(row)
        self.terminal.approved.connect(lambda _payment: self.accept())
        self.terminal.failed.connect(self._failed)
        self.cents, self.cancels = cents, (number, reason)
        # A partial refund (lines and quantities) rather than the whole ticket's cancellation
        self.refunds = (number, list(items), reason) if items is not None else None

    def start(self) -> None:
        if self.refunds is not None:
            self.terminal.start(self.cents, credit=True, refunds=self.refunds)
        else:
            self.terminal.start(self.cents, credit=True, cancels=self.cancels)

    def _failed(self, message: str) -> None:
        self.label.setText("Le remboursement par carte n'a pas été fait.")
        self.error.setText(message)
        self.cancel_button.setText("Fermer")

    def reject(self) -> None:
        if self.terminal.busy:  # stop waiting first; the answer (or its absence) is kept
            self.terminal.cancel()
            return
        super().reject()


def refund_on_terminal(
    ctx: AppContext, parent: QWidget, number: int, *, manager: str, reason: str
) -> tuple[bool, str | None]:
    """(go on?, the credit's sale key) before ``manager`` cancels ticket ``number``: with a
    card part and a terminal set, the card is credited first, once the cancellation is
    known to be accepted; False when the card was not credited."""
    if ctx.read(terminal_config) is None:
        return True, None
    ticket = ctx.read(lambda s: check_cancellation(s, number, operator=manager, reason=reason))
    cents = card_part(ticket)
    if cents <= 0:
        return True, None
    dialog = CardRefundDialog(ctx, number, reason, cents, parent)
    dialog.start()
    return dialog.exec() == QDialog.DialogCode.Accepted, dialog.sale_key


def refund_lines_on_terminal(
    ctx: AppContext,
    parent: QWidget,
    number: int,
    items: Sequence[tuple[int, str]],
    *,
    manager: str,
    reason: str,
) -> tuple[bool, str | None]:
    """(go on?, the credit's sale key) before ``manager`` refunds lines of ticket ``number``
    by card: with a terminal set, the card is credited first with exactly what the refund
    will record; False when the card was not credited."""
    if ctx.read(terminal_config) is None:
        return True, None
    plan = ctx.read(lambda s: plan_refund(s, number, items, operator=manager, reason=reason))
    dialog = CardRefundDialog(ctx, number, reason, plan.cents, parent, items=items)
    dialog.start()
    return dialog.exec() == QDialog.DialogCode.Accepted, dialog.sale_key
