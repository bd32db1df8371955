"""Shop closures: day, month and year closures over every till, in the central's chain.

Each till closes its own days as always (locally, with or without the central). A shop
day is closed on the central once every registered till is done with that day: its own
day closures of that day (a till may close a day several times, trading after its Z)
cover all its tickets of the day and the day is over (the till has uploaded records of a
later day, or the central's own clock is past it), or it had no sale that day and has
uploaded records of a later day (a till's dates only move forward, so nothing more can
come for that day). The shop day closure sums the tills' TICKET records of that day and lists each
till's own closure (sequence number and hash); months and years sum the shop's day and
month closures, as on a till. The bodies have the layout of ``app.ledger.closures``
(plus ``tills``), with the shop's own grand and perpetual totals.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import ClosureRequired, InvalidInput, LedgerError
from app.ledger import canonical
from app.ledger.central.models import TillChain, TillRecord, TillUpload
from app.ledger.closures import (
    CLOSURE_RANK,
    PeriodTotals,
    chain_span,
    check_day_closable,
    check_period_closable,
    day_label,
    get_closure,
    last_closure,
    list_closures,
    parse_month,
    parse_year,
    perpetual_totals,
    today,
)
from app.ledger.journal import Recorded, append
from app.ledger.periods import agreed, last_closed_period, period_label
from app.ledger.records import RecordType
from app.ledger.store import Ledger
from app.ledger.verify.engine import RunningTotals

TICKET = RecordType.TICKET.value


class CentralKeyMissing(LedgerError):
    """The central's signing key is not on this computer: nothing may be signed for it."""


def central_key_missing(ledger_id: str) -> CentralKeyMissing:
    return CentralKeyMissing(
        "La clé de signature du serveur central n'est pas sur cet ordinateur : rien ne "
        "peut être inscrit dans la chaîne de la boutique (clôtures, vérifications) en son "
        "nom. Faites-le depuis le serveur central ou le poste du gérant, qui détient le "
        f"fichier keys/{ledger_id}.pem (voir la documentation du journal). Les caisses n'en "
        "ont pas besoin pour envoyer leurs enregistrements."
    )


def _writable(central: Ledger) -> Ledger:
    """A shop closure is signed by the central's key: refused on a central opened for
    uploads only (``open_central(..., for_upload=True)``), which holds none."""
    if central.signer is None:
        raise central_key_missing(central.ledger_id)
    return central


class ShopClosurePending(LedgerError):
    """A shop day cannot be closed yet: some tills have not sent their own closure."""

    def __init__(self, message: str, *, missing: tuple[str, ...]) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True)
class PendingShopClosure:
    """A shop closure still to be made, and the tills it waits for (days only)."""

    kind: RecordType
    period: str
    missing: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return period_label(self.kind, self.period)


def _tills_text(names: tuple[str, ...] | list[str]) -> str:
    return ("la caisse " if len(names) == 1 else "les caisses ") + ", ".join(names)


# -- reading the tills ------------------------------------------------------------------
def _tills(session: Session) -> list[TillChain]:
    return list(session.scalars(select(TillChain).order_by(TillChain.till_id)))


def _till_closure(
    session: Session, ledger_id: str, kind: RecordType, period: str
) -> TillRecord | None:
    return session.scalar(
        select(TillRecord).where(
            TillRecord.ledger_id == ledger_id,
            TillRecord.record_type == kind.value,
            TillRecord.period == period,
        )
    )


def _head_date(session: Session, till: TillChain) -> str | None:
    if till.head_seq == 0:
        return None
    return session.scalar(
        select(TillRecord.business_date).where(
            TillRecord.ledger_id == till.ledger_id, TillRecord.seq == till.head_seq
        )
    )


def _has_tickets(session: Session, ledger_id: str, iso: str) -> bool:
    found = session.scalar(
        select(TillRecord.seq)
        .where(
            TillRecord.record_type == TICKET,
            TillRecord.business_date == iso,
            TillRecord.ledger_id == ledger_id,
        )
        .limit(1)
    )
    return found is not None


def _last_till_closure(session: Session, ledger_id: str, iso: str) -> TillRecord | None:
    """A till's last day closure of day ``iso``: its first names the day as its period,
    the later ones of the same day follow it with no period of their own."""
    first = _till_closure(session, ledger_id, RecordType.DAY_CLOSURE, iso)
    if first is None:
        return None
    last = first
    later = session.scalars(
        select(TillRecord)
        .where(
            TillRecord.ledger_id == ledger_id,
            TillRecord.record_type == RecordType.DAY_CLOSURE.value,
            TillRecord.seq > first.seq,
        )
        .order_by(TillRecord.seq)
    )
    for row in later:
        if row.period is not None:
            break
        last = row
    return last


def _tickets_after(session: Session, ledger_id: str, iso: str, seq: int) -> bool:
    found = session.scalar(
        select(TillRecord.seq)
        .where(
            TillRecord.record_type == TICKET,
            TillRecord.business_date == iso,
            TillRecord.ledger_id == ledger_id,
            TillRecord.seq > seq,
        )
        .limit(1)
    )
    return found is not None


def _day_state(session: Session, till: TillChain, iso: str) -> tuple[bool, TillRecord | None]:
    """Whether ``till`` is done with day ``iso``, and its last closure of that day if any."""
    last = _head_date(session, till)
    moved_on = last is not None and last > iso
    closure = _last_till_closure(session, till.ledger_id, iso)
    if closure is not None:
        # Trading may go on after a Z: the day is done once it is over and the till's
        # last Z of it covers every ticket of it.
        over = moved_on or today(session).isoformat() > iso
        return over and not _tickets_after(session, till.ledger_id, iso, closure.seq), closure
    return moved_on and not _has_tickets(session, till.ledger_id, iso), None


def missing_tills(session: Session, iso: str) -> tuple[str, ...]:
    """The tills the shop day ``iso`` still waits for."""
    return tuple(t.till_id for t in _tills(session) if not _day_state(session, t, iso)[0])


def _ticket_days(session: Session, after: str | None, until: str) -> list[str]:
    """Days with at least one till ticket, after ``after`` (exclusive) up to ``until``."""
    query = (
        select(TillRecord.business_date)
        .distinct()
        .where(TillRecord.record_type == TICKET, TillRecord.business_date <= until)
    )
    if after is not None:
        query = query.where(TillRecord.business_date > after)
    return sorted(session.scalars(query))


def _to_totals(running: RunningTotals) -> PeriodTotals:
    return PeriodTotals(
        tickets=running.tickets,
        refunds=running.refunds,
        vat=tuple((rate, *running.vat[rate]) for rate in sorted(running.vat, reverse=True)),
        payments=tuple(sorted(running.payments.items())),
        abs_total=running.abs_total,
    )


def day_ticket_totals(session: Session, iso: str) -> dict[str, RunningTotals]:
    """Every till's tickets of day ``iso``, summed per till ledger id."""
    per_till: dict[str, RunningTotals] = defaultdict(RunningTotals)
    rows = session.execute(
        select(TillRecord.ledger_id, TillRecord.canonical)
        .where(TillRecord.record_type == TICKET, TillRecord.business_date == iso)
        .execution_options(yield_per=1000)
    )
    for ledger_id, data in rows:
        per_till[ledger_id].add_ticket(canonical.decode(data)["body"])
    return per_till


# -- helpers shared by the three closures ------------------------------------------------
def _closure_ref(row: TillRecord | None) -> dict[str, Any] | None:
    return None if row is None else {"seq": row.seq, "number": row.number, "hash": row.hash}


def _period_end(period: str) -> date:
    """The last day of a day (itself), month or year period."""
    if len(period) == 10:
        return date.fromisoformat(period)
    if len(period) == 4:
        return date(int(period), 12, 31)
    year, month = (int(part) for part in period.split("-"))
    return date(year, month, calendar.monthrange(year, month)[1])


def _required(kind: RecordType, period: str) -> ClosureRequired:
    label = PendingShopClosure(kind, period).label
    return ClosureRequired(
        f"Clôture de la boutique : {label} doit d'abord être {agreed('clôturé', kind)}.",
        period=period,
        period_kind=kind.value,
    )


def _unclosed_before(session: Session, kind: RecordType, iso: str) -> str | None:
    """A shop month (``kind`` MONTH_CLOSURE) or year before the one of ``iso`` whose inner
    closures are made but which is not closed itself: it must be closed first."""
    width = 7 if kind is RecordType.MONTH_CLOSURE else 4
    inner = RecordType.DAY_CLOSURE if kind is RecordType.MONTH_CLOSURE else RecordType.MONTH_CLOSURE
    since = last_closure(session, kind)
    for part in list_closures(session, inner, since_seq=since.seq if since else None):
        if part.period[:width] < iso[:width]:
            return part.period[:width]
    return None


# -- closing ------------------------------------------------------------------------------
def close_shop_day(central: Ledger, day: date, *, operator: str) -> Recorded:
    """Close the shop day ``day`` once every registered till is done with it."""
    with _writable(central).transaction() as session:
        return _close_day(session, day, operator)


def _close_day(session: Session, day: date, operator: str) -> Recorded:
    iso = day.isoformat()
    closed_day = check_day_closable(session, day, shop=True)
    earlier = _ticket_days(session, closed_day, (day - timedelta(days=1)).isoformat())
    if earlier:
        raise _required(RecordType.DAY_CLOSURE, earlier[0])
    for kind in (RecordType.MONTH_CLOSURE, RecordType.YEAR_CLOSURE):
        unclosed = _unclosed_before(session, kind, iso)
        if unclosed is not None:
            raise _required(kind, unclosed)
    tills = _tills(session)
    if not tills:
        raise InvalidInput("Aucune caisse n'est inscrite au serveur central.")
    states = {t.ledger_id: _day_state(session, t, iso) for t in tills}
    missing = tuple(t.till_id for t in tills if not states[t.ledger_id][0])
    if missing and today(session) <= day:
        raise ShopClosurePending(
            f"Clôture de la boutique impossible : la journée du {day_label(day)} n'est pas "
            "terminée. Une caisse peut encore vendre après son Z (la vente va sur sa "
            "clôture suivante) ; la boutique se clôture une fois la journée finie.",
            missing=missing,
        )
    if missing:
        raise ShopClosurePending(
            f"Clôture de la boutique impossible : la journée du {day_label(day)} n'a pas "
            f"encore été clôturée et transmise par {_tills_text(missing)}. Chaque caisse "
            "clôture sa journée elle-même ; la boutique pourra être clôturée dès que ces "
            "clôtures auront été reçues par le serveur central.",
            missing=missing,
        )
    per_till = day_ticket_totals(session, iso)
    combined = RunningTotals()
    for running in per_till.values():
        combined.merge(running)
    totals = _to_totals(combined)
    previous = last_closure(session, RecordType.DAY_CLOSURE)
    body: dict[str, Any] = {
        "kind": "day",
        "period": iso,
        **chain_span(session, previous),
        **totals.as_body(),
        **perpetual_totals(previous, totals),
        "counted": [],
        "tills": [
            {
                "till": t.till_id,
                "ledger": t.ledger_id,
                "closure": _closure_ref(states[t.ledger_id][1]),
                "tickets": per_till[t.ledger_id].tickets if t.ledger_id in per_till else 0,
                "total": _to_totals(per_till[t.ledger_id]).total if t.ledger_id in per_till else 0,
            }
            for t in tills
        ],
    }
    return append(session, RecordType.DAY_CLOSURE, body, operator=operator, period=iso)


def close_shop_month(central: Ledger, period: str, *, operator: str) -> Recorded:
    """Close a shop month once it is over and every shop day with sales in it is closed."""
    period = parse_month(period)
    with _writable(central).transaction() as session:
        return _close_aggregate(session, RecordType.MONTH_CLOSURE, period, operator)


def close_shop_year(central: Ledger, year: int | str, *, operator: str) -> Recorded:
    """Close a shop fiscal year (calendar year) once it is over and its months are closed."""
    period = parse_year(year)
    with _writable(central).transaction() as session:
        return _close_aggregate(session, RecordType.YEAR_CLOSURE, period, operator)


def _close_aggregate(session: Session, kind: RecordType, period: str, operator: str) -> Recorded:
    what = PendingShopClosure(kind, period).label
    part_kind = (
        RecordType.DAY_CLOSURE if kind is RecordType.MONTH_CLOSURE else (RecordType.MONTH_CLOSURE)
    )
    check_period_closable(session, kind, period, what, shop=True)
    days = _ticket_days(
        session,
        last_closed_period(session, RecordType.DAY_CLOSURE),
        _period_end(period).isoformat(),
    )
    if days:
        raise _required(RecordType.DAY_CLOSURE, days[0])
    previous = last_closure(session, kind)
    span = chain_span(session, previous)
    later = list_closures(session, part_kind, since_seq=span["first_seq"])
    for part in later:
        if part.period[: len(period)] < period:
            raise _required(
                part_kind, part.period[: 7 if part_kind is RecordType.DAY_CLOSURE else 4]
            )
        if part.period[: len(period)] > period:
            raise InvalidInput(
                f"Clôture impossible : des périodes postérieures à {what} sont déjà closes."
            )
    if kind is RecordType.MONTH_CLOSURE:
        unclosed_year = _unclosed_before(session, RecordType.YEAR_CLOSURE, period)
        if unclosed_year is not None:
            raise _required(RecordType.YEAR_CLOSURE, unclosed_year)
    if kind is RecordType.YEAR_CLOSURE:
        months = {
            d.period[:7]
            for d in list_closures(session, RecordType.DAY_CLOSURE, period_prefix=period)
        }
        unclosed = sorted(m for m in months if get_closure(session, part_kind, m) is None)
        if unclosed:
            raise _required(RecordType.MONTH_CLOSURE, unclosed[0])
    parts = [c for c in later if c.period.startswith(period)]
    totals = PeriodTotals.combine(part.totals for part in parts)
    body: dict[str, Any] = {
        "kind": "month" if kind is RecordType.MONTH_CLOSURE else "year",
        "period": period,
        **span,
        "parts": [{"period": p.period, "seq": p.seq, "hash": p.hash} for p in parts],
        **totals.as_body(),
        **perpetual_totals(previous, totals),
        "tills": [
            {
                "till": t.till_id,
                "ledger": t.ledger_id,
                "closure": _closure_ref(_till_closure(session, t.ledger_id, kind, period)),
            }
            for t in _tills(session)
        ],
    }
    return append(session, kind, body, operator=operator, period=period)


# -- status ---------------------------------------------------------------------------------
def pending_shop_closures(session: Session) -> list[PendingShopClosure]:
    """Shop closures still to be made, oldest first: days with sales (and the tills each
    waits for), then months and years that are over."""
    now = today(session).isoformat()
    pending = [
        PendingShopClosure(RecordType.DAY_CLOSURE, iso, missing_tills(session, iso))
        for iso in _ticket_days(session, last_closed_period(session, RecordType.DAY_CLOSURE), now)
    ]
    for kind, width, inner in (
        (RecordType.MONTH_CLOSURE, 7, RecordType.DAY_CLOSURE),
        (RecordType.YEAR_CLOSURE, 4, RecordType.MONTH_CLOSURE),
    ):
        closed = last_closed_period(session, kind)
        periods = {c.period[:width] for c in list_closures(session, inner)}
        periods |= {p.period[:width] for p in pending}
        for period in sorted(periods):
            if (closed is None or period > closed) and _period_end(period).isoformat() < now:
                pending.append(PendingShopClosure(kind, period))
    return sorted(pending, key=lambda p: (_period_end(p.period), CLOSURE_RANK[p.kind]))


@dataclass(frozen=True)
class TillStatus:
    till_id: str
    ledger_id: str
    head_seq: int
    head_hash: str
    head_date: str | None
    last_upload: str | None  # UTC timestamp of the last batch received
    last_closed_day: str | None


@dataclass(frozen=True)
class ShopStatus:
    tills: tuple[TillStatus, ...]
    pending: tuple[PendingShopClosure, ...]
    last_closed_day: str | None


def shop_status(central: Ledger) -> ShopStatus:
    """The tills, what each has sent, and the shop closures still to be made."""
    with central.reader() as session:
        uploads = dict(
            session.execute(
                select(TillUpload.ledger_id, func.max(TillUpload.uploaded_at)).group_by(
                    TillUpload.ledger_id
                )
            ).all()
        )
        tills = []
        for till in _tills(session):
            closed = session.scalar(
                select(TillRecord.period)
                .where(
                    TillRecord.ledger_id == till.ledger_id,
                    TillRecord.record_type == RecordType.DAY_CLOSURE.value,
                )
                .order_by(TillRecord.number.desc())
                .limit(1)
            )
            tills.append(
                TillStatus(
                    till.till_id,
                    till.ledger_id,
                    till.head_seq,
                    till.head_hash,
                    _head_date(session, till),
                    uploads.get(till.ledger_id),
                    closed,
                )
            )
        return ShopStatus(
            tuple(tills),
            tuple(pending_shop_closures(session)),
            last_closed_period(session, RecordType.DAY_CLOSURE),
        )
