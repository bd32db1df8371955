"""Closed periods, and what a sale dated on a given day requires.

The ledger says which day, month and fiscal year were closed last, and which sale was
recorded last. From these alone follow the two rules of closures that ``journal.append``
enforces on every record carrying turnover: nothing may be recorded in a closed month or
year (nor in a day before the last closed one), and sales not yet covered by a day
closure must be closed before the next day's first sale.

A day may be closed several times: trading goes on after a Z, and what is sold then is
covered by the next day closure, numbered in the same sequence (``ZJ``). Whether a day
closure is still due is therefore read from sequence numbers (a sale after the last day
closure), never from dates alone. Making closures is ``app.ledger.closures``; this
module only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ClosureRequired, PeriodClosed
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType

MONTHS_FR = (
    "",
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def day_label(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def month_label(period: str) -> str:
    year, month = (int(part) for part in period.split("-"))
    return f"{MONTHS_FR[month]} {year}"


def last_closed_period(session: Session, kind: RecordType) -> str | None:
    return session.scalar(select(_last_period_query(kind)))


def _last_period_query(kind: RecordType):  # type: ignore[no-untyped-def]
    # A day's later Z has no period of its own: its day is the one of the first.
    return (
        select(JournalRecord.period)
        .where(JournalRecord.record_type == kind, JournalRecord.period.is_not(None))
        .order_by(JournalRecord.number.desc())
        .limit(1)
        .scalar_subquery()
    )


@dataclass(frozen=True)
class _State:
    """What enforcement needs, read in one round trip."""

    day: str | None
    month: str | None
    year: str | None
    last_sale: date | None
    day_seq: int = 0  # the last day closure's
    sale_seq: int = 0  # the last sale's

    @property
    def unclosed_sale(self) -> date | None:
        """The day of the sales no day closure covers yet, if any."""
        return self.last_sale if self.sale_seq > self.day_seq else None

    def closed(self, kind: RecordType) -> str | None:
        return {
            RecordType.DAY_CLOSURE: self.day,
            RecordType.MONTH_CLOSURE: self.month,
            RecordType.YEAR_CLOSURE: self.year,
        }[kind]


def _last_sale(column):  # type: ignore[no-untyped-def]
    return (
        select(column)
        .where(JournalRecord.is_sale.is_(True))
        .order_by(JournalRecord.seq.desc())
        .limit(1)
    )


_LAST_SALE_DATE = _last_sale(JournalRecord.business_date)
_LAST_DAY_SEQ = (
    select(JournalRecord.seq)
    .where(JournalRecord.record_type == RecordType.DAY_CLOSURE)
    .order_by(JournalRecord.number.desc())
    .limit(1)
)
# Built once: enforcement runs on every sale.
_STATE = select(
    _last_period_query(RecordType.DAY_CLOSURE),
    _last_period_query(RecordType.MONTH_CLOSURE),
    _last_period_query(RecordType.YEAR_CLOSURE),
    _LAST_SALE_DATE.scalar_subquery(),
    _LAST_DAY_SEQ.scalar_subquery(),
    _last_sale(JournalRecord.seq).scalar_subquery(),
)


def _state(session: Session) -> _State:
    row = session.connection().execute(_STATE).one()
    sale = date.fromisoformat(row[3]) if row[3] else None
    return _State(row[0], row[1], row[2], sale, row[4] or 0, row[5] or 0)


def unclosed_sale_date(session: Session) -> date | None:
    """The day of the sales recorded since the last day closure (None when there are
    none): the next day closure will cover them."""
    return _state(session).unclosed_sale


def last_sale_date(session: Session) -> date | None:
    value = session.scalar(_LAST_SALE_DATE)
    return date.fromisoformat(value) if value else None


# -- enforcement ----------------------------------------------------------------------
@dataclass(frozen=True)
class Pending:
    """A closure that must be made before sales can go on."""

    kind: RecordType
    period: str

    @property
    def label(self) -> str:
        return period_label(self.kind, self.period)


def agreed(word: str, kind: RecordType) -> str:
    """``word`` agreed with the period: « clôturée » for a day, « clôturé » for a month or
    a fiscal year."""
    return word + "e" if kind is RecordType.DAY_CLOSURE else word


def period_label(kind: RecordType, period: str) -> str:
    """« la journée du 21/11/2026 », « le mois de novembre 2026 », « l'exercice 2026 »."""
    if kind is RecordType.DAY_CLOSURE:
        return f"la journée du {day_label(date.fromisoformat(period))}"
    if kind is RecordType.MONTH_CLOSURE:
        return f"le mois de {month_label(period)}"
    return f"l'exercice {period}"


def closure_required(pending: Pending) -> ClosureRequired:
    return ClosureRequired(
        f"Clôture nécessaire : {pending.label} n'est pas {agreed('clôturé', pending.kind)}. "
        "Faites la clôture avant d'enregistrer de nouvelles ventes.",
        period=pending.period,
        period_kind=pending.kind.value,
    )


def pending_on(session: Session, on: date) -> list[Pending]:
    """Closures that must be made, in order, before a sale can be recorded on ``on``."""
    return _pending(_state(session), on)


def _pending(state: _State, on: date) -> list[Pending]:
    pending: list[Pending] = []
    sale = state.last_sale
    if sale is None or sale >= on:
        return pending
    if state.unclosed_sale is not None:
        pending.append(Pending(RecordType.DAY_CLOSURE, sale.isoformat()))
    sale_month = sale.isoformat()[:7]
    if sale_month < on.isoformat()[:7]:
        closed_month = state.month
        if closed_month is None or sale_month > closed_month:
            pending.append(Pending(RecordType.MONTH_CLOSURE, sale_month))
    sale_year = sale.isoformat()[:4]
    if sale_year < on.isoformat()[:4]:
        closed_year = state.year
        if closed_year is None or sale_year > closed_year:
            pending.append(Pending(RecordType.YEAR_CLOSURE, sale_year))
    return pending


def ensure_open_for_sale(session: Session, on: date) -> None:
    """Raise unless a record carrying turnover may be dated ``on``.

    A day already closed stays open for trading: its later sales go to its next day
    closure. Only a day before the last closed one, or a closed month or year, refuses."""
    iso = on.isoformat()
    state = _state(session)
    if state.day is not None and iso < state.day:
        raise PeriodClosed(
            f"La journée du {day_label(on)} est clôturée : aucune vente ne peut plus y être "
            "enregistrée."
        )
    for kind, key, what in (
        (RecordType.MONTH_CLOSURE, iso[:7], f"Le mois de {month_label(iso[:7])}"),
        (RecordType.YEAR_CLOSURE, iso[:4], f"L'exercice {iso[:4]}"),
    ):
        closed = state.closed(kind)
        if closed is not None and key <= closed:
            raise PeriodClosed(
                f"{what} est {agreed('clôturé', kind)} : aucune vente ne peut plus y être "
                "enregistrée."
            )
    pending = _pending(state, on)
    if pending:
        raise closure_required(pending[0])
