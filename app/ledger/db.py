"""Engine and session factory for the ledger database.

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed record survives a power
cut), foreign keys on, and every write transaction opened with ``BEGIN IMMEDIATE`` so
that reading the chain head and appending the next link happen under one write lock.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import NullPool

BUSY_TIMEOUT_MS = 10_000


def make_engine(path: Path, *, readonly: bool = False, immediate: bool = True) -> Engine:
    """An engine on the ledger file; ``immediate=False`` gives reading sessions that do
    not take the write lock."""
    url = f"sqlite:///file:{path.resolve()}?mode=ro&uri=true" if readonly else f"sqlite:///{path}"
    engine = create_engine(url, poolclass=NullPool if readonly else None)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        if not readonly:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate and not readonly else "BEGIN")

    return engine
