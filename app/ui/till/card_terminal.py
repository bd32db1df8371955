"""Card payments through the terminal for one sale, off the GUI thread.

The transaction is journaled (committed) before the amount is sent, the terminal's answer
as soon as it comes; the payment dialog only hears "approved" (a Payment carrying the
authorisation number) or "failed" (why, in French)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.errors import ComptoirError
from app.sales.cart import Cart
from app.sales.payments import Payment
from app.sales.terminal import pending
from app.sales.terminal.protocol import (
    Answer,
    Exchange,
    TerminalConfig,
    TerminalError,
    TerminalLost,
)
from app.ui.context import AppContext
from app.values.money import format_cents

log = logging.getLogger(__name__)


def ask_outcome(parent: QWidget | None, attempt: pending.CardAttempt) -> bool | None:
    """Ask the cashier what the terminal shows for a transaction left without answer:
    True accepted, False not charged, None not known yet."""
    box = QMessageBox(parent)
    box.setWindowTitle("Terminal de paiement")
    box.setIcon(QMessageBox.Icon.Question)
    box.setText(
        f"La transaction par carte de {format_cents(attempt.amount_cents)} "
        f"({attempt.created_at[11:19]} UTC) est restée sans réponse du terminal.\n\n"
        "Regardez l'écran ou le dernier ticket du terminal : a-t-elle été acceptée ?"
    )
    accepted = box.addButton("Oui, acceptée", QMessageBox.ButtonRole.YesRole)
    refused = box.addButton("Non, rien n'a été encaissé", QMessageBox.ButtonRole.NoRole)
    box.addButton("Je ne sais pas encore", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    clicked = box.clickedButton()
    return True if clicked is accepted else False if clicked is refused else None


class CardTerminal(QObject):
    approved = Signal(object)  # Payment
    failed = Signal(str)
    # From the exchange's thread to the GUI thread (a queued connection): the answer is
    # taken the moment it arrives, with the customer waiting at the counter.
    _finished = Signal(object, object)  # Answer | None, BaseException | None

    def __init__(
        self,
        ctx: AppContext,
        config: TerminalConfig,
        sale_key: str,
        cart: Cart | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.config = config
        self.sale_key = sale_key
        self.cart = cart
        self.ask: Callable[[QWidget | None, pending.CardAttempt], bool | None] = ask_outcome
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._exchange: Exchange | None = None
        self._attempt: pending.CardAttempt | None = None

    @property
    def busy(self) -> bool:
        return self._exchange is not None

    def approved_payments(self) -> list[Payment]:
        """Payments the terminal accepted for this sale that no ticket records yet."""
        return [
            a.payment for a in self.ctx.read(lambda s: pending.approved_for_sale(s, self.sale_key))
        ]

    def start(
        self,
        amount_cents: int,
        given: Sequence[Payment] = (),
        *,
        credit: bool = False,
        cancels: tuple[int, str] | None = None,
        refunds: tuple[int, Sequence[tuple[int, str]], str] | None = None,
    ) -> bool:
        """Send the amount; False when nothing was sent (the reason is emitted)."""
        if self.busy:
            return False
        operator = self.ctx.operator_name
        try:
            with self.ctx.ledger.transaction() as session:
                attempt = pending.begin(
                    session,
                    sale_key=self.sale_key,
                    amount_cents=amount_cents,
                    operator=operator,
                    cart=self.cart,
                    payments=given,
                    credit=credit,
                    cancels=cancels,
                    refunds=refunds,
                )
        except pending.UnsettledCard as unsettled:
            self._settle_earlier(unsettled.attempt)
            return False
        except ComptoirError as error:
            self.failed.emit(error.message)
            return False
        self._attempt = attempt
        exchange = self._exchange = Exchange(self.config)
        threading.Thread(
            target=self._run, args=(exchange, amount_cents, credit), name="card-terminal",
            daemon=True,
        ).start()  # fmt: skip
        return True

    def _run(self, exchange: Exchange, amount_cents: int, credit: bool) -> None:
        try:
            outcome: tuple[Answer | None, BaseException | None] = (
                exchange.pay(amount_cents, credit=credit),
                None,
            )
        except BaseException as error:
            outcome = (None, error)
        try:
            self._finished.emit(*outcome)
        except RuntimeError:  # the window went away; the journal keeps the transaction
            log.warning("card terminal answer after its window closed: %r", outcome)

    def _deliver(self, answer: Answer | None, error: BaseException | None) -> None:
        if answer is not None:
            self._answered(answer)
        else:
            assert error is not None
            self._lost(error)

    def cancel(self) -> None:
        if self._exchange is not None:
            self._exchange.cancel()

    def _settle_earlier(self, attempt: pending.CardAttempt) -> None:
        """An earlier transaction of this sale has no answer: never send a second one
        before the cashier says whether the first was charged."""
        outcome = self.ask(self.parent(), attempt)  # type: ignore[arg-type]
        if outcome is None:
            self.failed.emit(
                "La transaction précédente est sans réponse du terminal : vérifiez-la "
                "avant d'en envoyer une autre."
            )
            return
        try:
            with self.ctx.ledger.transaction() as session:
                settled = pending.confirm(
                    session, attempt.id, approved=outcome, operator=self.ctx.operator_name
                )
        except ComptoirError as error:
            self.failed.emit(error.message)
            return
        self.ctx.ledger_changed.emit()
        if outcome:
            self.approved.emit(settled.payment)
        else:
            self.failed.emit("Transaction précédente non encaissée : vous pouvez recommencer.")

    def _answered(self, answer: Answer) -> None:
        attempt, self._exchange = self._attempt, None
        assert attempt is not None
        with self.ctx.ledger.transaction() as session:
            kept = pending.record_answer(session, attempt.id, answer)
        if kept.state == pending.APPROVED:
            self.approved.emit(kept.payment)
        else:
            self.failed.emit(
                f"Carte : {kept.reason}. Le paiement de {format_cents(kept.amount_cents)} "
                "n'est pas enregistré."
            )

    def _lost(self, error: BaseException) -> None:
        attempt, self._exchange = self._attempt, None
        assert attempt is not None
        message = error.message if isinstance(error, ComptoirError) else repr(error)
        with self.ctx.ledger.transaction() as session:
            if isinstance(error, TerminalLost) or not isinstance(error, TerminalError):
                pending.mark_unknown(session, attempt.id, message)
            else:
                pending.mark_not_sent(session, attempt.id, message)
        self.failed.emit(message)

    def shutdown(self) -> None:
        self.cancel()
