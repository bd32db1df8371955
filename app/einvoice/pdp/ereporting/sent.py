"""The reports sent and what became of them: the EREPORTING events of the ledger, what
the platform (acknowledgement) and the PPF (300 Déposé, 301 Rejeté) answered, and where
each period stands (due, sent, replaced, rejected)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.einvoice.pdp.ereporting.periods import Period, periods_between
from app.einvoice.pdp.ereporting.sales import has_sales
from app.einvoice.pdp.models import (
    ACK_ERROR,
    ACK_PENDING,
    InvoiceLifecycle,
    ReportAcknowledgement,
)
from app.ledger import canonical
from app.ledger.closures import list_closures, today
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType
from app.ledger.settings import fiscal_settings


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


__all__ = [
    "Answer",
    "PeriodState",
    "SentReport",
    "answers",
    "due_periods",
    "period_states",
    "sent_reports",
]
