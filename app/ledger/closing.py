"""Close a period and follow it up: one policy for the GUI and the command line.

A day closure is followed by a backup of the ledger, so that its Z report names the copy;
a fiscal year closure by the archive of that year; then, when the caller gives a
``stamp`` (the time-stamping service, which speaks HTTP and so lives outside the ledger),
every closure and archive still without a time-stamp asks for one; then the followers the
caller names (``then``: the e-reporting of the periods the closure completes). The closure is
committed before the follow-up starts and stands whatever happens to it: a failed
follow-up is reported as a warning (``FollowUp.error``), never raised, and never undoes
the closure. A time-stamp that could not be had waits in its queue: a remark
(``FollowUp.stamp_notice``), not a failure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.orm import Session

from app.errors import ComptoirError
from app.ledger.archive.write import ArchiveResult, archive_after_closure
from app.ledger.backup.copies import BackupFailed, BackupResult, backup_now
from app.ledger.closures import close_day, close_month, close_year
from app.ledger.journal import Recorded
from app.ledger.records import RecordType
from app.ledger.store import Ledger
from app.ledger.timestamps.queue import StampOutcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FollowUp:
    """What was done after a closure. ``error`` says, in French, what could not be done;
    the closure is recorded all the same."""

    backup: BackupResult | None = None
    archive: ArchiveResult | None = None
    error: ComptoirError | None = None
    stamps: StampOutcome | None = None
    notes: tuple[str, ...] = ()  # what the followers given by the caller did, in French

    @property
    def warning(self) -> str | None:
        """The error as the rest of a sentence starting « Attention : »."""
        if isinstance(self.error, BackupFailed):
            return f"sauvegarde impossible : {self.error.reason}"
        return self.error.message if self.error is not None else None

    @property
    def stamp_notice(self) -> str | None:
        """What became of the time-stamps, as a French sentence; None when none was asked."""
        if self.stamps is None or (not self.stamps.stamped and not self.stamps.pending):
            return None
        if self.stamps.error:
            return (
                f"Horodatage en attente : {self.stamps.error} ; il sera redemandé à la "
                "prochaine clôture, au démarrage ou par « comptoir tsa stamp »."
            )
        return f"Horodatage : {self.stamps.summary()}"


@dataclass(frozen=True)
class ClosedPeriod:
    recorded: Recorded
    follow_up: FollowUp


def close_period(
    session: Session,
    kind: RecordType,
    period: date | str,
    *,
    operator: str,
    counted: Mapping[str, int] | None = None,
) -> Recorded:
    """Record the closure of one day (a ``date``), month ("2026-03") or year ("2026"),
    in the caller's transaction. ``counted``: the cash counted at a day closure."""
    kind = RecordType(kind)
    if kind is RecordType.DAY_CLOSURE:
        day = period if isinstance(period, date) else date.fromisoformat(period)
        return close_day(session, day, operator=operator, counted=counted)
    if kind is RecordType.MONTH_CLOSURE:
        return close_month(session, str(period), operator=operator)
    if kind is RecordType.YEAR_CLOSURE:
        return close_year(session, str(period), operator=operator)
    raise ValueError(f"not a closure: {kind}")


Stamper = Callable[[Ledger], StampOutcome]
# Work of a layer above the ledger that follows a closure (the e-reporting of the periods
# it completes): (ledger, kind, period, operator) -> a line for the shop, or None. The
# caller names its followers, so the ledger never imports the layers built on it.
ClosureFollower = Callable[[Ledger, RecordType, str, str], "str | None"]


def follow_up_closure(
    ledger: Ledger,
    kind: RecordType,
    period: str,
    *,
    operator: str,
    stamp: Stamper | None = None,
    then: Sequence[ClosureFollower] = (),
) -> FollowUp:
    """What follows a committed closure (see the module docstring). Slow (a copy of the
    ledger, an archive, a round trip to the time-stamping authority): the GUI runs it off
    its thread."""
    kind = RecordType(kind)
    done = _follow_up(ledger, kind, period, operator=operator)
    if stamp is not None:
        try:
            stamps = stamp(ledger)
        except Exception as exc:  # the stamper reports its failures: this is a bug
            log.exception("time-stamping after the closure %s %s failed", kind, period)
            stamps = StampOutcome(error=f"erreur inattendue ({exc!r})")
        done = replace(done, stamps=stamps)
    if not then:
        return done
    notes: list[str] = []
    error = done.error
    for follower in then:
        try:
            note = follower(ledger, kind, period, operator)
        except ComptoirError as exc:
            error = error or exc
            continue
        except Exception as exc:
            log.exception("follow-up %r of the closure %s failed", follower, period)
            error = error or ComptoirError(
                f"La clôture {period} est enregistrée, mais ce qui devait la suivre a échoué "
                "sur une erreur inattendue.",
                detail=repr(exc),
            )
            continue
        if note:
            notes.append(note)
    return replace(done, notes=tuple(notes), error=error)


def _follow_up(ledger: Ledger, kind: RecordType, period: str, *, operator: str) -> FollowUp:
    kind = RecordType(kind)
    try:
        if kind is RecordType.DAY_CLOSURE:
            if ledger.is_server:  # the server's own backups (pg_dump) keep a PostgreSQL ledger
                return FollowUp()
            return FollowUp(backup=backup_now(ledger, operator=operator))
        if kind is RecordType.YEAR_CLOSURE:
            return FollowUp(archive=archive_after_closure(ledger, kind, period, operator))
    except BackupFailed as exc:  # recorded by backup_now: the banner and the next Z show it
        return FollowUp(error=exc)
    except ComptoirError as exc:  # ArchiveError says the closure is kept and what to do
        return FollowUp(error=exc)
    except Exception as exc:
        log.exception("follow-up of the closure %s %s failed", kind, period)
        return FollowUp(
            error=ComptoirError(
                f"La clôture {period} est enregistrée, mais ce qui devait la suivre (sauvegarde "
                "ou archive) a échoué sur une erreur inattendue.",
                detail=repr(exc),
            )
        )
    return FollowUp()


def close_and_follow_up(
    ledger: Ledger,
    kind: RecordType,
    period: date | str,
    *,
    operator: str,
    counted: Mapping[str, int] | None = None,
    stamp: Stamper | None = None,
    then: Sequence[ClosureFollower] = (),
) -> ClosedPeriod:
    """Close (one transaction, committed), then follow up; see the module docstring."""
    with ledger.transaction() as session:
        recorded = close_period(session, kind, period, operator=operator, counted=counted)
    follow_up = follow_up_closure(
        ledger, recorded.record_type, recorded.body["period"], operator=operator,
        stamp=stamp, then=then,
    )  # fmt: skip
    return ClosedPeriod(recorded, follow_up)
