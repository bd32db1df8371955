"""Copies of the ledger file kept elsewhere (a USB drive, a synced folder), and restoring one.

A copy is taken with SQLite's online backup API from a connection of its own: it is a
snapshot of one committed state, taken while the till goes on recording sales. It is
written under a temporary name, checked, then renamed ``<stem>-AAAAMMJJ-HHMMSS.sqlite``,
and the oldest copies of this ledger beyond the number to keep are removed. Beside each
copy, ``<copy>.anchor`` holds the signed head of the chain once the copy was journaled
(``app.ledger.anchor``): what verification compares the ledger with.

Where copies go and how many are kept, and how the last attempt went, are shop
preferences (not fiscal), kept in the ledger's ``shop_preference`` table through
``app.ledger.preferences``; the keys are declared here, beside the code that reads them.

Restoring a copy (``restore_backup``) is in ``app.ledger.backup.restore``, re-exported here.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.errors import ComptoirError, InvalidInput
from app.ledger import canonical
from app.ledger.anchor import beside_path, write_beside
from app.ledger.backup.restore import RestoreRefused as RestoreRefused
from app.ledger.backup.restore import RestoreResult as RestoreResult
from app.ledger.backup.restore import restore_backup as restore_backup
from app.ledger.events import EventCode, log_event
from app.ledger.files import create_private, private_dir, temporary_name
from app.ledger.operators import Permission, require
from app.ledger.preferences import get_preference, set_preference
from app.ledger.store import Ledger, ledger_of

log = logging.getLogger(__name__)

DEFAULT_KEEP = 14
MAX_KEEP = 365
PREF_FOLDER = "backup_folder"
PREF_KEEP = "backup_keep"
PREF_LAST = "backup_last"  # the last attempt, successful or not (JSON)
PREF_LAST_OK = "backup_last_ok"  # the last successful backup (JSON)
SUFFIX = ".sqlite"
PG_BACKUP_REFUSAL = (
    "La sauvegarde d'une base PostgreSQL se fait avec pg_dump, sur le serveur : Comptoir "
    "ne copie que les journaux SQLite."
)


class BackupFailed(ComptoirError):
    """A backup could not be written; ``reason`` is the French cause alone."""

    def __init__(self, reason: str, *, detail: str | None = None) -> None:
        super().__init__(f"Sauvegarde impossible : {reason}", detail=detail)
        self.reason = reason


@dataclass(frozen=True)
class BackupSettings:
    folder: Path
    keep: int
    is_default: bool  # the folder beside the ledger, created on demand


@dataclass(frozen=True)
class BackupStatus:
    """How the last attempt went, as kept in the preferences."""

    ok: bool
    at: str  # UTC, canonical format
    path: str  # the copy, or the folder when the attempt failed
    last_seq: int | None = None
    last_hash: str | None = None
    error: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BackupStatus | None:
        try:
            data = json.loads(text)
            return cls(
                ok=bool(data["ok"]),
                at=str(data["at"]),
                path=str(data["path"]),
                last_seq=data.get("last_seq"),
                last_hash=data.get("last_hash"),
                error=data.get("error"),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def local_time(self, timezone: str) -> str:
        """dd/mm/yyyy HH:MM in the shop's time zone."""
        try:
            moment = canonical.parse_ts(self.at).astimezone(ZoneInfo(timezone))
        except ValueError:
            return self.at
        return f"{moment:%d/%m/%Y %H:%M}"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    at: str
    last_seq: int
    last_hash: str
    size: int
    removed: tuple[Path, ...]


@dataclass(frozen=True)
class BackupFile:
    """One copy found in the backup folder."""

    path: Path
    taken: datetime  # from the file name, shop time (naive)
    size: int
    last_seq: int | None


# -- settings and status (preferences) ------------------------------------------------
def default_folder(ledger_path: Path) -> Path:
    """``<ledger stem>-sauvegardes`` beside the ledger file."""
    return ledger_path.with_name(f"{ledger_path.stem}-sauvegardes")


def backup_settings(session: Session) -> BackupSettings:
    ledger = ledger_of(session)
    folder = get_preference(session, PREF_FOLDER).strip()
    try:
        keep = int(get_preference(session, PREF_KEEP, str(DEFAULT_KEEP)))
    except ValueError:
        keep = DEFAULT_KEEP
    keep = min(max(keep, 1), MAX_KEEP)
    if not folder:
        return BackupSettings(default_folder(ledger.require_file(PG_BACKUP_REFUSAL)), keep, True)
    return BackupSettings(Path(folder), keep, False)


def save_backup_settings(
    session: Session, folder: str, keep: int, *, operator: str
) -> BackupSettings:
    """Store the folder ("" for the default one) and the number of copies kept."""
    require(session, operator, Permission.EDIT_SETTINGS)
    if not 1 <= keep <= MAX_KEEP:
        raise InvalidInput(f"Sauvegardes conservées : entre 1 et {MAX_KEEP}.")
    folder = folder.strip()
    if folder:
        path = Path(folder).expanduser()
        if not path.is_absolute():
            raise InvalidInput("Dossier de sauvegarde : indiquez un chemin complet.")
        if not path.is_dir():
            raise InvalidInput(f"Le dossier de sauvegarde {path} n'existe pas.")
        folder = str(path)
    set_preference(session, PREF_FOLDER, folder)
    set_preference(session, PREF_KEEP, str(keep))
    return backup_settings(session)


def last_backup(session: Session) -> BackupStatus | None:
    """The last attempt (ok or failed), or None when no backup was ever tried."""
    return BackupStatus.from_json(get_preference(session, PREF_LAST))


def last_good_backup(session: Session) -> BackupStatus | None:
    return BackupStatus.from_json(get_preference(session, PREF_LAST_OK))


def describe_backup(last: BackupStatus | None, good: BackupStatus | None, timezone: str) -> str:
    """ "Dernière sauvegarde : <chemin> (dd/mm/yyyy HH:MM)", "… : aucune", "… : échec : …"."""
    if last is None:
        return "Dernière sauvegarde : aucune"
    if last.ok:
        return f"Dernière sauvegarde : {last.path} ({last.local_time(timezone)})"
    text = f"Dernière sauvegarde : échec : {last.error} ({last.local_time(timezone)})"
    if good is not None:
        text += f" ; précédente : {good.path} ({good.local_time(timezone)})"
    return text


def backup_line(session: Session) -> str:
    """The line the Z report prints about backups."""
    return describe_backup(
        last_backup(session), last_good_backup(session), ledger_of(session).timezone
    )


def _record_status(ledger: Ledger, status: BackupStatus, session: Session | None = None) -> None:
    def write(target: Session) -> None:
        set_preference(target, PREF_LAST, status.to_json())
        if status.ok:
            set_preference(target, PREF_LAST_OK, status.to_json())

    if session is not None:
        write(session)
        return
    try:
        with ledger.transaction() as own:
            write(own)
    except Exception as exc:  # the failure itself is what the caller must hear about
        log.warning("could not record the backup status: %s", exc)


# -- file names -------------------------------------------------------------------------
def _name_pattern(stem: str) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(stem)}-(\d{{8}})-(\d{{6}})(?:-(\d+))?{re.escape(SUFFIX)}")


def _free_name(folder: Path, stem: str, local: datetime) -> Path:
    """``<stem>-AAAAMMJJ-HHMMSS.sqlite``; a second copy within the same second gets -2."""
    base = f"{stem}-{local:%Y%m%d-%H%M%S}"
    path, counter = folder / f"{base}{SUFFIX}", 1
    while path.exists():
        counter += 1
        path = folder / f"{base}-{counter}{SUFFIX}"
    return path


def _identity(path: Path) -> tuple[str, int | None] | None:
    """(ledger id, last seq) of a copy, or None when it is not a readable ledger."""
    try:
        conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
        try:
            meta = conn.execute("SELECT ledger_id FROM ledger_meta").fetchone()
            last = conn.execute("SELECT MAX(seq) FROM journal").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return (meta[0], last[0]) if meta else None


def list_backups(folder: Path, stem: str, ledger_id: str) -> list[BackupFile]:
    """The copies of this ledger in ``folder``, oldest first. Files of another ledger, or
    not named like ours, are never listed (and so never removed)."""
    pattern = _name_pattern(stem)
    found: list[tuple[tuple[str, str, int], BackupFile]] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    for path in entries:
        match = pattern.fullmatch(path.name)
        if match is None or not path.is_file():
            continue
        identity = _identity(path)
        if identity is None or identity[0] != ledger_id:
            continue
        day, hms, counter = match.group(1), match.group(2), int(match.group(3) or 1)
        try:
            taken = datetime.strptime(day + hms, "%Y%m%d%H%M%S")
            size = path.stat().st_size
        except (ValueError, OSError):
            continue
        found.append(((day, hms, counter), BackupFile(path, taken, size, identity[1])))
    return [item for _key, item in sorted(found, key=lambda pair: pair[0])]


# -- taking a copy --------------------------------------------------------------------
def _copy_database(source: Path, target: Path) -> None:
    """Copy one consistent state of ``source`` into ``target`` (a self-contained file).

    The backup runs in one step from a read connection: in WAL mode it reads a single
    snapshot while other connections go on writing. The copy leaves WAL mode so that it
    is one file, fit for a USB drive or a synced folder.
    """
    src = sqlite3.connect(f"file:{source.resolve()}?mode=ro", uri=True)
    try:
        src.execute("PRAGMA busy_timeout=10000")
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def _check_copy(path: Path, ledger_id: str) -> tuple[int, str]:
    """The copy's last (seq, hash) once it is found sound and of this ledger."""
    conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise BackupFailed(f"la copie écrite est endommagée ({verdict}).")
        meta = conn.execute("SELECT ledger_id FROM ledger_meta").fetchone()
        if meta is None or meta[0] != ledger_id:
            raise BackupFailed("la copie écrite ne porte pas l'identifiant de ce journal.")
        last = conn.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    if last is None:
        raise BackupFailed("la copie écrite ne contient aucun enregistrement.")
    return int(last[0]), str(last[1])


def _sync(path: Path) -> None:
    """Flush a file (and, where possible, its folder) to the medium: a USB drive may be
    pulled out right after the Z report."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
    if os.name != "nt":
        with contextlib.suppress(OSError):
            fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _usable_folder(settings: BackupSettings) -> Path:
    folder = settings.folder
    if settings.is_default:
        try:
            private_dir(folder)
        except OSError as exc:
            raise BackupFailed(
                f"le dossier {folder} ne peut pas être créé ({_cause(exc)}).", detail=str(exc)
            ) from exc
    if not folder.exists():
        raise BackupFailed(f"le dossier {folder} est introuvable (support débranché ?).")
    if not folder.is_dir():
        raise BackupFailed(f"{folder} n'est pas un dossier.")
    return folder


def _cause(exc: BaseException) -> str:
    """A French cause for the usual ways a copy fails."""
    text = str(exc).lower()
    number = getattr(exc, "errno", None)
    if number == errno.ENOSPC or "full" in text:
        return "le disque est plein"
    if number in (errno.EACCES, errno.EPERM, errno.EROFS) or "readonly" in text:
        return "écriture refusée : droits insuffisants ou support protégé en écriture"
    if number in (errno.ENOTDIR, errno.ENOENT) or "unable to open" in text:
        return "le dossier n'est pas accessible en écriture"
    return f"erreur d'écriture : {exc}"


def _rotate(folder: Path, stem: str, ledger_id: str, keep: int) -> tuple[Path, ...]:
    copies = list_backups(folder, stem, ledger_id)
    removed = []
    for old in copies[: max(0, len(copies) - keep)]:
        try:
            old.path.unlink()
            removed.append(old.path)
            beside_path(old.path).unlink(missing_ok=True)
        except OSError as exc:  # an old copy left behind is no reason to fail this one
            log.warning("could not remove the old backup %s: %s", old.path, exc)
    return tuple(removed)


def backup_now(ledger: Ledger, *, operator: str, folder: Path | str | None = None) -> BackupResult:
    """Copy the ledger into the backup folder (``folder``, else the configured one), keep
    the newest copies, journal a BACKUP event and record the outcome.

    A failure raises ``BackupFailed`` (a ComptoirError) after recording it, so that the
    banner and the next Z report show it. A PostgreSQL ledger is refused (``SqliteOnly``):
    its copies are the server's business.
    """
    ledger.require_file(PG_BACKUP_REFUSAL)
    with ledger.reader() as session:
        settings = backup_settings(session)
    if folder is not None:
        settings = BackupSettings(Path(folder).expanduser(), settings.keep, False)
    at = canonical.format_ts(ledger.clock())
    try:
        result = _write_copy(ledger, settings, at)
    except BackupFailed as exc:
        _record_status(ledger, BackupStatus(False, at, str(settings.folder), error=exc.reason))
        raise
    status = BackupStatus(True, at, str(result.path), result.last_seq, result.last_hash)
    with ledger.transaction() as session:
        log_event(
            session,
            EventCode.BACKUP,
            operator=operator,
            file=result.path.name,
            folder=str(result.path.parent),
            last_seq=result.last_seq,
            last_hash=result.last_hash,
            size=result.size,
            removed=len(result.removed),
        )
        _record_status(ledger, status, session)
    # The medium keeps the signed head (this BACKUP event included): a ledger later put
    # back to this copy, or to an older one, is behind what the medium says.
    write_beside(result.path, ledger.ledger_id)
    return result


def _write_copy(ledger: Ledger, settings: BackupSettings, at: str) -> BackupResult:
    folder = _usable_folder(settings)
    stem = ledger.path.stem
    local = canonical.parse_ts(at).astimezone(ZoneInfo(ledger.timezone))
    target = _free_name(folder, stem, local)
    temporary = temporary_name(target)
    try:
        temporary.unlink(missing_ok=True)
        create_private(temporary)  # SQLite writes the copy into it, keeping its mode
        _copy_database(ledger.path, temporary)
        last_seq, last_hash = _check_copy(temporary, ledger.ledger_id)
        _sync(temporary)
        os.replace(temporary, target)
        size = target.stat().st_size
    except BackupFailed:
        _discard(temporary)
        raise
    except (OSError, sqlite3.Error) as exc:
        _discard(temporary)
        raise BackupFailed(
            f"la copie dans {folder} a échoué ({_cause(exc)}).", detail=repr(exc)
        ) from exc
    removed = _rotate(folder, stem, ledger.ledger_id, settings.keep)
    return BackupResult(target, at, last_seq, last_hash, size, removed)


def _discard(path: Path) -> None:
    for suffix in ("", "-journal"):
        with contextlib.suppress(OSError):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def format_size(size: int) -> str:
    """1 234 567 bytes → "1,2 Mo"."""
    for unit, scale in (("Go", 1 << 30), ("Mo", 1 << 20), ("ko", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}".replace(".", ",")
    return f"{size} o"
