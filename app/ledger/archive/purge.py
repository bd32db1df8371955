"""Purge of an archived fiscal year: its records leave the ledger, its signed archive keeps
them.

A ledger grows for ever; once a fiscal year is past the retention period (the preference
``retention_years``, six years by default and never less) and its archive is kept in a
safe place, a manager may remove the year's records from the database. The purge is
optional, refused unless every condition holds, and confirmed explicitly by whoever asks
for it (the command line and the Archives screen ask; this module does not).

What stays online, so that the ledger still verifies and the totals never reset:

- every closure (day, month, year): their totals and the perpetual grand totals;
- invoices and credit notes until their ten years are over (Code de commerce, art.
  L123-22), whatever the retention of the cash data;
- KEY records (verification needs the keys), SETTINGS records (the shop's identity),
  ARCHIVE records (the index of archives, the one the purge relies on) and PURGE events
  (what excuses the gaps afterwards);
- any record linked by ``ref`` to a record that stays: a refund made the next year keeps
  its sale, and a sale kept keeps its corrections and duplicates, so that what can still be
  refunded and the duplicate count stay right.

The records deleted are those of the archive's range whose business date falls in the year
(records of the next year made before the year closure belong to the next year's archive,
and to its purge). Before anything is deleted: the year is closed, old enough, its archive
is the one an ARCHIVE record of this ledger describes (same manifest digest), the archive
verifies now, every record to delete is in it with the same hash, and the year was not
purged before.

**The guards.** The append-only triggers stay in force. Migration 0007 makes the DELETE
guard of ``journal``, ``journal_vat`` and ``journal_payment`` consult a one-row table,
``purge_authorisation``, which the purge fills at the start of its transaction and empties
before it commits: only rows of that sequence range, dated in that year, of a type a purge
may delete, go through, and only within that transaction (no other connection ever sees
the uncommitted row). Migration 0011 lets that row be written only together with its
PURGE record: the event is appended first, and the row must name it (``purge_seq``) as
the newest record of the chain, for the same year and range; a bare INSERT is refused, so
it lets nothing be deleted. Dropping and recreating the triggers inside the transaction would
also have rolled back cleanly, but it takes an exclusive lock on the journal table on
PostgreSQL (every till's reads would wait), opens every row of every table to any DELETE
for as long as the transaction lasts, and repeats the migrations' trigger text in code.

The purge is one transaction: the deletions, the highest numbers removed per type
(``purged_number``: numbering goes on after them, a purged number is never given again)
and the PURGE event that records what went (see ``app.ledger.purged``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.errors import InvalidInput, LedgerError
from app.ledger import canonical
from app.ledger.archive.check import verify_archive
from app.ledger.archive.folder import DEFAULT_RETENTION_YEARS, ArchiveEntry, list_archives
from app.ledger.archive.format import CHAIN, MANIFEST, ChainRecord
from app.ledger.closures import get_closure
from app.ledger.events import EventCode, log_event
from app.ledger.journal import Recorded
from app.ledger.models import (
    JournalPayment,
    JournalRecord,
    JournalVat,
    PurgeAuthorisation,
    PurgedNumber,
)
from app.ledger.operators import Permission, require
from app.ledger.preferences import get_preference
from app.ledger.purged import PURGE_CODE, PURGE_MARKER, compact, purge_events_sql
from app.ledger.records import RECORD_LABELS, RecordType
from app.ledger.store import Ledger
from app.values.money import group_thousands

__all__ = [
    "KEPT_TYPES",
    "RETENTION_PREFERENCE",
    "PurgePlan",
    "PurgeRefused",
    "PurgeResult",
    "archived_year",
    "plan_purge",
    "purge_period",
    "retention_years",
]

log = logging.getLogger(__name__)

RETENTION_PREFERENCE = "retention_years"
# Never deleted by a purge (migration 0007's guard says the same).
KEPT_TYPES = frozenset(
    {
        RecordType.KEY,
        RecordType.SETTINGS,
        RecordType.DAY_CLOSURE,
        RecordType.MONTH_CLOSURE,
        RecordType.YEAR_CLOSURE,
        RecordType.ARCHIVE,
    }
)
_KEPT_VALUES = frozenset(t.value for t in KEPT_TYPES)
INVOICE_RETENTION_YEARS = 10
"""Invoices and credit notes stay readable ten years (Code de commerce, art. L123-22),
although cash data may go after six once archived: a purge keeps them until then."""
INVOICE_TYPES = frozenset(
    t.value
    for t in (
        RecordType.INVOICE,
        RecordType.CREDIT_NOTE,
        RecordType.SELF_INVOICE,
        RecordType.SELF_CREDIT,
    )
)
_UNREADABLE = (OSError, zipfile.BadZipFile, zlib.error, KeyError, ValueError, EOFError)

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


class PurgeRefused(LedgerError):
    """A purge the rules do not allow; nothing was deleted."""


@dataclass(frozen=True)
class PurgePlan:
    """What a purge deletes and keeps, as checked; what the confirmation shows."""

    year: str
    archive_path: Path
    manifest_sha256: str
    archive_seq: int  # the ARCHIVE record of the archive purged from
    first_seq: int  # the archive's range
    last_seq: int
    deleted: tuple[tuple[int, int], ...]  # seq ranges
    records: int
    counts: dict[str, int]  # per record type
    numbers: dict[str, tuple[tuple[int, int], ...]]  # document numbers deleted, per type
    bridges: tuple[tuple[int, str], ...]  # (seq, hash) of kept records after a deleted one
    kept: int  # records of the range left online
    linked: int  # of which kept only because a record that stays refers to them (or back)
    retention_years: int

    @property
    def last_numbers(self) -> dict[str, int]:
        return {rtype: runs[-1][1] for rtype, runs in self.numbers.items()}

    def detail(self) -> dict[str, Any]:
        """The PURGE event's detail (canonical values only)."""
        return {
            "year": self.year,
            "archive": {
                "file": self.archive_path.name,
                "manifest_sha256": self.manifest_sha256,
                "seq": self.archive_seq,
            },
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "deleted": [[lo, hi] for lo, hi in self.deleted],
            "records": self.records,
            "counts": dict(sorted(self.counts.items())),
            "numbers": {
                t: [[lo, hi] for lo, hi in runs] for t, runs in sorted(self.numbers.items())
            },
            "last_numbers": dict(sorted(self.last_numbers.items())),
            "bridges": [[seq, hash_] for seq, hash_ in self.bridges],
            "kept": self.kept,
            "linked": self.linked,
            "retention_years": self.retention_years,
        }

    def describe(self) -> str:
        """French sentences: what goes, what stays, where it is kept."""
        kinds = ", ".join(
            f"{RECORD_LABELS[RecordType(t)].lower()} : {group_thousands(n)}"
            for t, n in sorted(self.counts.items(), key=lambda item: -item[1])
        )
        linked = (
            f", et {group_thousands(self.linked)} gardé(s) car lié(s) à un enregistrement qui reste"
            if self.linked
            else ""
        )
        records, kept = group_thousands(self.records), group_thousands(self.kept)
        return (
            f"Exercice {self.year} : {records} enregistrements seront supprimés du "
            f"journal ({kinds}).\n"
            f"Ils restent dans l'archive {self.archive_path.name}, vérifiée.\n"
            f"Restent en ligne : {kept} enregistrements de la période (clôtures et "
            f"grands totaux perpétuels, clés, paramètres, archives{linked}).\n"
            "La purge est inscrite au journal. Elle est définitive : gardez l'archive en lieu sûr."
        )


@dataclass(frozen=True)
class PurgeResult:
    plan: PurgePlan
    recorded: Recorded  # the PURGE event


# -- conditions -----------------------------------------------------------------------------
def retention_years(session: Session) -> int:
    """The shop preference ``retention_years``; never less than the legal six years."""
    try:
        text = get_preference(session, RETENTION_PREFERENCE).strip()
    except SQLAlchemyError as exc:  # a ledger without the preferences table
        log.debug("retention preference unreadable: %s", exc)
        text = ""
    try:
        chosen = int(text) if text else DEFAULT_RETENTION_YEARS
    except ValueError:
        log.warning("retention preference %r is not a number of years", text)
        chosen = DEFAULT_RETENTION_YEARS
    return max(DEFAULT_RETENTION_YEARS, chosen)


def _year(year: Any) -> str:
    text = str(year).strip()
    if len(text) != 4 or not text.isascii() or not text.isdigit():
        raise InvalidInput(f"Exercice invalide : {text!r} (attendu AAAA).")
    return text


def _writable(ledger: Ledger) -> None:
    if ledger.readonly or ledger.signer is None:
        raise PurgeRefused("Purge impossible : le journal est ouvert en lecture seule.")
    if ledger.kind == "central":
        raise PurgeRefused(
            "La purge ne s'applique pas au serveur central : il garde les chaînes des "
            "caisses telles qu'il les a reçues."
        )


def _old_enough(ledger: Ledger, session: Session, year: str) -> int:
    years = retention_years(session)
    today = ledger.clock().astimezone(ZoneInfo(ledger.timezone)).date()
    if int(year) + years >= today.year:
        raise PurgeRefused(
            f"L'exercice {year} doit être conservé jusqu'au 31/12/{int(year) + years} "
            f"(durée de conservation : {years} ans) : il ne peut pas encore être purgé."
        )
    return years


def _purge_events(session: Session) -> list[tuple[int, dict[str, Any]]]:
    """(seq, envelope) of every PURGE event of the ledger."""
    conn = session.connection()
    rows = conn.exec_driver_sql(purge_events_sql(conn.dialect.name), (PURGE_MARKER,))
    out = []
    for seq, data in rows:
        envelope = canonical.decode(bytes(data))
        if envelope.get("type") == "EVENT" and envelope["body"].get("code") == PURGE_CODE:
            out.append((seq, envelope))
    return out


def purged_years(session: Session) -> set[str]:
    """The fiscal years whose records were purged (their archives hold them now)."""
    return {str(envelope["body"]["detail"].get("year")) for _, envelope in _purge_events(session)}


def _check_ledger(session: Session, year: str, digest: str, file_name: str) -> ArchiveEntry:
    """The year is closed, was not purged, and ``digest`` is the manifest of one of its
    archives recorded in this ledger; returns that archive's entry."""
    if get_closure(session, RecordType.YEAR_CLOSURE, year) is None:
        raise PurgeRefused(f"L'exercice {year} n'est pas clôturé : il ne peut pas être purgé.")
    for seq, envelope in _purge_events(session):
        if envelope["body"]["detail"].get("year") == year:
            day = envelope["date"]
            raise PurgeRefused(
                f"L'exercice {year} a déjà été purgé le {day[8:10]}/{day[5:7]}/{day[:4]} "
                f"(enregistrement n°{seq})."
            )
    entries = [e for e in list_archives(session) if e.period == year]
    if not entries:
        raise PurgeRefused(
            f"Aucune archive de l'exercice {year} n'est inscrite au journal : créez-la "
            f"d'abord (comptoir archive create --year {year}), mettez-la en lieu sûr, puis "
            "purgez."
        )
    for entry in entries:
        if entry.manifest_sha256 == digest:
            return entry
    known = ", ".join(sorted({e.file_name for e in entries}))
    raise PurgeRefused(
        f"Le fichier {file_name} n'est pas une archive de l'exercice {year} inscrite à ce "
        f"journal : son manifeste ne correspond à aucune des archives enregistrées ({known})."
    )


def _manifest(path: Path) -> tuple[bytes, dict[str, Any]]:
    try:
        with zipfile.ZipFile(path) as archive:
            data = archive.read(MANIFEST)
        manifest = json.loads(data)
        if not isinstance(manifest, dict):
            raise ValueError("manifest is not an object")
    except _UNREADABLE as exc:
        raise PurgeRefused(
            f"Le fichier {path.name} n'est pas une archive Comptoir lisible.", detail=repr(exc)
        ) from exc
    return data, manifest


def archived_year(path: Path) -> str:
    """The fiscal year an archive file holds; refused for a month's archive."""
    _data, manifest = _manifest(Path(path))
    period = str(manifest.get("period", ""))
    if len(period) != 4 or not period.isdigit():
        raise PurgeRefused(
            f"L'archive {Path(path).name} n'est pas celle d'un exercice entier : seule "
            "l'archive d'un exercice permet de le purger."
        )
    return period


def _check_archive(path: Path, progress: Progress | None, cancelled: Cancelled | None) -> None:
    report = verify_archive(path, progress=progress, cancelled=cancelled)
    if report.cancelled:
        raise PurgeRefused("Vérification de l'archive interrompue : rien n'a été purgé.")
    if not report.ok:
        first = report.findings[0].message.rstrip(".")
        raise PurgeRefused(
            f"L'archive {path.name} ne se vérifie pas ({first[:1].lower()}{first[1:]}) : "
            "rien n'a été purgé."
        )


def _check_hashes(path: Path, wanted: dict[int, str]) -> None:
    """Every record to delete is in the archive with the same hash."""
    remaining = dict(wanted)
    try:
        with zipfile.ZipFile(path) as archive, archive.open(CHAIN) as stream:
            for line in stream:
                record = ChainRecord.from_line(line)
                expected = remaining.pop(record.seq, None)
                if expected is not None and expected != record.hash:
                    raise PurgeRefused(
                        f"L'enregistrement n°{record.seq} du journal diffère de celui de "
                        f"l'archive {path.name} : rien n'a été purgé. Vérifiez le journal "
                        "(comptoir verify)."
                    )
    except _UNREADABLE as exc:
        raise PurgeRefused(
            f"Le fichier {path.name} n'est pas une archive Comptoir lisible.", detail=repr(exc)
        ) from exc
    if remaining:
        raise PurgeRefused(
            f"L'enregistrement n°{min(remaining)} n'est pas dans l'archive {path.name} : "
            "rien n'a été purgé."
        )


# -- what goes --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Row:
    seq: int
    record_type: str
    number: int
    business_date: str
    hash: str
    ref_seq: int | None


def _keep_linked(candidates: set[int], refs: Iterable[tuple[int, int]]) -> int:
    """Drop from ``candidates`` every record linked by ``ref``, either way, to a record
    that stays; returns how many were dropped. ``refs``: (seq, ref_seq) pairs touching the
    range, from anywhere in the ledger."""
    edges = list(refs)
    before = len(candidates)
    changed = True
    while changed:
        changed = False
        for source, target in edges:
            if (source in candidates) != (target in candidates):
                candidates.discard(source)
                candidates.discard(target)
                changed = True
    return before - len(candidates)


@dataclass(frozen=True)
class _Found:
    """Which records of an archive's range go, and what the PURGE event says of them."""

    hashes: dict[int, str]  # seq -> hash of every record to delete
    counts: dict[str, int]
    numbers: dict[str, tuple[tuple[int, int], ...]]
    bridges: tuple[tuple[int, str], ...]
    kept: int
    linked: int

    def plan(
        self, year: str, path: Path, digest: str, entry: ArchiveEntry, years: int
    ) -> PurgePlan:
        return PurgePlan(
            year=year,
            archive_path=path,
            manifest_sha256=digest,
            archive_seq=entry.seq,
            first_seq=entry.first_seq,
            last_seq=entry.last_seq,
            deleted=tuple((lo, hi) for lo, hi in compact(self.hashes)),
            records=len(self.hashes),
            counts=self.counts,
            numbers=self.numbers,
            bridges=self.bridges,
            kept=self.kept,
            linked=self.linked,
            retention_years=years,
        )


def _invoices_kept(ledger: Ledger, year: str) -> bool:
    """Whether the year's invoices and credit notes are still within their ten years."""
    today = ledger.clock().astimezone(ZoneInfo(ledger.timezone)).date()
    return int(year) + INVOICE_RETENTION_YEARS >= today.year


def _deletion(
    session: Session, year: str, entry: ArchiveEntry, *, keep_invoices: bool = True
) -> _Found:
    """Which records of the archive's range go, read in the caller's session. Invoices and
    credit notes stay while ``keep_invoices`` (their ten years are not over)."""
    first, last = entry.first_seq, entry.last_seq
    journal = JournalRecord
    columns = (
        journal.seq,
        journal.record_type,
        journal.number,
        journal.business_date,
        journal.hash,
        journal.ref_seq,
    )
    rows = {
        values[0]: _Row(*values)
        for values in session.execute(select(*columns).where(journal.seq.between(first, last)))
    }
    protected = {seq for seq, _envelope in _purge_events(session)}
    prefix = f"{year}-"
    candidates = {
        seq
        for seq, row in rows.items()
        if row.business_date.startswith(prefix)
        and row.record_type not in _KEPT_VALUES
        and not (keep_invoices and row.record_type in INVOICE_TYPES)
        and seq not in protected
    }
    refs = session.execute(
        select(journal.seq, journal.ref_seq).where(
            journal.ref_seq.is_not(None),
            journal.seq.between(first, last) | journal.ref_seq.between(first, last),
        )
    )
    linked = _keep_linked(candidates, [(seq, ref) for seq, ref in refs])
    bridges = []
    previous_deleted = False
    for seq in sorted(rows):  # every record still there in the range, in chain order
        if seq not in candidates and previous_deleted:
            bridges.append((seq, rows[seq].hash))
        previous_deleted = seq in candidates
    by_type: dict[str, list[int]] = {}
    for seq in candidates:
        by_type.setdefault(rows[seq].record_type, []).append(rows[seq].number)
    return _Found(
        hashes={seq: rows[seq].hash for seq in sorted(candidates)},
        counts=dict(Counter(rows[seq].record_type for seq in candidates)),
        numbers={t: tuple((lo, hi) for lo, hi in compact(n)) for t, n in by_type.items()},
        bridges=tuple(bridges),
        kept=len(rows) - len(candidates),
        linked=linked,
    )


# -- entry points -----------------------------------------------------------------------------
def plan_purge(
    ledger: Ledger,
    year: str | int,
    *,
    archive_path: Path,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> PurgePlan:
    """Check every condition of a purge and say what it would delete; writes nothing."""
    year, path = _year(year), Path(archive_path)
    _writable(ledger)
    data, _manifest_content = _manifest(path)
    digest = hashlib.sha256(data).hexdigest()
    with ledger.reader() as session:
        years = _old_enough(ledger, session, year)
        entry = _check_ledger(session, year, digest, path.name)
        found = _deletion(session, year, entry, keep_invoices=_invoices_kept(ledger, year))
    if not found.hashes:
        raise PurgeRefused(f"L'exercice {year} n'a plus aucun enregistrement à purger.")
    _check_archive(path, progress, cancelled)
    _check_hashes(path, found.hashes)
    return found.plan(year, path, digest, entry, years)


def purge_period(
    ledger: Ledger,
    year: str | int,
    *,
    operator: str,
    archive_path: Path,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> PurgeResult:
    """Delete the records of an archived fiscal year past retention, in one transaction,
    and journal it as a PURGE event. Refused (``PurgeRefused``, nothing deleted) unless
    every condition of the module's docstring holds.

    The slow checks (the archive verified, every record compared with it) run before the
    write lock is taken; under the lock the plan is read again and must be the same."""
    with ledger.reader() as session:
        require(session, operator, Permission.CLOSE_PERIOD)
    prepared = plan_purge(
        ledger, year, archive_path=archive_path, progress=progress, cancelled=cancelled
    )
    with ledger.transaction() as session:
        years = _old_enough(ledger, session, prepared.year)
        entry = _check_ledger(
            session, prepared.year, prepared.manifest_sha256, prepared.archive_path.name
        )
        keep = _invoices_kept(ledger, prepared.year)
        plan = _deletion(session, prepared.year, entry, keep_invoices=keep).plan(
            prepared.year, prepared.archive_path, prepared.manifest_sha256, entry, years
        )
        if plan != prepared:
            raise PurgeRefused(
                "Le journal a changé pendant la préparation de la purge : rien n'a été purgé, "
                "recommencez."
            )
        # The signed PURGE record first: the authorisation is refused without it (0011).
        recorded = log_event(session, EventCode.PURGE, operator=operator, **plan.detail())
        _delete(session, plan, recorded.seq)
    log.info(
        "fiscal year %s purged: %d records, archive %s", plan.year, plan.records, plan.archive_path
    )
    return PurgeResult(plan, recorded)


def _delete(session: Session, plan: PurgePlan, purge_seq: int) -> None:
    """The deletions, between the authorisation row's insertion and its removal; the
    authorisation names the PURGE record just appended (``purge_seq``)."""
    conn = session.connection()
    authorisation = PurgeAuthorisation.__table__
    row = {"id": 1, "year": plan.year, "first_seq": plan.first_seq, "last_seq": plan.last_seq}
    conn.execute(insert(authorisation), [{**row, "purge_seq": purge_seq}])
    journal, vat, payment = (t.__table__ for t in (JournalRecord, JournalVat, JournalPayment))
    removed = 0
    # Newest first: a record refers only to older ones, so no reference is left dangling
    # between two statements.
    for lo, hi in reversed(plan.deleted):
        for copies in (vat, payment):
            conn.execute(delete(copies).where(copies.c.seq.between(lo, hi)))
        removed += conn.execute(delete(journal).where(journal.c.seq.between(lo, hi))).rowcount
    conn.execute(delete(authorisation))
    if removed != plan.records:
        raise LedgerError(
            "La purge a été annulée : le nombre d'enregistrements supprimés ne correspond pas "
            "à ce qui était prévu. Rien n'a été purgé.",
            detail=f"expected {plan.records}, deleted {removed}",
        )
    _raise_number_floors(session, plan.last_numbers)


def _raise_number_floors(session: Session, last_numbers: dict[str, int]) -> None:
    conn = session.connection()
    table = PurgedNumber.__table__
    for rtype, number in last_numbers.items():
        current = conn.scalar(select(table.c.last_number).where(table.c.record_type == rtype))
        if current is None:
            conn.execute(insert(table), [{"record_type": rtype, "last_number": number}])
        elif current < number:
            conn.execute(
                update(table).where(table.c.record_type == rtype).values(last_number=number)
            )
