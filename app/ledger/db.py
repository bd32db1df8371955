"""Engine and session factory for the ledger database: a SQLite file or a PostgreSQL server.

A ledger is opened from a *target*: a path (SQLite, the embedded default) or a SQLAlchemy
URL (``postgresql+psycopg://user:password@host/base``, a central server).

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed record survives a power
cut), foreign keys on, and every write transaction opened with ``BEGIN IMMEDIATE`` so
that reading the chain head and appending the next link happen under one write lock.

PostgreSQL runs at READ COMMITTED. Its writers do not exclude each other by themselves,
so appends are serialised by an explicit lock of the database: ``lock_chain`` takes a
transaction-scoped advisory lock before the chain head is read; it is released by the
commit or the rollback, also when the client dies. Two processes, or two computers,
therefore never read the same head. A Python lock would serialise one process only.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from app.config import is_url
from app.errors import LedgerError

BUSY_TIMEOUT_MS = 10_000
# The advisory lock that serialises the appends to a database's chain ("Comptoir" as a
# 64-bit number). Advisory locks are per database: one ledger per database.
CHAIN_LOCK_KEY = int.from_bytes(b"Comptoir", "big")
# Held while a schema migration runs, so that two tills starting at once on a new server
# do not both create the tables.
MIGRATION_LOCK_KEY = CHAIN_LOCK_KEY + 1
POSTGRES_DRIVER = "postgresql+psycopg"
LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of a lock wait cut by lock_timeout
POOL_SIZE = 5
CONNECT_TIMEOUT_S = 10
_LOCKED = "comptoir.chain_locked"

Target = Path | str


class DatabaseUnreachable(LedgerError):
    """The database server cannot be reached or refuses the connection."""


class SqliteOnly(LedgerError):
    """A feature that works on the ledger file itself was asked of a PostgreSQL ledger."""


class LedgerBusy(LedgerError):
    """Another writer held the chain's lock for longer than the wait allowed."""


def is_connection_failure(exc: BaseException) -> bool:
    """Whether a driver error means "no usable connection" (server down, refused login,
    no such database) rather than an error in a statement: libpq sends no SQLSTATE then."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return type(orig).__name__ == "OperationalError" and getattr(orig, "sqlstate", "") is None


def unreachable(target: str, exc: BaseException) -> DatabaseUnreachable:
    """The French refusal for a server that cannot be used; the password never shows."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    hint = ""
    if "does not exist" in text:
        hint = " La base n'existe pas sur ce serveur : créez-la d'abord (createdb)."
    elif "authentication failed" in text:
        hint = " L'identifiant ou le mot de passe est refusé."
    return DatabaseUnreachable(
        f"Le serveur de base de données ({_hidden(target)}) est injoignable ou refuse la "
        f"connexion.{hint}",
        detail=text,
    )


def resolve_target(target: Path | str) -> Target:
    """A path for SQLite (also given as ``sqlite:///…``), or a PostgreSQL URL string with
    the psycopg driver; any other database is refused."""
    if not is_url(target):
        return Path(target).expanduser()
    try:
        url = make_url(str(target))
    except ArgumentError as exc:
        raise LedgerError(f"Adresse de base de données invalide : {_hidden(str(target))}.") from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise LedgerError("Un journal SQLite est un fichier : indiquez son chemin.")
        return Path(url.database).expanduser()
    if backend != "postgresql":
        raise LedgerError(
            f"Base de données non prise en charge ({backend}) : le journal fiscal s'enregistre "
            "dans un fichier SQLite ou sur un serveur PostgreSQL."
        )
    if url.drivername != POSTGRES_DRIVER:
        url = url.set(drivername=POSTGRES_DRIVER)
    return url.render_as_string(hide_password=False)


def require_file(target: Path | str, refusal: str) -> Path:
    """The SQLite file at ``target``, or ``SqliteOnly`` saying ``refusal`` (a French
    sentence) when ``target`` is a server's URL: for what copies or reads the file itself."""
    if isinstance(target, Path) or not is_url(target):
        return Path(target)
    raise SqliteOnly(refusal, detail=f"server ledger {_hidden(str(target))}")


def is_postgres(target: Target) -> bool:
    return isinstance(target, str) and target.startswith("postgresql")


def display_target(target: Target) -> str:
    """What may be shown or logged: the path, or the URL with its password masked."""
    return str(target) if isinstance(target, Path) else _hidden(target)


def _hidden(text: str) -> str:
    try:
        return make_url(text).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", text)


def libpq_url(target: str) -> str:
    """The URL as libpq (psycopg on its own) reads it: without SQLAlchemy's driver name."""
    return make_url(target).set(drivername="postgresql").render_as_string(hide_password=False)


def make_engine(target: Path | str, *, readonly: bool = False, immediate: bool = True) -> Engine:
    """An engine on the ledger; ``immediate=False`` gives reading sessions that do not take
    the write lock (SQLite; on PostgreSQL only ``lock_chain`` takes it)."""
    target = resolve_target(target)
    if is_postgres(target):
        return _postgres_engine(str(target), readonly=readonly)
    return _sqlite_engine(Path(target), readonly=readonly, immediate=immediate)


def _sqlite_engine(path: Path, *, readonly: bool, immediate: bool) -> Engine:
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


def _postgres_engine(url: str, *, readonly: bool) -> Engine:
    # A waiting append gives up after the same time as on SQLite (busy_timeout); a
    # read-only ledger is read-only in the server too.
    options = f"-c lock_timeout={BUSY_TIMEOUT_MS}"
    if readonly:
        options += " -c default_transaction_read_only=on"
    return create_engine(
        url,
        isolation_level="READ COMMITTED",
        pool_size=POOL_SIZE,
        max_overflow=POOL_SIZE,
        pool_pre_ping=True,  # a till outlives server restarts
        pool_recycle=3600,
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_S,
            "application_name": "comptoir",
            "options": options,
        },
    )


def lock_chain(session: Session) -> None:
    """Hold the chain's write lock until the end of the session's transaction.

    SQLite: nothing to do, ``BEGIN IMMEDIATE`` holds the database's write lock already.
    PostgreSQL: a transaction-scoped advisory lock, taken once per transaction; it must
    be taken before anything read decides what is appended (the head, a closure's range).
    """
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return
    transaction = session.get_transaction()
    if transaction is not None and session.info.get(_LOCKED) is transaction:
        return
    try:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK_KEY})")
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        raise LedgerBusy(
            "Le journal est occupé par un autre poste depuis plus de "
            f"{BUSY_TIMEOUT_MS // 1000} secondes : rien n'a été enregistré, réessayez.",
            detail=str(exc.orig),
        ) from exc
    if not session.in_nested_transaction():  # a rolled back savepoint would release it
        session.info[_LOCKED] = transaction
