"""Turn paid carts into ledger records, and correct them by counter-entries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ClosureRequired, ComptoirError, InvalidInput, PeriodClosed
from app.ledger import canonical
from app.ledger.closures import close_pending, last_day_closure_of, today
from app.ledger.journal import Recorded, append, head
from app.ledger.models import JournalRecord
from app.ledger.operators import Permission, require
from app.ledger.periods import ensure_open_for_sale, unclosed_sale_date
from app.ledger.records import RecordType, document_number
from app.ledger.store import ledger_of
from app.sales.cart import MAX_AMOUNT_CENTS, Cart, TicketTotals
from app.sales.payments import Payment, PaymentMethod, Settlement, settle
from app.values.vat import vat_breakdown

SALE, CANCELLATION, REFUND = "sale", "cancellation", "refund"
MAX_REASON_CHARS = 200


@dataclass(frozen=True)
class Ticket:
    """A recorded ticket read back from the ledger."""

    seq: int
    number: int
    ts: str
    business_date: str
    till: str
    operator: str
    hash: str
    signature: bytes
    body: dict[str, Any]

    @property
    def doc_number(self) -> str:
        return document_number(RecordType.TICKET, self.number)

    @property
    def kind(self) -> str:
        return self.body["kind"]

    @property
    def total_cents(self) -> int:
        return self.body["total"]


def _payments_body(payments: Sequence[Payment]) -> list[dict[str, Any]]:
    # A reference is written only when there is one: tickets without stay as they were.
    return [
        {"method": p.method.value, "amount": p.amount_cents}
        | ({"reference": p.reference} if p.reference else {})
        for p in payments
    ]


def _ticket_body(
    kind: str,
    lines: list[dict[str, Any]],
    ticket_discount: int,
    totals_by_rate: dict[int, int],
    settlement: Settlement,
    **extra: Any,
) -> dict[str, Any]:
    vat = vat_breakdown(totals_by_rate)
    return {
        "kind": kind,
        "lines": lines,
        "ticket_discount": ticket_discount,
        "vat": [
            {"rate": v.rate_bp, "base": v.base_cents, "vat": v.vat_cents, "total": v.total_cents}
            for v in vat
        ],
        "total_excl": sum(v.base_cents for v in vat),
        "total_vat": sum(v.vat_cents for v in vat),
        "total": sum(v.total_cents for v in vat),
        "payments": _payments_body(settlement.payments),
        "tendered": _payments_body(settlement.tendered),
        "change": settlement.change_cents,
        **extra,
    }


def _line_body(priced: Any) -> dict[str, Any]:
    line = priced.line
    return {
        "label": line.label,
        "qty": canonical.format_decimal(line.quantity),
        "unit_price": line.unit_price_cents,
        "rate": line.vat_rate_bp,
        "gross": priced.gross_cents,
        "discount": priced.line_discount_cents,
        "ticket_discount": priced.ticket_discount_cents,
        "total": priced.total_cents,
        "ean": line.ean,
        "product_id": line.product_id,
        "weighed": line.weighed,
    }


def _by_rate(lines: list[dict[str, Any]]) -> dict[int, int]:
    totals: dict[int, int] = {}
    for line in lines:
        totals[line["rate"]] = totals.get(line["rate"], 0) + line["total"]
    return totals


def _checked_cart(session: Session, cart: Cart, operator: str) -> TicketTotals:
    """What the cart and the operator must pass to be sold; raises before anything."""
    require(session, operator, Permission.SELL)
    if cart.is_empty:
        raise InvalidInput("Le ticket est vide : ajoutez au moins un article.")
    totals: TicketTotals = cart.totals()
    if totals.total_cents <= 0:
        raise InvalidInput("Le total du ticket doit être positif.")
    return totals


def record_sale(
    session: Session,
    cart: Cart,
    payments: Sequence[Payment],
    operator: str,
    *,
    opened_on: date | None = None,
) -> Recorded:
    """Record a fully paid cart as a sale ticket; nothing is written on any error.

    ``opened_on``: the day the till found the sale could go ahead (``payment_refusal``
    said nothing as the payment dialog opened). When the day changed while the customer
    paid, the closures that change made due are made automatically first: a paid sale is
    never refused for a closure."""
    totals = _checked_cart(session, cart, operator)
    settlement = settle(totals.total_cents, payments)
    if opened_on is not None and opened_on < today(session):
        close_pending(session, operator=operator, automatic=True)
    lines = [_line_body(priced) for priced in totals.lines]
    body = _ticket_body(SALE, lines, totals.ticket_discount_cents, _by_rate(lines), settlement)
    return append(session, RecordType.TICKET, body, operator=operator)


# -- reading back ---------------------------------------------------------------------
def _ticket_from_row(row: JournalRecord) -> Ticket:
    return Ticket(
        seq=row.seq,
        number=row.number,
        ts=row.ts,
        business_date=row.business_date,
        till=row.till,
        operator=row.operator,
        hash=row.hash,
        signature=row.signature,
        body=canonical.decode(row.canonical)["body"],
    )


def get_ticket(session: Session, number: int) -> Ticket:
    row = session.scalar(
        select(JournalRecord).where(
            JournalRecord.record_type == RecordType.TICKET, JournalRecord.number == number
        )
    )
    if row is None:
        raise InvalidInput(f"Le ticket n°{number} n'existe pas.")
    return _ticket_from_row(row)


def corrections_of(session: Session, ticket: Ticket) -> list[Ticket]:
    rows = session.scalars(
        select(JournalRecord)
        .where(JournalRecord.record_type == RecordType.TICKET, JournalRecord.ref_seq == ticket.seq)
        .order_by(JournalRecord.seq)
    )
    return [_ticket_from_row(row) for row in rows]


def _reason(reason: str) -> str:
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON_CHARS:
        raise InvalidInput("Indiquez le motif de l'annulation ou du remboursement.")
    return reason.strip()


def _original_sale(session: Session, number: int) -> Ticket:
    original = get_ticket(session, number)
    if original.kind != SALE:
        raise InvalidInput(
            f"Le ticket n°{number} est déjà une contre-passation : il ne peut pas être corrigé."
        )
    return original


# -- counter-entries ------------------------------------------------------------------
def cancel_ticket(session: Session, number: int, *, operator: str, reason: str) -> Recorded:
    """Cancel a whole sale with a cancelling ticket that mirrors it with opposite signs."""
    require(session, operator, Permission.CORRECT)
    reason = _reason(reason)
    original = _original_sale(session, number)
    if corrections_of(session, original):
        raise InvalidInput(
            f"Le ticket n°{number} a déjà été annulé ou partiellement remboursé : "
            "utilisez le remboursement pour le reste."
        )
    lines = [
        {
            **line,
            "qty": canonical.format_decimal(-Decimal(line["qty"])),
            "gross": -line["gross"],
            "discount": -line["discount"],
            "ticket_discount": -line["ticket_discount"],
            "total": -line["total"],
            "original_line": index,
        }
        for index, line in enumerate(original.body["lines"])
    ]
    refunds = [Payment(PaymentMethod(p["method"]), -p["amount"]) for p in original.body["payments"]]
    settlement = settle(-original.total_cents, refunds)
    body = _ticket_body(
        CANCELLATION,
        lines,
        -original.body["ticket_discount"],
        _by_rate(lines),
        settlement,
        original={"seq": original.seq, "number": original.number},
        reason=reason,
    )
    return append(session, RecordType.TICKET, body, operator=operator, ref_seq=original.seq)


def check_cancellation(session: Session, number: int, *, operator: str, reason: str) -> Ticket:
    """What ``cancel_ticket`` would refuse, said before anything leaves the shop (a card
    paid back on the terminal first)."""
    require(session, operator, Permission.CORRECT)
    _reason(reason)
    original = _original_sale(session, number)
    if corrections_of(session, original):
        raise InvalidInput(
            f"Le ticket n°{number} a déjà été annulé ou partiellement remboursé : "
            "utilisez le remboursement pour le reste."
        )
    return original


def refundable(session: Session, original: Ticket) -> list[tuple[Decimal, int]]:
    """Per original line: (quantity, amount in cents) still refundable."""
    left = [(Decimal(line["qty"]), line["total"]) for line in original.body["lines"]]
    for correction in corrections_of(session, original):
        for line in correction.body["lines"]:
            index = line["original_line"]
            qty, amount = left[index]
            left[index] = (qty + Decimal(line["qty"]), amount + line["total"])
    return left


@dataclass(frozen=True)
class RefundPlan:
    """What a partial refund would record: its lines and total (negative), checked."""

    original: Ticket
    lines: list[dict[str, Any]]
    total: int

    @property
    def cents(self) -> int:
        """The amount paid back to the customer (positive)."""
        return -self.total


def plan_refund(
    session: Session,
    number: int,
    items: Sequence[tuple[int, Decimal | int | str]],
    *,
    operator: str,
    reason: str,
) -> RefundPlan:
    """Check a refund of some quantities of some lines and compute it, writing nothing
    (a card credit is asked of the terminal for exactly this amount before recording)."""
    require(session, operator, Permission.CORRECT)
    _reason(reason)
    original = _original_sale(session, number)
    if not items:
        raise InvalidInput("Choisissez au moins une ligne à rembourser.")
    left = refundable(session, original)
    lines: list[dict[str, Any]] = []
    seen: set[int] = set()
    for index, raw_qty in items:
        if not isinstance(index, int) or not 0 <= index < len(left) or index in seen:
            raise InvalidInput(f"Ligne {index!r} inconnue sur le ticket n°{number}.")
        seen.add(index)
        try:
            qty = Decimal(str(raw_qty))
        except ArithmeticError:
            raise InvalidInput(f"Quantité invalide : {raw_qty!r}.") from None
        qty_left, amount_left = left[index]
        source = original.body["lines"][index]
        if not qty.is_finite() or qty <= 0 or qty > qty_left:
            raise InvalidInput(
                f"Quantité à rembourser invalide pour « {source['label']} » "
                f"(au plus {canonical.format_decimal(qty_left)})."
            )
        sold_qty = Decimal(source["qty"])
        # The last refund of a line takes exactly what is left of it.
        amount = amount_left if qty == qty_left else _prorata(source["total"], qty, sold_qty)
        gross = max(_prorata(source["gross"], qty, sold_qty), amount)
        lines.append(
            {
                **source,
                "qty": canonical.format_decimal(-qty),
                "gross": -gross,
                "discount": -(gross - amount),
                "ticket_discount": 0,
                "total": -amount,
                "original_line": index,
            }
        )
    total = sum(line["total"] for line in lines)
    if total == 0 or abs(total) >= MAX_AMOUNT_CENTS:
        raise InvalidInput("Le montant à rembourser est nul.")
    return RefundPlan(original, lines, total)


def refund_lines(
    session: Session,
    number: int,
    items: Sequence[tuple[int, Decimal | int | str]],
    *,
    method: PaymentMethod | str = PaymentMethod.CASH,
    operator: str,
    reason: str,
) -> Recorded:
    """Refund some quantities of some lines of a sale (a partial counter-entry)."""
    plan = plan_refund(session, number, items, operator=operator, reason=reason)
    reason = _reason(reason)
    settlement = settle(plan.total, [Payment(PaymentMethod(method), plan.total)])
    body = _ticket_body(
        REFUND,
        plan.lines,
        0,
        _by_rate(plan.lines),
        settlement,
        original={"seq": plan.original.seq, "number": plan.original.number},
        reason=reason,
    )
    return append(session, RecordType.TICKET, body, operator=operator, ref_seq=plan.original.seq)


def _prorata(cents: int, qty: Decimal, of_qty: Decimal) -> int:
    return int((Decimal(cents) * qty / of_qty).quantize(Decimal(1), ROUND_HALF_UP))


def sale_refusal(session: Session) -> str | None:
    """Why a sale could not be recorded now (an earlier period is still open, the clock
    is behind the journal), said before anything is scanned; None when the till may
    sell. A day already closed (Z done) does not refuse: trading goes on into the next
    day closure (see ``closed_day_note``)."""
    day = today(session)
    top = head(session)
    if top is not None and canonical.format_ts(ledger_of(session).clock()) < top.ts:
        return (
            "L'horloge de cet ordinateur indique une heure antérieure au dernier "
            "enregistrement du journal : corrigez la date et l'heure avant de vendre."
        )
    try:
        ensure_open_for_sale(session, day)
    except (PeriodClosed, ClosureRequired) as exc:
        return exc.message
    return None


def payment_refusal(session: Session, cart: Cart, operator: str) -> str | None:
    """Every reason ``record_sale`` could refuse this cart, asked before the payment
    dialog opens so that no sale is refused once the customer has paid."""
    try:
        _checked_cart(session, cart, operator)
    except ComptoirError as exc:
        return exc.message
    return sale_refusal(session)


def closed_day_note(session: Session) -> str | None:
    """After a Z of today with nothing sold since: when it was made and that the next
    sales go to the next day closure; None otherwise."""
    day = today(session)
    closure = last_day_closure_of(session, day)
    if closure is None or unclosed_sale_date(session) is not None:
        return None
    at = canonical.parse_ts(closure.ts).astimezone(ZoneInfo(ledger_of(session).timezone))
    return (
        f"Journée clôturée à {at:%H:%M} (Z n° {closure.number}) — les ventes suivantes "
        "iront sur la prochaine clôture."
    )
