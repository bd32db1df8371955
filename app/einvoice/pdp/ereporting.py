"""E-reporting (DGFiP Flux 10): the sales the e-invoicing network does not carry, per
period of the shop's VAT regime, held to the official rules, sent and journaled.

- 10.3: B2C sales (tickets, invoices to private persons) per day, category (TLB1 goods,
  TPS1 services, TNT1 not subject to French VAT, TMA1 margin scheme) and VAT rate; a
  ticket counts once per category whatever its number of rates;
- 10.1: invoices to buyers outside France, one by one, in the same transactions report;
- 10.4: what was received for B2C services whose VAT is due on payment (no option for
  VAT on debits), per day and rate;
- 10.2: what was received, invoice by invoice, for the invoices of 10.1 whose VAT is due
  on payment, in the same payments report.

Periods (``periods_between``): réel normal, transactions per ten days and payments per
month; réel simplifié, monthly; franchise en base, every two months. The first report of
a period is IN; RE replaces the whole period. Every report sent is an EREPORTING event.
Only closed days are reported, so a report never changes once sent.
"""

from __future__ import annotations

import calendar
import os
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.models import Product
from app.catalog.nature import CATEGORY_CODES, default_nature, nature_of
from app.einvoice.issuing import get_document
from app.einvoice.official import require_valid, validate_ereporting
from app.einvoice.pdp import flux10
from app.einvoice.pdp.flows import FlowPlatform, FlowRef, sha256_of
from app.einvoice.pdp.models import (
    ACK_ERROR,
    ACK_PENDING,
    InvoiceLifecycle,
    ReportAcknowledgement,
)
from app.einvoice.pdp.outbox import received_per_rate
from app.einvoice.validate import ValidationReport
from app.errors import InvalidInput
from app.ledger import canonical
from app.ledger.closures import list_closures, today
from app.ledger.events import EventCode, log_event
from app.ledger.models import JournalRecord, RecordType
from app.ledger.periods import unclosed_sale_date
from app.ledger.preferences import get_preference, set_preference
from app.ledger.settings import fiscal_settings
from app.ledger.store import Ledger

PREF_MATRICULE = "pdp_matricule"
ENV_MATRICULE = "COMPTOIR_PDP_MATRICULE"
_EU = frozenset(
    ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "GR", "HR", "HU", "IE"),
) | frozenset(("IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"))


@dataclass(frozen=True)
class Period:
    flux: str  # flux10.TRANSACTIONS or flux10.PAYMENTS
    start: date
    end: date

    @property
    def key(self) -> str:
        return f"{self.flux}:{self.start.isoformat()}:{self.end.isoformat()}"

    def label(self) -> str:
        return f"{flux10.FLUXES[self.flux]} du {self.start:%d/%m/%Y} au {self.end:%d/%m/%Y}"


@dataclass(frozen=True)
class Report:
    period: Period
    type_code: str
    report_id: str
    days: tuple[flux10.DayCategory, ...]
    payments: tuple[flux10.DayPayments, ...]
    invoices: tuple[flux10.UnitaryInvoice, ...]
    content: bytes
    validation: ValidationReport
    invoice_payments: tuple[flux10.InvoicePayment, ...] = ()

    @property
    def processing_rule(self) -> str:
        """The Flow API's processing rule: international B2B alone is ``B2BInt``."""
        unitary = bool(self.invoices or self.invoice_payments)
        return "B2BInt" if unitary and not (self.days or self.payments) else "B2C"

    @property
    def total_cents(self) -> int:
        sales = sum(r.base_cents + r.vat_cents for d in self.days for r in d.rates)
        paid = sum(cents for p in self.payments for _, cents in p.amounts)
        paid += sum(cents for p in self.invoice_payments for _, cents in p.amounts)
        return (
            sales
            + paid
            + sum(r.base_cents + r.vat_cents for i in self.invoices for _, r, _, _ in i.rates)
        )


@dataclass(frozen=True)
class SentReport:
    """One report the platform took, as the EREPORTING event recorded it."""

    period: Period
    type_code: str
    report_id: str
    flow_id: str
    sent_at: str
    total_cents: int


@dataclass(frozen=True)
class Answer:
    """What the platform (acknowledgement) and then the PPF (300 Déposé, 301 Rejeté)
    said of one report sent, in French."""

    state: str  # "Transmis", "Accepté par la plateforme", "Déposé", "Rejeté"
    reason: str = ""

    @property
    def rejected(self) -> bool:
        return self.state == "Rejeté"


def answers(session: Session) -> dict[str, Answer]:
    """Per flow id of a report sent: what the platform and the PPF said of it."""
    found: dict[str, Answer] = {}
    ppf = {
        doc: (code, reason)
        for doc, code, reason in session.execute(
            select(InvoiceLifecycle.doc_number, InvoiceLifecycle.code, InvoiceLifecycle.reason)
            .where(InvoiceLifecycle.code.in_(("300", "301")))
            .order_by(InvoiceLifecycle.issued_at, InvoiceLifecycle.id)
        )
    }
    for row in session.scalars(select(ReportAcknowledgement)):
        code, reason = ppf.get(row.report_id, ("", ""))
        if row.ack_status == ACK_ERROR:
            found[row.flow_id] = Answer("Rejeté", f"Plateforme — {row.reason}")
        elif code == "301":
            found[row.flow_id] = Answer("Rejeté", f"PPF (301) — {reason or 'sans motif donné'}")
        elif code == "300":
            found[row.flow_id] = Answer("Déposé")
        elif row.ack_status == ACK_PENDING:
            found[row.flow_id] = Answer("Transmis")
        else:
            found[row.flow_id] = Answer("Accepté par la plateforme")
    return found


# -- periods -------------------------------------------------------------------------------


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def period_of(regime: str, flux: str, day: date) -> Period:
    """The period of ``flux`` that contains ``day`` under the shop's VAT regime."""
    if regime == "franchise":
        first = day.replace(month=day.month - (day.month - 1) % 2, day=1)
        return Period(flux, first, _month_end(first.replace(month=first.month + 1)))
    if regime == "reel_normal" and flux == flux10.TRANSACTIONS:
        start = day.replace(day=min(21, 1 + (day.day - 1) // 10 * 10))
        end = _month_end(day) if start.day == 21 else start + timedelta(days=9)
        return Period(flux, start, end)
    return Period(flux, day.replace(day=1), _month_end(day))


def periods_between(regime: str, first: date, last: date) -> list[Period]:
    """Every period of both fluxes that overlaps [first, last], in date order."""
    found: list[Period] = []
    for flux in flux10.FLUXES:
        day = first
        while day <= last:
            period = period_of(regime, flux, day)
            found.append(period)
            day = period.end + timedelta(days=1)
    return sorted(found, key=lambda p: (p.start, p.flux))


def parse_period(regime: str, text: str) -> list[Period]:
    """``AAAA-MM`` (every period starting in that month) or ``AAAA-MM-JJ`` (the periods
    containing that day)."""
    try:
        if len(text) == 7:
            start = date.fromisoformat(f"{text}-01")
            return [p for p in periods_between(regime, start, _month_end(start))
                    if p.start.month == start.month]  # fmt: skip
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(
            f"Période invalide : « {text} » (attendu AAAA-MM ou AAAA-MM-JJ)."
        ) from exc
    return [period_of(regime, flux, day) for flux in flux10.FLUXES]


# -- gathering -----------------------------------------------------------------------------


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


def _gather(session: Session, period: Period, shop: Any) -> tuple[_Sales, list[dict[str, Any]]]:
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


def _invoice_payments(session: Session, period: Period) -> tuple[flux10.InvoicePayment, ...]:
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


def _unitary(body: dict[str, Any]) -> flux10.UnitaryInvoice:
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


# -- building and sending --------------------------------------------------------------------


def platform_matricule(session: Session) -> str:
    """The matricule (4 characters) of the shop's plateforme agréée, sender of its reports."""
    value = os.environ.get(ENV_MATRICULE) or get_preference(session, PREF_MATRICULE)
    if not value:
        raise InvalidInput(
            "Renseignez le matricule de votre plateforme agréée (4 caractères, donné par la "
            "plateforme) : il figure dans chaque e-reporting."
        )
    return value


def set_platform_matricule(session: Session, value: str) -> None:
    value = value.strip()
    if len(value) != 4 or not value.isalnum():
        raise InvalidInput("Le matricule d'une plateforme agréée compte 4 caractères.")
    set_preference(session, PREF_MATRICULE, value)


def build_report(
    session: Session, period: Period, *, type_code: str = "IN", issued_at: datetime | None = None
) -> Report:
    """The period's report, checked with the official rules; every day with sales must be
    closed. ``MessageRefused`` (naming the rule) if the file breaks a fatal one."""
    shop = fiscal_settings(session)
    if not shop.siren:
        raise InvalidInput("Renseignez le SIREN de la boutique (Réglages) avant l'e-reporting.")
    _require_closed(session, period)
    sales, abroad = _gather(session, period, shop)
    matricule = platform_matricule(session)
    earlier = [sent for sent in sent_reports(session) if sent.period == period]
    said = answers(session)
    refused = sum(1 for sent in earlier if (said.get(sent.flow_id) or Answer("")).rejected)
    taken = len(earlier) - refused
    # Every report has its own id: an initial one sent again after a rejection is IN2...
    suffix = (f"IN{refused + 1}" if refused else "IN") if type_code == "IN" else f"RE{taken}"
    report_id = f"{shop.siren}-{period.flux.replace('.', '')}-{period.start:%Y%m%d}-{suffix}"
    header = flux10.Header(
        report_id=report_id,
        type_code=type_code,
        issued_at=(issued_at or datetime.now(UTC)).astimezone(UTC),
        sender=flux10.Party("0238", matricule, f"Plateforme agréée {matricule}", "WK"),
        issuer=flux10.Party("0002", shop.siren, shop.name, "SE"),
        seller_vat=shop.vat_number,
        seller_country=shop.country or "FR",
    )
    days = sales.days() if period.flux == flux10.TRANSACTIONS else ()
    payments = sales.payments() if period.flux == flux10.PAYMENTS else ()
    invoices = tuple(_unitary(b) for b in abroad) if period.flux == flux10.TRANSACTIONS else ()
    received = _invoice_payments(session, period) if period.flux == flux10.PAYMENTS else ()
    content = flux10.write(header, period.flux, period.start, period.end, days=days,
                           payments=payments, invoices=invoices,
                           invoice_payments=received)  # fmt: skip
    validation = require_valid(validate_ereporting(content), "flux10")
    return Report(period, type_code, report_id, days, payments, invoices, content, validation,
                  received)  # fmt: skip


def _require_closed(session: Session, period: Period) -> None:
    closed = {
        c.period
        for c in list_closures(session, RecordType.DAY_CLOSURE)
        if period.start.isoformat() <= c.period <= period.end.isoformat()
    }
    sold = session.scalars(
        select(JournalRecord.business_date)
        .where(
            JournalRecord.is_sale.is_(True),
            JournalRecord.business_date.between(period.start.isoformat(), period.end.isoformat()),
        )
        .distinct()
    )
    # Sales after the last Z of a day that was closed are still to be closed.
    late = unclosed_sale_date(session)
    if late is not None and period.start <= late <= period.end:
        closed.discard(late.isoformat())
    for day in sorted(set(sold) - closed):
        raise InvalidInput(
            f"La journée du {date.fromisoformat(day):%d/%m/%Y} n'est pas clôturée : "
            "clôturez-la avant de transmettre l'e-reporting."
        )


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


def sent_reports(session: Session) -> list[SentReport]:
    """Every report the platform took, oldest first (the EREPORTING events)."""
    found = []
    rows = session.execute(
        select(JournalRecord.canonical, JournalRecord.ts)
        .where(JournalRecord.record_type == RecordType.EVENT)
        .order_by(JournalRecord.seq)
    )
    for raw, ts in rows:
        if b'"EREPORTING"' not in raw:
            continue
        detail = canonical.decode(raw)["body"]["detail"]
        if "flux" not in detail:  # written before Flux 10: no period to replace
            continue
        period = Period(detail["flux"], date.fromisoformat(detail["start"]),
                        date.fromisoformat(detail["end"]))  # fmt: skip
        found.append(SentReport(period, detail["type_code"], detail["report_id"],
                                detail["flow_id"], ts, detail["total"]))  # fmt: skip
    return found


def due_periods(session: Session) -> list[Period]:
    """Complete periods with sales and no report sent yet: ended before today, or whose
    last day is closed (the closure that completes a period makes it due at once)."""
    first = session.scalar(
        select(JournalRecord.business_date)
        .where(JournalRecord.is_sale.is_(True))
        .order_by(JournalRecord.seq)
        .limit(1)
    )
    if first is None:
        return []
    regime = fiscal_settings(session).vat_regime
    sent = {s.period for s in sent_reports(session)}
    last = today(session) - timedelta(days=1)
    closed = [c.period for c in list_closures(session, RecordType.DAY_CLOSURE)]
    if closed:
        last = max(last, date.fromisoformat(max(closed)[:10]))
    return [p for p in periods_between(regime, date.fromisoformat(first), last)
            if p.end <= last and p not in sent and has_sales(session, p)]  # fmt: skip


@dataclass(frozen=True)
class PeriodState:
    """One period as the e-reporting screen lists it."""

    period: Period
    state: str  # French: "En cours", "À transmettre", "Transmis", "Rectifié", "Déposé"...
    sent: tuple[SentReport, ...]
    reason: str = ""  # why the last report was rejected

    @property
    def due(self) -> bool:
        return self.state == "À transmettre"

    @property
    def rejected(self) -> bool:
        return self.state == "Rejeté"


def period_states(session: Session, *, months: int = 12) -> list[PeriodState]:
    """The periods with sales of the last ``months`` months, newest first, with what was
    sent for each and what the platform and the PPF answered to the last report."""
    regime = fiscal_settings(session).vat_regime
    now = today(session)
    since = (now.replace(day=1) - timedelta(days=31 * (months - 1))).replace(day=1)
    sent: dict[Period, list[SentReport]] = defaultdict(list)
    for report in sent_reports(session):
        sent[report.period].append(report)
    said = answers(session)
    due = set(due_periods(session))
    rows = []
    for period in periods_between(regime, since, now):
        reports = tuple(sent.get(period, ()))
        if not reports and not has_sales(session, period):
            continue
        reason = ""
        if reports:
            answer = said.get(reports[-1].flow_id) or Answer("Transmis")
            state, reason = answer.state, answer.reason
            if state in ("Transmis", "Accepté par la plateforme", "Déposé"):
                replaced = reports[-1].type_code == "RE"
                state = "Rectifié" if replaced and state != "Déposé" else state
        else:
            state = "À transmettre" if period in due else "En cours"
        rows.append(PeriodState(period, state, reports, reason))
    return rows[::-1]


def send_report(
    ledger: Ledger, client: FlowPlatform, period: Period, *, operator: str, replace: bool = False
) -> tuple[Report, FlowRef]:
    """Build, check, send (outside any transaction) and journal one period's report."""
    if ledger.kind != "real":
        raise InvalidInput("Un journal de formation ou de démonstration ne transmet rien.")
    with ledger.reader() as session:
        said = answers(session)
        already = [
            s for s in sent_reports(session)
            if s.period == period and not (said.get(s.flow_id) or Answer("")).rejected
        ]  # fmt: skip
        if already and not replace:
            raise InvalidInput(
                f"L'e-reporting des {period.label()} a déjà été transmis : envoyez un "
                "rectificatif pour le remplacer."
            )
        if replace and not already:
            raise InvalidInput(
                f"Aucun e-reporting des {period.label()} n'a été transmis : rien à remplacer."
            )
        report = build_report(session, period, type_code="RE" if replace else "IN")
    digest = sha256_of(report.content)
    ref = client.send_report(
        report.content, tracking_id=str(uuid.uuid4()), sha256=digest,
        processing_rule=report.processing_rule,
    )  # fmt: skip
    with ledger.transaction() as session:
        log_event(
            session,
            EventCode.EREPORTING,
            operator=operator,
            flux=period.flux,
            start=period.start.isoformat(),
            end=period.end.isoformat(),
            type_code=report.type_code,
            report_id=report.report_id,
            total=report.total_cents,
            sha256=digest,
            flow_id=ref.flow_id,
        )
        session.add(
            ReportAcknowledgement(
                flow_id=ref.flow_id,
                report_id=report.report_id,
                ack_status=ACK_PENDING,
                ppf_code="",
                reason="",
                updated_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            )
        )
    return report, ref


def send_due(
    ledger: Ledger, client: FlowPlatform, *, operator: str, periods: list[Period] | None = None,
    replace: bool = False,
) -> list[tuple[Report, FlowRef]]:  # fmt: skip
    """Send the periods asked for (those without any sale left out), or every due one."""
    with ledger.reader() as session:
        if periods is None:
            periods = due_periods(session)
        periods = [p for p in periods if has_sales(session, p)]
    return [
        send_report(ledger, client, period, operator=operator, replace=replace)
        for period in periods
    ]
