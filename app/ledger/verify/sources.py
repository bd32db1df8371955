"""Where records come from: a reading connection to a live ledger (a SQLite file or a
PostgreSQL database), and what a verification reads before the records themselves —
the ledger's id, its range, its keys and its purges.

The records are read without SQLAlchemy, which would cost more than the checks: with
``sqlite3`` on a read-only connection to the file, or with ``psycopg`` on a read-only
session (each worker process opens its own connection from the URL). A worker checking a
SQLite file does not even load the ORM: it would take longer to start.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from typing import Any, Protocol

from app.config import is_url
from app.ledger.chain import load_public_der
from app.ledger.purged import PURGE_MARKER, Purged, purge_events_sql, read_purges
from app.ledger.verify import report as say
from app.ledger.verify.report import Finding

_MAP_BYTES = 1 << 31


class Rows(Protocol):
    def __iter__(self) -> Iterator[tuple[Any, ...]]: ...
    def fetchone(self) -> tuple[Any, ...] | None: ...


class Reader(Protocol):
    """What the checks need of a connection: sqlite3's ``execute`` with ``?`` marks."""

    def execute(self, sql: str, params: tuple[Any, ...] = ..., /) -> Rows: ...
    def close(self) -> None: ...


class PostgresReader:
    """A read-only psycopg connection that takes the ``?`` marks of the queries here."""

    def __init__(self, url: str) -> None:
        # Only where a PostgreSQL ledger is verified: a worker checking a SQLite file
        # starts without the driver nor the ORM.
        import psycopg

        from app.ledger.db import CONNECT_TIMEOUT_S, libpq_url, unreachable

        try:
            self._conn = psycopg.connect(
                libpq_url(url),
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_S,
                options="-c default_transaction_read_only=on",
            )
        except psycopg.OperationalError as exc:
            raise unreachable(url, exc) from exc

    def execute(self, sql: str, params: tuple[Any, ...] = (), /) -> Rows:
        return self._conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]

    def close(self) -> None:
        self._conn.close()


def read_errors(conn: Reader) -> tuple[type[Exception], ...]:
    if isinstance(conn, PostgresReader):
        import psycopg

        return (psycopg.Error,)
    return (sqlite3.Error,)


def connect(target: str) -> Reader:
    """A reading connection: ``target`` is the resolved path of a SQLite file or a
    PostgreSQL URL."""
    if is_url(target):
        return PostgresReader(target)
    conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    # Rows read straight from the mapped file rather than copied through the page cache.
    conn.execute(f"PRAGMA mmap_size = {_MAP_BYTES}")
    return conn


def keys_of(conn: Reader) -> tuple[list[tuple[int, str, bytes]], list[Finding]]:
    """The keys the KEY records introduce, and a finding for each change of key that the
    previous key did not vouch for (it could be anyone's)."""
    keys: list[tuple[int, str, bytes]] = []
    unendorsed: list[Finding] = []
    for seq, data in conn.execute(
        "SELECT seq, canonical FROM journal WHERE record_type = 'KEY' ORDER BY seq"
    ):
        try:
            body = json.loads(data)["body"]
            der = base64.b64decode(body["public_key"])
            load_public_der(der)
        except (ValueError, KeyError, TypeError):
            continue  # the chunk scan reports the record as corrupted
        keys.append((seq, body["key_id"], der))
        if seq > 1 and not body.get("endorsed"):
            message = say.unendorsed(seq, body.get("reason", "?"))
            unendorsed.append(Finding(seq, "key_unendorsed", message))
    return keys, unendorsed


def ledger_id_of(conn: Reader) -> str | None:
    row = conn.execute("SELECT ledger_id FROM ledger_meta").fetchone()
    return row[0] if row else None


def purges_of(conn: Reader) -> Purged:
    dialect = "postgresql" if isinstance(conn, PostgresReader) else "sqlite"
    return read_purges(conn.execute(purge_events_sql(dialect), (PURGE_MARKER,)))
