"""Where a ledger's archives are kept, and which archives it has written (its ARCHIVE
records, newest first). An archive is kept ``DEFAULT_RETENTION_YEARS`` by default before
its period may be purged from the ledger."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.errors import LedgerError
from app.ledger import canonical
from app.ledger.models import JournalRecord
from app.ledger.preferences import get_preference
from app.ledger.records import RecordType
from app.ledger.store import Ledger

__all__ = [
    "ARCHIVE_DIR_PREFERENCE",
    "DEFAULT_RETENTION_YEARS",
    "ArchiveEntry",
    "ArchiveError",
    "archive_dir",
    "default_archive_dir",
    "list_archives",
]

log = logging.getLogger(__name__)

DEFAULT_RETENTION_YEARS = 6
ARCHIVE_DIR_PREFERENCE = "archive_dir"


class ArchiveError(LedgerError):
    """An archive could not be written or read."""


@dataclass(frozen=True)
class ArchiveEntry:
    period: str
    file_name: str
    created_at: str
    manifest_sha256: str
    first_seq: int
    last_seq: int
    seq: int


def default_archive_dir(ledger_path: Path) -> Path:
    """``<ledger stem>-archives`` beside the ledger file."""
    ledger_path = Path(ledger_path)
    return ledger_path.parent / f"{ledger_path.stem}-archives"


def archive_dir(ledger: Ledger) -> Path:
    """The folder chosen in the settings (preference ``archive_dir``), else the default."""
    try:
        with ledger.reader() as session:
            chosen = get_preference(session, ARCHIVE_DIR_PREFERENCE).strip()
    except SQLAlchemyError as exc:  # a ledger without the preferences table
        log.debug("archive folder preference unreadable: %s", exc)
        chosen = ""
    if chosen:
        return Path(chosen).expanduser()
    return default_archive_dir(
        ledger.require_file(
            "Le journal est sur un serveur PostgreSQL : il n'a pas de dossier voisin pour ses "
            "archives. Choisissez un dossier (option --out, ou le réglage du dossier des "
            "archives)."
        )
    )


def list_archives(session: Session) -> list[ArchiveEntry]:
    """The archives this ledger has written, from its ARCHIVE records, newest first."""
    rows = session.execute(
        select(JournalRecord.seq, JournalRecord.canonical)
        .where(JournalRecord.record_type == RecordType.ARCHIVE)
        .order_by(JournalRecord.seq.desc())
    )
    entries = []
    for seq, data in rows:
        body = canonical.decode(data)["body"]
        entries.append(
            ArchiveEntry(
                period=body["period"],
                file_name=body["file"],
                created_at=body["created_at"],
                manifest_sha256=body["manifest_sha256"],
                first_seq=body["first_seq"],
                last_seq=body["last_seq"],
                seq=seq,
            )
        )
    return entries
