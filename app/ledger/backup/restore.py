"""Putting a backup copy back in place of the ledger file.

The copy is checked before anything is touched: it must verify (every hash, signature
and closure), belong to this ledger and be of the expected kind, and it must not lose
records the current file holds, unless the restore is forced. The current file is then
kept aside, never deleted, and the restore is journaled in the restored ledger.

The anchors kept outside the database (``app.ledger.anchor``) would flag a copy older
than the last record this computer anchored as a ledger rolled back. A restore is that
rollback, made on purpose and written down: once the RESTORE event is recorded, a signed
``restore`` line naming it and the copy's last record is appended to the anchor log
(older lines are never rewritten), so verification is coherent again and anyone removing
the event later is caught like any other rollback.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from app.errors import ComptoirError
from app.ledger import canonical
from app.ledger.anchor import Anchor, Head, beside_path, read_anchor, record_restore
from app.ledger.events import EventCode, log_event
from app.ledger.operators import Permission, require
from app.ledger.records import CLOSURE_TYPES
from app.ledger.store import KINDS, Clock, Ledger, utc_now
from app.ledger.verify.engine import verify_ledger

ASIDE = "avant-restauration"


class RestoreRefused(ComptoirError):
    """The copy is not restored; nothing was changed."""


@dataclass(frozen=True)
class Identity:
    ledger_id: str
    kind: str
    timezone: str
    last_seq: int
    last_hash: str | None


@dataclass(frozen=True)
class RestoreResult:
    backup: Path
    ledger: Path
    kept_aside: Path | None  # where the previous file was moved, if there was one
    backup_last_seq: int
    backup_last_hash: str
    previous_last_seq: int | None
    lost: int | None  # records of the previous file not in the copy (None: unknown)
    forced: bool
    anchor_reset: bool
    event_seq: int


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)


def read_identity(path: Path) -> Identity | None:
    """Who a ledger file is, or None when it is missing or unreadable."""
    if not path.is_file():
        return None
    try:
        conn = _connect(path)
        try:
            meta = conn.execute("SELECT ledger_id, kind, timezone FROM ledger_meta").fetchone()
            last = conn.execute(
                "SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    if meta is None:
        return None
    seq, link = (int(last[0]), str(last[1])) if last else (0, None)
    return Identity(meta[0], meta[1], meta[2], seq, link)


def _hash_at(path: Path, seq: int) -> str | None:
    conn = _connect(path)
    try:
        row = conn.execute("SELECT hash FROM journal WHERE seq = ?", (seq,)).fetchone()
    finally:
        conn.close()
    return row[0] if row else None


def _only_its_own_event(current: Path, then: Identity) -> bool:
    """Whether the records the current file has after the copy are just the BACKUP event
    that journaled this very copy (written once the copy was taken, so never in it)."""
    conn = _connect(current)
    try:
        rows = conn.execute(
            "SELECT record_type, canonical FROM journal WHERE seq > ? ORDER BY seq LIMIT 2",
            (then.last_seq,),
        ).fetchall()
    finally:
        conn.close()
    if len(rows) != 1 or rows[0][0] != "EVENT":
        return False
    body = canonical.decode(rows[0][1])["body"]
    detail = body.get("detail", {})
    return body.get("code") == "BACKUP" and detail.get("last_hash") == then.last_hash


def _records_lost(current: Path, now: Identity, copy: Path, then: Identity) -> tuple[int, int]:
    """(records of the current file missing from the copy, last seq both share).

    Hashes chain, so two files agreeing at one seq agree on everything before it: the last
    shared record is found by bisection even when the two have gone separate ways.
    """
    top = min(now.last_seq, then.last_seq)
    if top == 0 or _hash_at(current, top) == _hash_at(copy, top):
        return now.last_seq - top, top
    shared, differs = 0, top
    while differs - shared > 1:
        middle = (shared + differs) // 2
        if _hash_at(current, middle) == _hash_at(copy, middle):
            shared = middle
        else:
            differs = middle
    return now.last_seq - shared, shared


def _anchor_problem(copy: Path, then: Identity, backup: Path, current: Path) -> str | None:
    """What this computer's anchor log says the copy lacks, if anything."""
    anchor = read_anchor(then.ledger_id)
    if anchor is None:
        return None
    found = _hash_at(copy, anchor.seq)
    if found == anchor.hash:
        return None
    if anchor.seq == then.last_seq + 1 and _own_anchor(backup) == (anchor.seq, anchor.hash):
        return None  # only the copy's own BACKUP event was anchored after it
    if found is None:
        when = canonical.parse_ts(anchor.ts).astimezone(ZoneInfo(then.timezone))
        if _is_closure(current, anchor.seq, anchor.hash):
            what, lacking = f"la clôture n°{anchor.seq}", "absente"
        else:
            what, lacking = f"l'enregistrement n°{anchor.seq}", "absent"
        return f"ce poste a enregistré {what} du {when:%d/%m/%Y}, {lacking} de cette sauvegarde"
    return (
        f"l'enregistrement n°{anchor.seq} de cette sauvegarde n'est pas celui "
        "que ce poste a enregistré"
    )


def _own_anchor(backup: Path) -> tuple[int, str] | None:
    """(seq, hash) of the anchor written beside the copy once its BACKUP event was
    journaled (``app.ledger.backup.copies``), if there is one."""
    try:
        found = Anchor.parse(beside_path(backup).read_text("utf-8").strip())
    except (OSError, UnicodeDecodeError):
        return None
    return (found.seq, found.hash) if found is not None else None


def _is_closure(current: Path, seq: int, link: str) -> bool:
    if not current.is_file():
        return False
    try:
        conn = _connect(current)
        try:
            row = conn.execute(
                "SELECT record_type, hash FROM journal WHERE seq = ?", (seq,)
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return row is not None and row[1] == link and row[0] in {t.value for t in CLOSURE_TYPES}


def _stage(backup: Path, staging: Path) -> None:
    """A private copy of the backup beside the ledger: what is verified is exactly what
    is put in place, and the user's file is never written to."""
    try:
        shutil.copyfile(backup, staging)
        conn = sqlite3.connect(staging)
        try:
            conn.execute("PRAGMA journal_mode=DELETE")
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as exc:
        raise RestoreRefused(
            f"{backup.name} n'est pas une sauvegarde lisible ({exc}).", detail=repr(exc)
        ) from exc
    if verdict != "ok":
        raise RestoreRefused(f"La sauvegarde {backup.name} est endommagée ({verdict}).")


def _check_verified(staging: Path, name: str) -> None:
    report = verify_ledger(staging)
    # The anchor check compares the copy with this computer's last closure: a copy older
    # than it is not broken, it lacks records. That is weighed apart (see _anchor_problem).
    findings = [f for f in report.findings if not f.rule.startswith("anchor")]
    if not findings and not report.cancelled:
        return
    first = min(findings, key=lambda f: f.seq or 0) if findings else None
    what = first.message if first else "vérification interrompue"
    more = f" ({len(findings) - 1} autre(s) anomalie(s))" if len(findings) > 1 else ""
    raise RestoreRefused(f"La sauvegarde {name} n'est pas intègre : {what}{more}")


def _check_same_ledger(now: Identity | None, then: Identity, kind: str | None) -> None:
    if kind is not None and then.kind != kind:
        raise RestoreRefused(
            f"Cette sauvegarde est celle d'un journal {KINDS.get(then.kind, then.kind)}, "
            f"pas d'un journal {KINDS.get(kind, kind)}."
        )
    if now is None:
        return
    if now.ledger_id != then.ledger_id or now.kind != then.kind:
        raise RestoreRefused(
            "Cette sauvegarde est celle d'un autre journal "
            f"({then.ledger_id}, {KINDS.get(then.kind, then.kind)}) que le journal en place "
            f"({now.ledger_id}, {KINDS.get(now.kind, now.kind)})."
        )


def _ensure_not_in_use(path: Path) -> None:
    """Leaving WAL mode needs every other connection closed: a cheap, reliable way to
    know that no till still writes to the file about to be set aside. It also folds the
    WAL into the file that is kept."""
    try:
        conn = sqlite3.connect(path, timeout=0)
        try:
            mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            mode = "wal"
        else:
            return  # an unreadable current file is set aside as it is
    except sqlite3.Error:
        return
    if mode.lower() == "wal":
        raise RestoreRefused(
            f"Le journal {path} est ouvert par Comptoir (caisse ou autre commande) : "
            "fermez l'application avant de restaurer."
        )


def _aside_path(ledger_path: Path, local: datetime) -> Path:
    base = f"{ledger_path.name}.{ASIDE}-{local:%Y%m%d-%H%M%S}"
    path, counter = ledger_path.with_name(base), 1
    while path.exists():
        counter += 1
        path = ledger_path.with_name(f"{base}-{counter}")
    return path


def _move(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        item = Path(f"{source}{suffix}")
        if item.exists():
            os.replace(item, Path(f"{target}{suffix}"))


def _check_role(copy_path: Path, kind: str, operator: str) -> None:
    """Only an operator whose role may change the settings puts a copy back, when the shop
    has operators. The roles are read from the verified copy itself: the ledger in place
    may be the broken file one restores to replace."""
    with Ledger.open(copy_path, kind=kind, readonly=True) as copy, copy.reader() as session:
        require(session, operator, Permission.EDIT_SETTINGS)


def restore_backup(
    backup_path: Path | str,
    ledger_path: Path | str,
    *,
    operator: str,
    force: bool = False,
    kind: str | None = None,
    clock: Clock = utc_now,
) -> RestoreResult:
    """Put a verified backup in place of the ledger; the previous file is kept aside.

    Refused (RestoreRefused, nothing changed) when the copy does not verify, belongs to
    another ledger or kind while the current file is readable, or would lose records the
    current file (or this computer's anchor) knows of, unless ``force``.
    """
    backup, target = Path(backup_path), Path(ledger_path)
    if not backup.is_file():
        raise RestoreRefused(f"Sauvegarde introuvable : {backup}")
    staging = target.with_name(f".{target.name}.restauration")
    try:
        _stage(backup, staging)
        then = read_identity(staging)
        if then is None or then.last_hash is None:
            raise RestoreRefused(f"{backup.name} n'est pas un journal Comptoir.")
        _check_verified(staging, backup.name)
        _check_role(staging, then.kind, operator)
        now = read_identity(target)
        _check_same_ledger(now, then, kind)
        lost: int | None = None
        reasons = []
        if now is not None:
            lost, shared = _records_lost(target, now, staging, then)
            if lost and shared == then.last_seq and _only_its_own_event(target, then):
                lost = 0  # the copy's own BACKUP event is all that came after it
            if lost:
                reasons.append(
                    f"le journal en place contient {lost} enregistrement(s) absent(s) de cette "
                    f"sauvegarde (après le n°{shared})"
                )
        anchor_problem = _anchor_problem(staging, then, backup, target)
        if anchor_problem:
            reasons.append(anchor_problem)
        if reasons and not force:
            raise RestoreRefused(
                "Restauration refusée : " + " ; ".join(reasons) + ". Ces enregistrements "
                "seraient perdus. Pour restaurer quand même, relancez avec --force : la "
                "restauration sera inscrite au journal."
            )
        if target.exists():
            _ensure_not_in_use(target)
        local = clock().astimezone(ZoneInfo(then.timezone))
        aside = _aside_path(target, local) if target.exists() else None
        if aside is not None:
            _move(target, aside)
        os.replace(staging, target)
        facts = _Facts(backup, then, now, aside, lost, force, anchor_problem is not None)
        try:
            event_seq = _journal(target, then.kind, operator, clock, facts)
        except BaseException:
            _undo(target, aside)
            raise
    finally:
        with contextlib.suppress(OSError):
            staging.unlink(missing_ok=True)
    return RestoreResult(
        backup=backup,
        ledger=target,
        kept_aside=aside,
        backup_last_seq=then.last_seq,
        backup_last_hash=then.last_hash,
        previous_last_seq=now.last_seq if now else None,
        lost=lost,
        forced=force,
        anchor_reset=facts.anchor_reset,
        event_seq=event_seq,
    )


@dataclass(frozen=True)
class _Facts:
    backup: Path
    then: Identity
    now: Identity | None
    aside: Path | None
    lost: int | None
    forced: bool
    anchor_reset: bool


def _journal(target: Path, kind: str, operator: str, clock: Clock, facts: _Facts) -> int:
    """Record the RESTORE event in the restored ledger, then anchor on it."""
    previous_anchor = read_anchor(facts.then.ledger_id)
    with (
        Ledger.open(target, kind=kind, create=False, clock=clock, operator=operator) as ledger,
        ledger.transaction() as session,
    ):
        recorded = log_event(
            session,
            EventCode.RESTORE,
            operator=operator,
            backup_file=facts.backup.name,
            backup_last_seq=facts.then.last_seq,
            backup_last_hash=facts.then.last_hash,
            previous_file=str(facts.aside) if facts.aside else None,
            previous_last_seq=facts.now.last_seq if facts.now else None,
            lost_records=facts.lost,
            forced=facts.forced,
            anchor_reset=facts.anchor_reset,
            previous_anchor_seq=previous_anchor.seq if previous_anchor else None,
        )
        signer = ledger.signer
    if signer is not None:
        head = Head(recorded.seq, recorded.hash, recorded.ts, facts.then.last_hash)
        record_restore(facts.then.ledger_id, signer, head, facts.then.last_seq)
    return recorded.seq


def _undo(target: Path, aside: Path | None) -> None:
    """The event could not be journaled: put the previous file back as it was."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    if aside is not None:
        _move(aside, target)
