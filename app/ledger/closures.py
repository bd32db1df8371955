"""Daily, monthly and annual closures (Z): making them and reading them back.

A day closure covers every record since the previous day closure; its totals are summed
from the sale tickets in that range. A day may be closed more than once: trading goes on
after a Z, and the next day closure of the same date covers what was sold since. A month
closure sums the day closures of the month (all of them), a year closure the month
closures of the year, so neither rescans the tickets. Each closure carries the period
grand total and the perpetual grand total, which runs from the first record and is never
reset. Which periods are closed, and what a sale needs before it can be recorded, is read
by ``app.ledger.periods``.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.errors import InvalidInput, PeriodClosed
from app.ledger import canonical
from app.ledger.journal import Recorded, append, head, local_date
from app.ledger.models import JournalPayment, JournalRecord, JournalVat
from app.ledger.operators import Permission, require
from app.ledger.periods import (
    Pending,
    agreed,
    closure_required,
    day_label,
    last_closed_period,
    last_sale_date,
    month_label,
    pending_on,
    unclosed_sale_date,
)
from app.ledger.records import RecordType
from app.ledger.store import ledger_of

CASH = "cash"
CLOSURE_RANK = {RecordType.DAY_CLOSURE: 0, RecordType.MONTH_CLOSURE: 1, RecordType.YEAR_CLOSURE: 2}
TURNOVER_TYPES = (RecordType.TICKET.value,)


@dataclass(frozen=True)
class PeriodTotals:
    """Turnover of a range of records or of a set of closures, in cents."""

    tickets: int = 0
    refunds: int = 0
    vat: tuple[tuple[int, int, int, int], ...] = ()  # (rate_bp, base, vat, total)
    payments: tuple[tuple[str, int], ...] = ()  # (method, amount)
    abs_total: int = 0

    @property
    def total(self) -> int:
        return sum(row[3] for row in self.vat)

    @property
    def total_vat(self) -> int:
        return sum(row[2] for row in self.vat)

    @property
    def total_excl(self) -> int:
        return sum(row[1] for row in self.vat)

    def payment(self, method: str) -> int:
        return sum(amount for m, amount in self.payments if m == method)

    def as_body(self) -> dict[str, Any]:
        return {
            "tickets": self.tickets,
            "refunds": self.refunds,
            "vat": [{"rate": r, "base": b, "vat": v, "total": t} for r, b, v, t in self.vat],
            "total_excl": self.total_excl,
            "total_vat": self.total_vat,
            "total": self.total,
            "payments": [{"method": m, "amount": a} for m, a in self.payments],
            "abs_total": self.abs_total,
        }

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> PeriodTotals:
        return cls(
            tickets=body["tickets"],
            refunds=body["refunds"],
            vat=tuple((v["rate"], v["base"], v["vat"], v["total"]) for v in body["vat"]),
            payments=tuple((p["method"], p["amount"]) for p in body["payments"]),
            abs_total=body["abs_total"],
        )

    @classmethod
    def combine(cls, parts: Iterable[PeriodTotals]) -> PeriodTotals:
        vat: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
        pay: dict[str, int] = defaultdict(int)
        tickets = refunds = abs_total = 0
        for part in parts:
            tickets += part.tickets
            refunds += part.refunds
            abs_total += part.abs_total
            for rate, base, tax, total in part.vat:
                acc = vat[rate]
                acc[0] += base
                acc[1] += tax
                acc[2] += total
            for method, amount in part.payments:
                pay[method] += amount
        return cls(
            tickets=tickets,
            refunds=refunds,
            vat=tuple((r, *vat[r]) for r in sorted(vat, reverse=True)),
            payments=tuple(sorted(pay.items())),
            abs_total=abs_total,
        )


@dataclass(frozen=True)
class Closure:
    """A recorded closure, as read back from the ledger."""

    record_type: RecordType
    period: str
    seq: int
    number: int
    ts: str
    operator: str
    hash: str
    body: dict[str, Any] = field(repr=False)

    @property
    def totals(self) -> PeriodTotals:
        return PeriodTotals.from_body(self.body)

    @property
    def perpetual_total(self) -> int:
        return self.body["perpetual_total"]

    @property
    def grand_total(self) -> int:
        return self.body["grand_total"]


# -- reading --------------------------------------------------------------------------
def _closure_from_row(row: JournalRecord) -> Closure:
    body = canonical.decode(row.canonical)["body"]
    return Closure(
        record_type=RecordType(row.record_type),
        # A day's later Z carries its day in its body only (see ``close_day``).
        period=row.period or body.get("period") or "",
        seq=row.seq,
        number=row.number,
        ts=row.ts,
        operator=row.operator,
        hash=row.hash,
        body=body,
    )


def last_closure(session: Session, kind: RecordType) -> Closure | None:
    # Numbers grow with seq within a type; ordering by number uses the unique index.
    row = session.scalar(
        select(JournalRecord)
        .where(JournalRecord.record_type == kind)
        .order_by(JournalRecord.number.desc())
        .limit(1)
    )
    return _closure_from_row(row) if row else None


def list_closures(
    session: Session,
    kind: RecordType,
    *,
    period_prefix: str | None = None,
    since_seq: int | None = None,
) -> list[Closure]:
    query = select(JournalRecord).where(JournalRecord.record_type == kind)
    if period_prefix and session.get_bind().dialect.name == "sqlite":
        # A range rather than LIKE, so that the (record_type, period) index serves it.
        query = query.where(
            JournalRecord.period >= period_prefix, JournalRecord.period < period_prefix + "\uffff"
        )
    elif period_prefix:
        # PostgreSQL compares text by the database's collation, where "\uffff" need not
        # sort last: a prefix match says what is meant (the record type narrows it).
        query = query.where(JournalRecord.period.startswith(period_prefix, autoescape=True))
    if since_seq is not None:
        query = query.where(JournalRecord.seq >= since_seq)
    rows = session.scalars(query.order_by(JournalRecord.number))
    return [_closure_from_row(row) for row in rows]


def closure_numbered(session: Session, kind: RecordType, number: int) -> Closure | None:
    """The closure of ``kind`` numbered ``number`` (a day closed twice has two Zs)."""
    row = session.scalar(
        select(JournalRecord).where(
            JournalRecord.record_type == kind, JournalRecord.number == number
        )
    )
    return _closure_from_row(row) if row else None


def get_closure(session: Session, kind: RecordType, period: str) -> Closure | None:
    row = session.scalar(
        select(JournalRecord).where(
            JournalRecord.record_type == kind, JournalRecord.period == period
        )
    )
    return _closure_from_row(row) if row else None


def today(session: Session) -> date:
    ledger = ledger_of(session)
    return local_date(ledger.clock(), ledger.timezone)


def pending_closures(session: Session, on: date | None = None) -> list[Pending]:
    """Closures that must be made, in order, before a sale can be recorded on ``on``."""
    return pending_on(session, on or today(session))


# -- totals ---------------------------------------------------------------------------
def range_totals(session: Session, first_seq: int, last_seq: int) -> PeriodTotals:
    """Sum the turnover records between two sequence numbers (inclusive) in SQL."""
    in_range = (
        JournalRecord.is_sale.is_(True),  # served by the (is_sale, seq) index
        JournalRecord.seq.between(first_seq, last_seq),
        JournalRecord.record_type.in_(TURNOVER_TYPES),
    )
    counts = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((JournalRecord.total_cents < 0, 1), else_=0)), 0),
            func.coalesce(func.sum(func.abs(JournalRecord.total_cents)), 0),
        ).where(*in_range)
    ).one()
    vat = session.execute(
        select(
            JournalVat.rate_bp,
            func.sum(JournalVat.base_cents),
            func.sum(JournalVat.vat_cents),
            func.sum(JournalVat.total_cents),
        )
        .join(JournalRecord, JournalRecord.seq == JournalVat.seq)
        .where(*in_range)
        .group_by(JournalVat.rate_bp)
        .order_by(JournalVat.rate_bp.desc())
    ).all()
    payments = session.execute(
        select(JournalPayment.method, func.sum(JournalPayment.amount_cents))
        .join(JournalRecord, JournalRecord.seq == JournalPayment.seq)
        .where(*in_range)
        .group_by(JournalPayment.method)
        .order_by(JournalPayment.method)
    ).all()
    return PeriodTotals(
        tickets=counts[0],
        refunds=counts[1],
        vat=tuple(tuple(row) for row in vat),
        payments=tuple(tuple(row) for row in payments),
        abs_total=counts[2],
    )


def _range_after(session: Session, previous: Closure | None) -> tuple[int, int, str]:
    top = head(session)
    assert top is not None  # a ledger always starts with its KEY record
    first = previous.seq + 1 if previous else 1
    return first, top.seq, top.hash


def x_report(session: Session) -> PeriodTotals:
    """Running totals since the last day closure; records nothing."""
    previous = last_closure(session, RecordType.DAY_CLOSURE)
    first, last, _ = _range_after(session, previous)
    return range_totals(session, first, last)


def chain_span(session: Session, previous: Closure | None) -> dict[str, Any]:
    """The body fields that tie a closure to the chain: the records it covers, the head it
    saw and the closure of its kind before it. The shop closures of a central use it too,
    so that both chains of closures are checked by the same rules."""
    first, last, last_hash = _range_after(session, previous)
    return {
        "first_seq": first,
        "last_seq": last,
        "last_hash": last_hash,
        "previous": _link(previous),
    }


def perpetual_totals(previous: Closure | None, totals: PeriodTotals) -> dict[str, int]:
    """The grand total of the period and the perpetual totals carried over from the closure
    of the same kind before it (shared with the shop closures of a central)."""
    before = previous.body["perpetual_total"] if previous else 0
    before_abs = previous.body["perpetual_abs_total"] if previous else 0
    return {
        "grand_total": totals.total,
        "perpetual_total": before + totals.total,
        "perpetual_abs_total": before_abs + totals.abs_total,
    }


def _link(previous: Closure | None) -> dict[str, Any] | None:
    return {"seq": previous.seq, "hash": previous.hash} if previous else None


# -- closing --------------------------------------------------------------------------
def check_day_closable(session: Session, day: date, *, shop: bool = False) -> str | None:
    """What every day closure must pass, a till's or (``shop``) a central's: the day has
    begun, comes after the last closed day, and its month and year are still open. A till
    may close a day again when it sold since its last Z; a shop day is closed once.
    Returns the last closed day (None before the first)."""
    whose = " pour la boutique" if shop else ""
    iso = day.isoformat()
    if day > today(session):
        raise InvalidInput(f"La journée du {day_label(day)} n'est pas encore commencée.")
    closed_day = last_closed_period(session, RecordType.DAY_CLOSURE)
    if closed_day == iso and (shop or unclosed_sale_date(session) is None):
        last = last_closure(session, RecordType.DAY_CLOSURE)
        since = "" if shop or last is None else f" ({_z_name(last)}) et rien n'a été vendu depuis"
        raise PeriodClosed(f"La journée du {day_label(day)} est déjà clôturée{whose}{since}.")
    if closed_day is not None and iso < closed_day:
        last = " de la boutique" if shop else ""
        raise InvalidInput(
            f"La journée du {day_label(day)} est antérieure à la dernière clôture{last} "
            f"({day_label(date.fromisoformat(closed_day))})."
        )
    for kind, key in ((RecordType.MONTH_CLOSURE, iso[:7]), (RecordType.YEAR_CLOSURE, iso[:4])):
        closed = last_closed_period(session, kind)
        if closed is not None and key <= closed:
            raise PeriodClosed(f"La période {key} est déjà clôturée{whose}.")
    return closed_day


def _z_name(closure: Closure) -> str:
    return f"Z n° {closure.number}"


def check_period_closable(
    session: Session, kind: RecordType, period: str, what: str, *, shop: bool = False
) -> None:
    """What every month or year closure must pass, a till's or (``shop``) a central's: not
    closed yet, over, and no later period of its kind closed. ``what`` names it."""
    whose = " pour la boutique" if shop else ""
    if get_closure(session, kind, period):
        raise PeriodClosed(
            f"Clôture impossible : {what} est déjà {agreed('clôturé', kind)}{whose}."
        )
    if _period_end(period) >= today(session):
        raise InvalidInput(f"Clôture impossible : {what} n'est pas {agreed('terminé', kind)}.")
    closed = last_closed_period(session, kind)
    if closed is not None and period < closed:
        raise InvalidInput(f"Clôture impossible : une période postérieure à {what} est close.")


def close_day(
    session: Session,
    day: date,
    *,
    operator: str,
    counted: Mapping[str, int] | None = None,
    automatic: bool = False,
) -> Recorded:
    """Close ``day`` (Z): totals of the tickets since the last day closure, which may be
    a Z of the same day (trading went on after it).

    ``counted`` holds what the operator counted per payment method (cents); the
    expected amounts and the differences are recorded with it. ``automatic``: made by
    the rules, not by a choice of ``operator`` (a sale paid as the day changed), so it
    needs no permission and says so in its body.
    """
    if not automatic:
        require(session, operator, Permission.CLOSE_DAY)
    iso = day.isoformat()
    check_day_closable(session, day)
    sale = unclosed_sale_date(session)
    if sale is not None and sale < day:
        raise closure_required(Pending(RecordType.DAY_CLOSURE, sale.isoformat()))
    if sale is not None and sale > day:
        raise InvalidInput(
            f"Des ventes ont été enregistrées le {day_label(sale)} : la journée du "
            f"{day_label(day)} ne peut plus être clôturée."
        )
    previous = last_closure(session, RecordType.DAY_CLOSURE)
    span = chain_span(session, previous)
    totals = range_totals(session, span["first_seq"], span["last_seq"])
    body: dict[str, Any] = {
        "kind": "day",
        "period": iso,
        **span,
        **totals.as_body(),
        **perpetual_totals(previous, totals),
        "counted": _cash_count(totals, counted),
    }
    if automatic:
        body["automatic"] = True
    # The record's period names the first Z of a day, the one that closed it; a later Z
    # of the same day carries its day in its body and no period of its own, so that a
    # period still names one record (the journal's unique (type, period) key).
    again = previous is not None and previous.period == iso
    return append(
        session, RecordType.DAY_CLOSURE, body, operator=operator, period=None if again else iso
    )


def _cash_count(totals: PeriodTotals, counted: Mapping[str, int] | None) -> list[dict[str, Any]]:
    if not counted:
        return []
    rows = []
    for method in sorted(set(counted) | {m for m, _ in totals.payments}):
        value = counted.get(method)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise InvalidInput("Le montant compté doit être un nombre entier de centimes.")
        if value is not None and not 0 <= value < 10**11:
            raise InvalidInput("Le montant compté est hors limites.")
        expected = totals.payment(method)
        rows.append(
            {
                "method": method,
                "expected": expected,
                "counted": value,
                "difference": None if value is None else value - expected,
            }
        )
    return rows


def _period_end(period: str) -> date:
    if len(period) == 4:
        return date(int(period), 12, 31)
    year, month = (int(part) for part in period.split("-"))
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_month(period: str) -> str:
    """``period`` as AAAA-MM, or an InvalidInput naming what was expected."""
    try:
        year, month = period.split("-")
        if len(year) != 4 or not 1 <= int(month) <= 12:
            raise ValueError
        return f"{int(year):04d}-{int(month):02d}"
    except ValueError:
        raise InvalidInput(f"Mois invalide : {period!r} (attendu AAAA-MM).") from None


def parse_year(year: int | str) -> str:
    """``year`` as AAAA, or an InvalidInput naming it."""
    try:
        return f"{int(year):04d}"
    except ValueError:
        raise InvalidInput(f"Année invalide : {year!r}.") from None


def close_month(
    session: Session, period: str, *, operator: str, automatic: bool = False
) -> Recorded:
    """Close a month once it is over and all its days with sales are closed; it sums
    every day closure of the month, several for a day that was closed more than once."""
    if not automatic:
        require(session, operator, Permission.CLOSE_PERIOD)
    period = parse_month(period)
    return _close_aggregate(
        session,
        RecordType.MONTH_CLOSURE,
        RecordType.DAY_CLOSURE,
        period,
        operator,
        what=f"le mois de {month_label(period)}",
        automatic=automatic,
    )


def close_year(
    session: Session, year: int | str, *, operator: str, automatic: bool = False
) -> Recorded:
    """Close a (calendar) fiscal year once it is over and all its months are closed."""
    if not automatic:
        require(session, operator, Permission.CLOSE_PERIOD)
    period = parse_year(year)
    return _close_aggregate(
        session,
        RecordType.YEAR_CLOSURE,
        RecordType.MONTH_CLOSURE,
        period,
        operator,
        what=f"l'exercice {period}",
        automatic=automatic,
    )


def _close_aggregate(
    session: Session,
    kind: RecordType,
    part_kind: RecordType,
    period: str,
    operator: str,
    *,
    what: str,
    automatic: bool = False,
) -> Recorded:
    check_period_closable(session, kind, period, what)
    # Every inner or earlier period with sales must be closed first.
    rank = CLOSURE_RANK[kind]
    for pending in pending_closures(session, _period_end(period) + timedelta(days=1)):
        if CLOSURE_RANK[pending.kind] < rank or (pending.kind is kind and pending.period != period):
            raise closure_required(pending)
    previous = last_closure(session, kind)
    span = chain_span(session, previous)
    later = list_closures(session, part_kind, since_seq=span["first_seq"])
    parts = [c for c in later if c.period.startswith(period)]
    sale = last_sale_date(session)
    if (sale is not None and sale > _period_end(period)) or any(
        c.period[: len(period)] > period for c in later
    ):
        raise InvalidInput(
            f"Clôture impossible : des ventes ont déjà été enregistrées après {what}."
        )
    totals = PeriodTotals.combine(part.totals for part in parts)
    body: dict[str, Any] = {
        "kind": "month" if kind is RecordType.MONTH_CLOSURE else "year",
        "period": period,
        **span,
        "parts": [{"period": p.period, "seq": p.seq, "hash": p.hash} for p in parts],
        **totals.as_body(),
        **perpetual_totals(previous, totals),
    }
    if automatic:
        body["automatic"] = True
    return append(session, kind, body, operator=operator, period=period)


def close_pending(
    session: Session, *, operator: str, on: date | None = None, automatic: bool = False
) -> list[Recorded]:
    """Make every closure that blocks a sale on ``on`` (default: today), in order.
    ``automatic``: the rules make them, not a choice of ``operator`` (see ``close_day``)."""
    done = []
    for pending in pending_closures(session, on):
        if pending.kind is RecordType.DAY_CLOSURE:
            day = date.fromisoformat(pending.period)
            done.append(close_day(session, day, operator=operator, automatic=automatic))
        elif pending.kind is RecordType.MONTH_CLOSURE:
            done.append(
                close_month(session, pending.period, operator=operator, automatic=automatic)
            )
        else:
            done.append(close_year(session, pending.period, operator=operator, automatic=automatic))
    return done


def last_day_closure_of(session: Session, day: date) -> Closure | None:
    """The latest Z when it closed ``day``, None otherwise."""
    last = last_closure(session, RecordType.DAY_CLOSURE)
    return last if last is not None and last.period == day.isoformat() else None
