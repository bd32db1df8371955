"""Bring a ledger database to the current schema with Alembic.

Alembic is imported only when a migration is due: opening an up-to-date ledger (every
start of the till) just reads the stored revision. An existing ledger is copied beside
itself before it is migrated, so that a failed or regretted upgrade loses nothing.

On PostgreSQL the whole upgrade is one transaction (its DDL is transactional): a failed
migration leaves the database as it was. No copy is made there; the server's own backups
(``pg_dump``) are the administrator's. The upgrade holds an advisory lock, so that two
tills starting at once on a new server do not both create the tables.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from app.errors import LedgerError
from app.ledger.db import MIGRATION_LOCK_KEY, Target

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
HEAD_REVISION = "0026"  # the newest file in migrations/versions (a test keeps them in step)


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return _revision_of(conn)


def upgrade(engine: Engine) -> bool:
    """Upgrade to head; returns True when something was migrated."""
    if current_revision(engine) == HEAD_REVISION:
        return False
    from alembic import command

    cfg = _config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
            if _revision_of(conn) == HEAD_REVISION:  # another process did it meanwhile
                return False
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return True


def _revision_of(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


@dataclass(frozen=True)
class Migration:
    """What ``upgrade_ledger`` did to an existing ledger."""

    from_revision: str
    to_revision: str
    applied: tuple[str, ...]  # oldest first
    backup: Path | None  # None on PostgreSQL (no file to copy)


def backup_path(path: Path, revision: str, stamp: str) -> Path:
    """``<name>.avant-migration-<revision>-<stamp>`` beside the ledger, never an existing file."""
    candidate = path.with_name(f"{path.name}.avant-migration-{revision}-{stamp}")
    n = 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.avant-migration-{revision}-{stamp}-{n}")
    return candidate


def backup_copy(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API: it includes what the WAL holds and
    is safe while another connection has the file open."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def applied_between(older: str, newer: str) -> tuple[str, ...]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config())
    return tuple(reversed([rev.revision for rev in script.iterate_revisions(newer, older)]))


def upgrade_ledger(engine: Engine, target: Target, stamp: str) -> Migration | None:
    """Upgrade the ledger at ``target``; an existing SQLite file is backed up first.

    Returns None when nothing was migrated or the database was new (nothing to keep)."""
    before = current_revision(engine)
    if before == HEAD_REVISION:
        return None
    if before is None:
        upgrade(engine)
        return None
    backup: Path | None = None
    kept = "la mise à jour a été entièrement annulée"
    if isinstance(target, Path):
        backup = backup_path(target, before, stamp)
        backup_copy(target, backup)
        kept = f"une copie est conservée : {backup}"
    try:
        upgrade(engine)
    except Exception as exc:
        raise LedgerError(
            "La mise à jour du journal fiscal vers cette version du logiciel a échoué. "
            f"Le journal n'a pas été modifié ; {kept}",
            detail=f"migration from {before}: {exc!r}",
        ) from exc
    after = current_revision(engine) or HEAD_REVISION
    return Migration(before, after, applied_between(before, after), backup)
