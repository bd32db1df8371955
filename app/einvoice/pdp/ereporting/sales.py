"""What the ledger sold in a period, summed as Flux 10 wants it: B2C sales per day,
category and rate (10.3), what was received for services (10.4), invoices to buyers
outside France one by one (10.1) and what they were paid (10.2). E-invoiced sales are
left out: the network carries them."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.models import Product
from app.catalog.nature import CATEGORY_CODES, default_nature, nature_of
from app.einvoice.issuing import get_document
from app.einvoice.pdp import flux10
from app.einvoice.pdp.ereporting.periods import Period
from app.einvoice.pdp.outbox import received_per_rate
from app.ledger import canonical
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType

_EU = frozenset(
    ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "GR", "HR", "HU", "IE"),
) | frozenset(("IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"))


def _split(total: int, weights: dict[str, int]) -> dict[str, int]:
    """``total`` shared in proportion to ``weights``; rounding cents go to the largest."""
    if len(weights) == 1:  # the usual case: one category at this rate in this sale
        return dict.fromkeys(weights, total)
    whole = sum(weights.values())
    if not whole:
        first = next(iter(weights))
        return {key: (total if key == first else 0) for key in weights}
    shares = {key: total * weight // whole for key, weight in weights.items()}
    rest = total - sum(shares.values())
    for key in sorted(weights, key=lambda k: -abs(weights[k]))[: abs(rest)]:
        shares[key] += 1 if rest > 0 else -1
    return shares


class _Sales:
    """Sums per (day, category, rate) and per (day, rate) of received services."""

    def __init__(self) -> None:
        self.amounts: dict[tuple[date, str, int], list[int]] = defaultdict(lambda: [0, 0])
        self.counts: dict[tuple[date, str], int] = defaultdict(int)
        self.services_paid: dict[tuple[date, int], int] = defaultdict(int)

    def add(self, day: date, vat: list[dict[str, int]], parts: dict[int, dict[str, int]],
            *, services_paid: bool) -> None:  # fmt: skip
        """One sale: its VAT per rate, and per rate the weight of each category in it."""
        categories = set()
        amounts = self.amounts
        for row in vat:
            rate = row["rate"]
            weights = parts.get(rate) or {CATEGORY_CODES[default_nature(rate)]: 1}
            bases, vats = _split(row["base"], weights), _split(row["vat"], weights)
            for category in weights:
                cell = amounts[(day, category, rate)]
                cell[0] += bases[category]
                cell[1] += vats[category]
            categories.update(weights)
            if services_paid and "TPS1" in weights:
                self.services_paid[(day, rate)] += bases["TPS1"] + vats["TPS1"]
        for category in categories:
            self.counts[(day, category)] += 1

    def days(self) -> tuple[flux10.DayCategory, ...]:
        blocks: dict[tuple[date, str], list[flux10.RateAmounts]] = defaultdict(list)
        for (day, category, rate), (base, vat) in sorted(
            self.amounts.items(), key=lambda kv: (kv[0][0], kv[0][1], -kv[0][2])
        ):
            blocks[(day, category)].append(flux10.RateAmounts(rate, base, vat))
        return tuple(
            flux10.DayCategory(day, category, self.counts[(day, category)], tuple(rates))
            for (day, category), rates in blocks.items()
        )

    def payments(self) -> tuple[flux10.DayPayments, ...]:
        per_day: dict[date, list[tuple[int, int]]] = defaultdict(list)
        for (day, rate), cents in sorted(
            self.services_paid.items(), key=lambda kv: (kv[0][0], -kv[0][1])
        ):
            if cents > 0:  # amounts received are positive (G1.16); refunds net out per day
                per_day[day].append((rate, cents))
        return tuple(flux10.DayPayments(day, tuple(amounts)) for day, amounts in per_day.items())


def _records(session: Session, types: tuple[RecordType, ...], period: Period) -> list[Any]:
    return list(
        session.execute(
            select(
                JournalRecord.seq,
                JournalRecord.record_type,
                JournalRecord.business_date,
                JournalRecord.canonical,
            )
            .where(
                JournalRecord.record_type.in_(types),
                JournalRecord.business_date.between(
                    period.start.isoformat(), period.end.isoformat()
                ),
            )
            .order_by(JournalRecord.seq)
        )
    )


def _invoiced_tickets(session: Session) -> set[int]:
    """Tickets turned into an invoice to a company in France: e-invoiced, not reported."""
    found = set()
    rows = session.scalars(
        select(JournalRecord.canonical).where(JournalRecord.record_type == RecordType.INVOICE)
    )
    for raw in rows:
        body = canonical.decode(raw)["body"]
        if body.get("from_ticket") and _is_domestic_b2b(body["buyer"]):
            found.add(body["from_ticket"]["seq"])
    return found


def _is_domestic_b2b(buyer: dict[str, Any]) -> bool:
    return buyer.get("kind") == "company" and (buyer.get("country") or "FR") == "FR"


def gather_sales(
    session: Session, period: Period, shop: Any
) -> tuple[_Sales, list[dict[str, Any]]]:
    natures = dict(session.execute(select(Product.id, Product.nature)).all())
    invoiced = _invoiced_tickets(session)
    sales, abroad = _Sales(), []
    due_on_payment = not shop.vat_on_debits
    types = (RecordType.TICKET, RecordType.INVOICE, RecordType.CREDIT_NOTE)
    categories: dict[tuple[int | None, int], str] = {}  # (product, rate) -> category
    days: dict[str, date] = {}
    for seq, record_type, business_date, raw in _records(session, types, period):
        body = canonical.decode(raw)["body"]
        day = days.get(business_date) or days.setdefault(
            business_date, date.fromisoformat(business_date)
        )
        if record_type == RecordType.TICKET:
            if seq in invoiced:
                continue
            parts: dict[int, dict[str, int]] = {}
            for line in body["lines"]:
                key = (line.get("product_id"), line["rate"])
                category = categories.get(key)
                if category is None:
                    category = CATEGORY_CODES[nature_of(natures.get(key[0]), key[1])]
                    categories[key] = category
                weights = parts.setdefault(key[1], {})
                weights[category] = weights.get(category, 0) + line["total"]
            sales.add(day, body["vat"], parts, services_paid=due_on_payment)
        elif _is_domestic_b2b(body["buyer"]) or body.get("from_ticket"):
            continue  # e-invoiced, or already reported with its ticket
        elif body["buyer"].get("kind") == "company":
            abroad.append(body)
        else:
            sign = -1 if record_type == RecordType.CREDIT_NOTE else 1
            parts = {}
            for line in body["lines"]:
                category = CATEGORY_CODES[line.get("nature") or default_nature(line["rate"])]
                weights = parts.setdefault(line["rate"], {})
                weights[category] = weights.get(category, 0) + line["net"]
            vat = [{**row, "base": sign * row["base"], "vat": sign * row["vat"]}
                   for row in body["vat"]]  # fmt: skip
            paid_now = not body.get("vat_on_debits") and body.get("paid", 0) > 0
            sales.add(day, vat, parts, services_paid=paid_now)
    return sales, abroad


def _due_on_payment(body: dict[str, Any]) -> bool:
    return not body.get("vat_on_debits") and body.get("operation") in ("services", "mixed")


def invoice_payments(session: Session, period: Period) -> tuple[flux10.InvoicePayment, ...]:
    """10.2: payments received in the period for invoices to buyers outside France whose
    VAT is due on payment (what was paid at issue, and each payment recorded later), split
    over the invoice's VAT rates in proportion to their totals."""
    found = []
    bodies: dict[str, dict[str, Any]] = {}
    types = (RecordType.INVOICE, RecordType.PAYMENT)
    for _, record_type, business_date, raw in _records(session, types, period):
        body = canonical.decode(raw)["body"]
        if record_type == RecordType.INVOICE:
            invoice, received = body, body.get("paid", 0)
        else:
            number = body["invoice"]
            if number not in bodies:
                bodies[number] = get_document(session, number).body
            invoice, received = bodies[number], body["total"]
        buyer = invoice.get("buyer") or {}
        abroad = buyer.get("kind") == "company" and not _is_domestic_b2b(buyer)
        if not abroad or not _due_on_payment(invoice) or received <= 0:
            continue
        if invoice.get("doc") == "credit_note":
            continue
        shares = received_per_rate(invoice["vat"], received)
        amounts = tuple(sorted(shares.items(), key=lambda kv: -kv[0]))
        if amounts:
            found.append(flux10.InvoicePayment(
                invoice["number"], date.fromisoformat(invoice["issue_date"]),
                date.fromisoformat(business_date), amounts,
            ))  # fmt: skip
    return tuple(found)


def unitary_invoice(body: dict[str, Any]) -> flux10.UnitaryInvoice:
    buyer = body["buyer"]
    country = buyer.get("country") or "FR"
    preceding = body.get("preceding")
    return flux10.UnitaryInvoice(
        number=body["number"],
        issue_date=date.fromisoformat(body["issue_date"]),
        type_code=body.get("type_code") or ("381" if body.get("doc") == "credit_note" else "380"),
        business_process=body.get("business_process") or "B1",
        buyer_scheme="0223" if country in _EU else "0227",
        buyer_id=(buyer.get("vat_number") or buyer.get("siren") or "")[:18],
        buyer_vat=buyer.get("vat_number") or "",
        buyer_country=country,
        preceding=(preceding["number"], date.fromisoformat(preceding["date"]))
        if preceding else None,
        rates=tuple(
            (row["category"], flux10.RateAmounts(row["rate"], row["base"], row["vat"]),
             row.get("exemption_code"), row.get("exemption_reason"))
            for row in body["vat_breakdown"]
        ),
    )  # fmt: skip


def has_sales(session: Session, period: Period) -> bool:
    """Whether the ledger holds a sale in the period: a period without any is not
    reported; one with sales is, even when it has nothing for this flux (a nil report)."""
    found = session.scalar(
        select(JournalRecord.seq)
        .where(
            JournalRecord.is_sale.is_(True),
            JournalRecord.business_date.between(period.start.isoformat(), period.end.isoformat()),
        )
        .limit(1)
    )
    return found is not None


__all__ = ["gather_sales", "has_sales", "invoice_payments", "unitary_invoice"]
