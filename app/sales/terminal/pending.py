"""Card transactions journaled around the terminal, so that none is lost or taken twice.

1. ``begin`` writes the transaction ("sent") and the cart, and is committed before the
   amount goes to the terminal;
2. ``record_answer`` keeps the terminal's answer ("approved" / "refused") or
   ``mark_unknown`` says none came ("unknown": the cashier must check the terminal);
3. ``attach_to_ticket`` marks the approved ones "recorded", in the same database
   transaction as the ticket that records them.

A sale is identified by its ``sale_key`` (one per ticket being rung up): a new card
transaction is refused while an earlier one of the same sale is unresolved, and an
approved one is handed back to the payment screen instead of being asked again. What a
crash leaves behind ("sent", "unknown", "approved") is listed by ``unsettled`` at the
next start and settled with the cashier: ``confirm`` (what the terminal shows), then
``record_leftover`` (the ticket is recorded with the card payment) or ``mark_refunded``
(the customer was paid back by a credit on the terminal). Each settlement is journaled.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.ledger import canonical
from app.ledger.events import EventCode, log_event
from app.ledger.journal import Recorded
from app.ledger.store import ledger_of
from app.sales.cart import Cart
from app.sales.parking import cart_from_payload, cart_payload
from app.sales.payments import Payment, PaymentMethod
from app.sales.service import cancel_ticket, record_sale, refund_lines
from app.sales.terminal.models import CardTransaction
from app.sales.terminal.protocol import Answer
from app.values.money import format_cents

SENT, APPROVED, REFUSED, UNKNOWN = "sent", "approved", "refused", "unknown"
RECORDED, REFUNDED = "recorded", "refunded"
UNSETTLED = (SENT, UNKNOWN, APPROVED)
REFUND_PREFIX = "refund-"


class UnsettledCard(InvalidInput):
    """An earlier card transaction of the same sale has an unknown outcome."""

    def __init__(self, message: str, attempt: CardAttempt) -> None:
        super().__init__(message)
        self.attempt = attempt


@dataclass(frozen=True)
class CardAttempt:
    id: int
    sale_key: str
    kind: str
    amount_cents: int
    state: str
    authorisation: str
    card: str
    reason: str
    operator: str
    created_at: str
    ticket_number: int | None
    payload: dict[str, Any]

    @property
    def payment(self) -> Payment:
        sign = -1 if self.kind == "credit" else 1
        return Payment(PaymentMethod.CARD, sign * self.amount_cents, self.authorisation)

    @property
    def summary(self) -> str:
        what = "Remboursement" if self.kind == "credit" else "Paiement"
        lines = len(self.payload.get("cart", {}).get("lines", []))
        cart = f", ticket de {lines} article(s)" if lines else ""
        return f"{what} par carte de {format_cents(self.amount_cents)}{cart}"


def _attempt(row: CardTransaction) -> CardAttempt:
    return CardAttempt(
        row.id,
        row.sale_key,
        row.kind,
        row.amount_cents,
        row.state,
        row.authorisation,
        row.card,
        row.reason,
        row.operator,
        row.created_at,
        row.ticket_number,
        json.loads(row.payload),
    )


def _now(session: Session) -> str:
    return canonical.format_ts(ledger_of(session).clock())


def _row(session: Session, attempt_id: int) -> CardTransaction:
    row = session.get(CardTransaction, attempt_id)
    if row is None:
        raise InvalidInput("Cette transaction par carte n'existe pas.")
    return row


def _of_sale(session: Session, sale_key: str, *states: str) -> list[CardTransaction]:
    return list(
        session.scalars(
            select(CardTransaction)
            .where(CardTransaction.sale_key == sale_key, CardTransaction.state.in_(states))
            .order_by(CardTransaction.id)
        )
    )


def begin(
    session: Session,
    *,
    sale_key: str,
    amount_cents: int,
    operator: str,
    cart: Cart | None = None,
    payments: Sequence[Payment] = (),
    credit: bool = False,
    cancels: tuple[int, str] | None = None,
    refunds: tuple[int, Sequence[tuple[int, str]], str] | None = None,
) -> CardAttempt:
    """Journal a transaction about to be sent; the caller commits before sending it.

    ``cancels`` (ticket number, reason): a credit that pays back a ticket being cancelled,
    so that the cancellation can be recorded after an interruption; ``refunds`` (ticket
    number, (line, quantity) pairs, reason): the same for a partial refund."""
    if not sale_key or len(sale_key) > 36:
        raise InvalidInput("Transaction par carte sans identifiant de vente.")
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise InvalidInput("Montant invalide pour le terminal de paiement.")
    for row in _of_sale(session, sale_key, SENT, UNKNOWN):
        attempt = _attempt(row)
        raise UnsettledCard(
            f"Une transaction précédente de {format_cents(row.amount_cents)} pour ce ticket "
            "n'a pas eu de réponse du terminal : dites d'abord si le terminal l'a acceptée.",
            attempt,
        )
    payload = {
        "cart": cart_payload(cart) if cart is not None else None,
        "payments": [
            {"method": p.method.value, "amount": p.amount_cents, "reference": p.reference}
            for p in payments
        ],
    }
    if cancels is not None:
        payload["cancels"] = {"number": cancels[0], "reason": cancels[1]}
    if refunds is not None:
        number, items, reason = refunds
        payload["refunds"] = {
            "number": number,
            "items": [[index, str(qty)] for index, qty in items],
            "reason": reason,
        }
    now = _now(session)
    row = CardTransaction(
        sale_key=sale_key,
        kind="credit" if credit else "debit",
        amount_cents=amount_cents,
        state=SENT,
        authorisation="",
        card="",
        reason="",
        operator=operator,
        created_at=now,
        updated_at=now,
        ticket_number=None,
        payload=json.dumps(payload, sort_keys=True),
    )
    session.add(row)
    session.flush()
    return _attempt(row)


def record_answer(session: Session, attempt_id: int, answer: Answer) -> CardAttempt:
    row = _row(session, attempt_id)
    if row.state not in (SENT, UNKNOWN):
        return _attempt(row)  # already settled: an answer read twice changes nothing
    row.state = APPROVED if answer.approved else REFUSED
    row.authorisation = answer.authorisation[:32]
    row.card = answer.card[:32]
    row.reason = answer.reason[:300]
    row.updated_at = _now(session)
    session.flush()
    return _attempt(row)


def mark_unknown(session: Session, attempt_id: int, reason: str) -> CardAttempt:
    row = _row(session, attempt_id)
    if row.state == SENT:
        row.state = UNKNOWN
        row.reason = reason[:300]
        row.updated_at = _now(session)
        session.flush()
    return _attempt(row)


def mark_not_sent(session: Session, attempt_id: int, reason: str) -> CardAttempt:
    """The terminal could not be reached: nothing was charged."""
    row = _row(session, attempt_id)
    if row.state == SENT:
        row.state = REFUSED
        row.reason = reason[:300]
        row.updated_at = _now(session)
        session.flush()
    return _attempt(row)


def approved_for_sale(session: Session, sale_key: str) -> list[CardAttempt]:
    """Card payments the terminal accepted for this sale and no ticket records yet."""
    return [_attempt(row) for row in _of_sale(session, sale_key, APPROVED)]


def attach_to_ticket(session: Session, sale_key: str, recorded: Recorded) -> int:
    """Mark the sale's approved transactions as recorded by this ticket (same transaction
    as the ticket itself); returns how many."""
    rows = _of_sale(session, sale_key, APPROVED)
    for row in rows:
        row.state = RECORDED
        row.ticket_number = recorded.number
        row.updated_at = _now(session)
    session.flush()
    return len(rows)


def record_sale_with_cards(
    session: Session,
    cart: Cart,
    payments: Sequence[Payment],
    operator: str,
    *,
    sale_key: str,
    opened_on: date | None = None,
) -> Recorded:
    """Record a sale and, in the same transaction, the card transactions it settles.
    ``opened_on``: see ``record_sale``."""
    approved = {a.authorisation for a in approved_for_sale(session, sale_key)}
    on_ticket = {p.reference for p in payments if p.method is PaymentMethod.CARD}
    if not approved <= on_ticket:
        raise InvalidInput(
            "Un paiement par carte accepté par le terminal manque au ticket : "
            "il ne peut pas être enregistré sans lui."
        )
    recorded = record_sale(session, cart, payments, operator, opened_on=opened_on)
    attach_to_ticket(session, sale_key, recorded)
    return recorded


# -- settling what a crash left behind ---------------------------------------------------
def unsettled(session: Session) -> list[CardAttempt]:
    rows = session.scalars(
        select(CardTransaction)
        .where(CardTransaction.state.in_(UNSETTLED))
        .order_by(CardTransaction.id)
    )
    # An accepted credit of a settlement waits for the payment it gives back
    # (``refunded_already``).
    return [
        _attempt(row)
        for row in rows
        if not (row.state == APPROVED and row.sale_key.startswith(REFUND_PREFIX))
    ]


def _journal(session: Session, row: CardTransaction, outcome: str, operator: str) -> None:
    log_event(
        session,
        EventCode.CARD_SETTLEMENT,
        operator=operator,
        transaction=row.id,
        kind=row.kind,
        amount=row.amount_cents,
        authorisation=row.authorisation,
        outcome=outcome,
        sent_at=row.created_at,
    )


def confirm(
    session: Session, attempt_id: int, *, approved: bool, operator: str, authorisation: str = ""
) -> CardAttempt:
    """The cashier says what the terminal shows for a transaction left without answer."""
    row = _row(session, attempt_id)
    if row.state not in (SENT, UNKNOWN):
        raise InvalidInput("Cette transaction par carte a déjà une réponse.")
    authorisation = authorisation.strip()
    if len(authorisation) > 32:
        raise InvalidInput("Numéro d'autorisation : 32 caractères au plus.")
    row.state = APPROVED if approved else REFUSED
    row.authorisation = authorisation or ("confirmé" if approved else "")
    row.reason = "" if approved else "non accepté par le terminal (vérifié par le caissier)"
    row.updated_at = _now(session)
    _journal(session, row, "confirmed" if approved else "not_charged", operator)
    session.flush()
    return _attempt(row)


def leftover_payments(attempt: CardAttempt) -> list[Payment]:
    """The payments of the interrupted sale: those given before the card, and the card."""
    given = [
        Payment(PaymentMethod(p["method"]), p["amount"], p.get("reference", ""))
        for p in attempt.payload.get("payments", [])
    ]
    return [*given, attempt.payment]


def record_leftover(session: Session, attempt_id: int, *, operator: str) -> Recorded:
    """Record the interrupted sale with its accepted card payment, or the cancellation an
    accepted credit paid back."""
    row = _row(session, attempt_id)
    attempt = _attempt(row)
    if row.state == APPROVED and attempt.payload.get("cancels"):
        cancels = attempt.payload["cancels"]
        recorded = cancel_ticket(
            session, cancels["number"], operator=operator, reason=cancels["reason"]
        )
        return _recorded(session, row, recorded, operator)
    if row.state == APPROVED and attempt.payload.get("refunds"):
        refunds = attempt.payload["refunds"]
        recorded = refund_lines(
            session,
            refunds["number"],
            [(int(index), qty) for index, qty in refunds["items"]],
            method=PaymentMethod.CARD,
            operator=operator,
            reason=refunds["reason"],
        )
        return _recorded(session, row, recorded, operator)
    if row.state != APPROVED or row.kind != "debit":
        raise InvalidInput("Seul un paiement par carte accepté peut être enregistré sur un ticket.")
    if not attempt.payload.get("cart"):
        raise InvalidInput("Le contenu du ticket n'a pas été gardé : remboursez le client.")
    cart = cart_from_payload(attempt.payload["cart"])
    recorded = record_sale(session, cart, leftover_payments(attempt), operator)
    return _recorded(session, row, recorded, operator)


def _recorded(
    session: Session, row: CardTransaction, recorded: Recorded, operator: str
) -> Recorded:
    row.state = RECORDED
    row.ticket_number = recorded.number
    row.updated_at = _now(session)
    _journal(session, row, "recorded", operator)
    session.flush()
    return recorded


def refund_key(attempt_id: int) -> str:
    """The sale key of the credit transaction that pays back a leftover payment."""
    return f"{REFUND_PREFIX}{attempt_id}"


def refunded_already(session: Session, attempt_id: int, *, operator: str) -> bool:
    """True (and the payment marked refunded) when a credit for it was already accepted,
    e.g. confirmed by the cashier after an unanswered refund: never pay back twice."""
    done = _of_sale(session, refund_key(attempt_id), APPROVED)
    if not done:
        return False
    mark_refunded(session, attempt_id, done[0].authorisation, operator=operator)
    return True


def mark_refunded(
    session: Session, attempt_id: int, authorisation: str | None, *, operator: str
) -> CardAttempt:
    """The accepted payment was given back: by a credit on the terminal (its authorisation
    number, the credit journaled under ``refund_key``), or some other way (None)."""
    row = _row(session, attempt_id)
    if row.state != APPROVED:
        raise InvalidInput("Seul un paiement par carte accepté peut être remboursé.")
    for credit in _of_sale(session, refund_key(attempt_id), APPROVED):
        credit.state = RECORDED
        credit.updated_at = _now(session)
    row.state = REFUNDED
    row.reason = (
        f"remboursé sur le terminal, autorisation {authorisation}"
        if authorisation is not None
        else "remboursé hors terminal"
    )[:300]
    row.updated_at = _now(session)
    _journal(session, row, "refunded", operator)
    session.flush()
    return _attempt(row)
