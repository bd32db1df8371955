"""B2C e-reporting: the aggregated transactions of a period, built from the daily closures
(per day and VAT rate: base, VAT, number of transactions), sent as an FRR flow and
recorded in the ledger once the platform has taken it.

The file follows the structure of the e-reporting of transactions (flux 10.3): a
header naming the declarant and the period, then one block per day and rate. Only
closed days are reported, so a report never changes once sent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from xml.etree import ElementTree as ET

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.einvoice.pdp.client import FlowPlatform, FlowRef, sha256_of
from app.errors import InvalidInput
from app.ledger.closures import Closure, list_closures
from app.ledger.events import EventCode, log_event
from app.ledger.models import JournalRecord, JournalVat, RecordType
from app.ledger.settings import fiscal_settings
from app.ledger.store import Ledger

NAMESPACE = "urn:comptoir:ereporting:transactions:1"


@dataclass(frozen=True)
class RateLine:
    rate_bp: int
    base_cents: int
    vat_cents: int
    transactions: int


@dataclass(frozen=True)
class DayReport:
    day: str
    lines: tuple[RateLine, ...]


@dataclass(frozen=True)
class Report:
    start: date
    end: date
    siren: str
    days: tuple[DayReport, ...]
    content: bytes

    @property
    def total_cents(self) -> int:
        return sum(line.base_cents + line.vat_cents for d in self.days for line in d.lines)


def _counts(session: Session, closure: Closure) -> dict[int, int]:
    """Tickets per VAT rate in the records the day closure covers."""
    rows = session.execute(
        select(JournalVat.rate_bp, func.count())
        .join(JournalRecord, JournalRecord.seq == JournalVat.seq)
        .where(
            JournalRecord.is_sale.is_(True),
            JournalRecord.seq.between(closure.body["first_seq"], closure.body["last_seq"]),
            JournalRecord.record_type == RecordType.TICKET,
        )
        .group_by(JournalVat.rate_bp)
    )
    return dict(rows.all())


def _amount(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def build_report(session: Session, start: date, end: date) -> Report:
    """The period's report from its day closures; every day with sales must be closed."""
    if end < start:
        raise InvalidInput("La fin de la période précède son début.")
    shop = fiscal_settings(session)
    if not shop.siren:
        raise InvalidInput("Renseignez le SIREN de la boutique (Réglages) avant l'e-reporting.")
    days = []
    for closure in list_closures(session, RecordType.DAY_CLOSURE):
        if not start.isoformat() <= closure.period <= end.isoformat():
            continue
        counts = _counts(session, closure)
        lines = tuple(
            RateLine(v["rate"], v["base"], v["vat"], counts.get(v["rate"], 0))
            for v in closure.body["vat"]
        )
        days.append(DayReport(closure.period, lines))
    last_sale = session.scalar(
        select(JournalRecord.business_date)
        .where(
            JournalRecord.is_sale.is_(True),
            JournalRecord.record_type == RecordType.TICKET,
            JournalRecord.business_date.between(start.isoformat(), end.isoformat()),
        )
        .order_by(JournalRecord.seq.desc())
        .limit(1)
    )
    if last_sale is not None and last_sale not in {d.day for d in days}:
        raise InvalidInput(
            f"La journée du {date.fromisoformat(last_sale):%d/%m/%Y} n'est pas clôturée : "
            "clôturez-la avant de transmettre l'e-reporting."
        )
    root = ET.Element(f"{{{NAMESPACE}}}TransactionsReport")
    header = ET.SubElement(root, f"{{{NAMESPACE}}}Header")
    ET.SubElement(header, f"{{{NAMESPACE}}}Declarant", siren=shop.siren, name=shop.name)
    ET.SubElement(header, f"{{{NAMESPACE}}}Period", start=start.isoformat(), end=end.isoformat())
    ET.SubElement(header, f"{{{NAMESPACE}}}Category").text = "B2C"
    for day in days:
        block = ET.SubElement(root, f"{{{NAMESPACE}}}Day", date=day.day)
        for line in day.lines:
            ET.SubElement(
                block,
                f"{{{NAMESPACE}}}VatRate",
                rate=f"{line.rate_bp / 100:.2f}",
                taxableAmount=_amount(line.base_cents),
                taxAmount=_amount(line.vat_cents),
                transactions=str(line.transactions),
                currency="EUR",
            )
    content = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return Report(start, end, shop.siren, tuple(days), content)


def send_report(
    ledger: Ledger, client: FlowPlatform, start: date, end: date, *, operator: str
) -> tuple[Report, FlowRef]:
    """Build, send (outside any transaction) and journal the period's report."""
    if ledger.kind != "real":
        raise InvalidInput("Un journal de formation ou de démonstration ne transmet rien.")
    with ledger.reader() as session:
        report = build_report(session, start, end)
    digest = sha256_of(report.content)
    ref = client.send_report(report.content, tracking_id=str(uuid.uuid4()), sha256=digest)
    with ledger.transaction() as session:
        log_event(
            session,
            EventCode.EREPORTING,
            operator=operator,
            start=start.isoformat(),
            end=end.isoformat(),
            days=len(report.days),
            total=report.total_cents,
            sha256=digest,
            flow_id=ref.flow_id,
        )
    return report, ref
