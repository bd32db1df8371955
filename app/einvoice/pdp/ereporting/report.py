"""One period's report: built from the closed days, held to the official rules, sent
outside any transaction and journaled as an EREPORTING event. The first report of a
period is IN; RE replaces the whole period."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.einvoice.official import require_valid, validate_ereporting
from app.einvoice.pdp import flux10
from app.einvoice.pdp.ereporting.periods import Period
from app.einvoice.pdp.ereporting.sales import (
    gather_sales,
    has_sales,
    invoice_payments,
    unitary_invoice,
)
from app.einvoice.pdp.ereporting.sent import Answer, answers, due_periods, sent_reports
from app.einvoice.pdp.flows import FlowPlatform, FlowRef, sha256_of
from app.einvoice.pdp.models import ACK_PENDING, ReportAcknowledgement
from app.einvoice.pdp.training import refuse_unless_sandbox
from app.einvoice.validate import ValidationReport
from app.errors import InvalidInput
from app.ledger.closures import list_closures
from app.ledger.events import EventCode, log_event
from app.ledger.models import JournalRecord
from app.ledger.periods import unclosed_sale_date
from app.ledger.preferences import get_preference, set_preference
from app.ledger.records import RecordType
from app.ledger.settings import fiscal_settings
from app.ledger.store import Ledger

PREF_MATRICULE = "pdp_matricule"
ENV_MATRICULE = "COMPTOIR_PDP_MATRICULE"


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
    sales, abroad = gather_sales(session, period, shop)
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
    invoices = (
        tuple(unitary_invoice(b) for b in abroad) if period.flux == flux10.TRANSACTIONS else ()
    )
    received = invoice_payments(session, period) if period.flux == flux10.PAYMENTS else ()
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


def send_report(
    ledger: Ledger, client: FlowPlatform, period: Period, *, operator: str, replace: bool = False
) -> tuple[Report, FlowRef]:
    """Build, check, send (outside any transaction) and journal one period's report."""
    if ledger.kind not in ("real", "demo"):
        raise InvalidInput("Un journal de formation ou de démonstration ne transmet rien.")
    refuse_unless_sandbox(ledger, client)  # a demo ledger's goes to its own platform only
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


__all__ = [
    "PREF_MATRICULE",
    "Report",
    "build_report",
    "platform_matricule",
    "send_due",
    "send_report",
    "set_platform_matricule",
]
