"""At start, the card transactions an interruption left without a ticket, settled with the
cashier: what the terminal shows for one left without answer, then either the ticket is
recorded with the accepted payment, or the customer is paid back on the terminal."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import ComptoirError
from app.sales.terminal import pending
from app.sales.terminal.settings import terminal_config
from app.ui.context import AppContext
from app.ui.till.card_terminal import CardTerminal
from app.values.money import format_cents


def describe(attempt: pending.CardAttempt) -> str:
    when = f"{attempt.created_at[:10]} {attempt.created_at[11:19]} UTC"
    if attempt.state == pending.APPROVED:
        state = f"acceptée par le terminal (autorisation {attempt.authorisation}), sans ticket"
    else:
        state = "restée sans réponse du terminal"
    cancels, refunds = attempt.payload.get("cancels"), attempt.payload.get("refunds")
    what = f" (annulation du ticket n°{cancels['number']})" if cancels else ""
    if refunds:
        what = f" (remboursement partiel du ticket n°{refunds['number']})"
    return f"n°{attempt.id} — {attempt.summary}{what}, {when} ({attempt.operator}) : {state}"


class CardSettlementDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Paiements par carte interrompus")
        self.setObjectName("cardSettlement")
        self.setMinimumWidth(760)
        self.attempts: list[pending.CardAttempt] = []
        self.refund: CardTerminal | None = None
        intro = QLabel(
            "La caisse s'est arrêtée pendant un paiement par carte. Pour chaque transaction, "
            "dites ce que montre le terminal, puis enregistrez le ticket ou remboursez le "
            "client : un paiement n'est ainsi ni perdu ni encaissé deux fois."
        )
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("cardAttempts")
        self.list.currentRowChanged.connect(self._selected)
        self.message = QLabel()
        self.message.setObjectName("settlementMessage")
        self.message.setWordWrap(True)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for name, text, action in (
            ("accepted", "Le terminal l'a acceptée", lambda: self.confirm(True)),
            ("notCharged", "Rien n'a été encaissé", lambda: self.confirm(False)),
            ("record", "Enregistrer le ticket", self.record),
            ("refund", "Rembourser sur le terminal", self.refund_on_terminal),
            ("later", "Plus tard", self.reject),
        ):
            button = QPushButton(text)
            button.setObjectName(f"settle_{name}")
            button.setMinimumHeight(48)
            button.clicked.connect(action)
            row.addWidget(button)
            self.buttons[name] = button
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.message)
        layout.addLayout(row)
        self.reload()

    @property
    def current(self) -> pending.CardAttempt | None:
        row = self.list.currentRow()
        return self.attempts[row] if 0 <= row < len(self.attempts) else None

    def reload(self) -> None:
        self.attempts = self.ctx.read(pending.unsettled)
        self.list.clear()
        self.list.addItems([describe(a) for a in self.attempts])
        if self.attempts:
            self.list.setCurrentRow(0)
        else:
            self.message.setText("Plus aucune transaction en suspens.")
            self._selected(-1)

    def _selected(self, _row: int) -> None:
        attempt = self.current
        answered = attempt is not None and attempt.state == pending.APPROVED
        busy = self.refund is not None and self.refund.busy
        self.buttons["accepted"].setEnabled(attempt is not None and not answered and not busy)
        self.buttons["notCharged"].setEnabled(attempt is not None and not answered and not busy)
        debit = attempt is not None and attempt.kind == "debit"
        cancels = attempt is not None and bool(
            attempt.payload.get("cancels") or attempt.payload.get("refunds")
        )
        self.buttons["record"].setEnabled(answered and (debit or cancels) and not busy)
        self.buttons["refund"].setEnabled(answered and debit and not busy)

    def _do(self, action, said: str) -> bool:  # type: ignore[no-untyped-def]
        try:
            with self.ctx.ledger.transaction() as session:
                result = action(session)
        except ComptoirError as error:
            self.message.setText(error.message)
            return False
        self.ctx.ledger_changed.emit()
        self.reload()
        self.message.setText(said.format(result=result))
        return True

    def confirm(self, approved: bool) -> None:
        attempt, operator = self.current, self.ctx.operator_name
        if attempt is None:
            return
        said = (
            "Transaction notée acceptée : enregistrez le ticket ou remboursez le client."
            if approved
            else "Transaction notée non encaissée."
        )
        self._do(
            lambda s: pending.confirm(s, attempt.id, approved=approved, operator=operator), said
        )

    def record(self) -> None:
        attempt, operator = self.current, self.ctx.operator_name
        if attempt is not None:
            self._do(
                lambda s: pending.record_leftover(s, attempt.id, operator=operator).doc_number,
                "Ticket {result} enregistré avec le paiement par carte.",
            )

    def refund_on_terminal(self) -> None:
        attempt, operator = self.current, self.ctx.operator_name
        if attempt is None:
            return
        with self.ctx.ledger.transaction() as session:
            done = pending.refunded_already(session, attempt.id, operator=operator)
        if done:  # a credit confirmed earlier: never pay back twice
            self.ctx.ledger_changed.emit()
            self.reload()
            self.message.setText("Déjà remboursée sur le terminal.")
            return
        config = self.ctx.read(terminal_config)
        if config is None:
            self.message.setText("Aucun terminal de paiement n'est réglé (Réglages).")
            return
        refund = self.refund = CardTerminal(
            self.ctx, config, pending.refund_key(attempt.id), None, self
        )
        refund.approved.connect(lambda payment: self._refunded(attempt, payment.reference))
        refund.failed.connect(self._refund_failed)
        if refund.start(attempt.amount_cents, credit=True):
            self.message.setText(
                f"Remboursement de {format_cents(attempt.amount_cents)} : "
                "présentez la carte du client au terminal…"
            )
        self._selected(self.list.currentRow())

    def _refunded(self, attempt: pending.CardAttempt, authorisation: str) -> None:
        operator = self.ctx.operator_name
        self._do(
            lambda s: pending.mark_refunded(s, attempt.id, authorisation, operator=operator),
            f"Remboursé sur le terminal (autorisation {authorisation}).",
        )

    def _refund_failed(self, message: str) -> None:
        self.message.setText(message)
        self._selected(self.list.currentRow())


def offer_card_settlement(parent: QWidget, ctx: AppContext) -> CardSettlementDialog | None:
    """Open the settlement when an interruption left card transactions behind."""
    if not ctx.read(pending.unsettled):
        return None
    dialog = CardSettlementDialog(ctx, parent)
    dialog.open()
    return dialog
