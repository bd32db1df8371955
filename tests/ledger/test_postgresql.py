"""What is particular to a ledger on a PostgreSQL server.

The rest of the ledger suite runs on both backends (tests/conftest.py); here: the schema
and its plpgsql guards, appends serialised by the database across processes, what is
refused because it needs the SQLite file, and the command line given a URL.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from contextlib import closing
from datetime import date
from itertools import pairwise
from multiprocessing.synchronize import Barrier
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, make_url, select, text
from sqlalchemy.exc import DBAPIError

from app.cli import main
from app.errors import ComptoirError
from app.ledger import canonical, db, migrate
from app.ledger.archive.check import verify_archive
from app.ledger.archive.write import create_archive
from app.ledger.backup.copies import backup_now
from app.ledger.closures import close_day, close_month
from app.ledger.db import CHAIN_LOCK_KEY, LedgerBusy, SqliteOnly, libpq_url, make_engine
from app.ledger.events import EventCode
from app.ledger.export.browse import LedgerBrowser
from app.ledger.models import FISCAL_TABLES, JournalRecord, LedgerMeta
from app.ledger.records import RecordType
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from app.ledger.verify.engine import verify_ledger
from app.models_all import metadata
from tests.conftest import FakeClock
from tests.helpers import ring
from tests.pg import RawDb, free_port

# The tests that take a ledger run on PostgreSQL only; the others ask for a database.
ON_POSTGRESQL = pytest.mark.parametrize("ledger_backend", ["postgresql"], indirect=True)
WAIT_S = 60  # how long to wait for another process before failing (not a speed check)
SPAWN = multiprocessing.get_context("spawn")


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.02)


# -- schema -------------------------------------------------------------------------------
def test_empty_database_upgrades_to_head_with_plpgsql_guards(pg_url_factory) -> None:
    url = pg_url_factory()
    engine = make_engine(url)
    try:
        assert migrate.current_revision(engine) is None
        assert migrate.upgrade(engine) is True
        assert migrate.current_revision(engine) == migrate.HEAD_REVISION
        assert migrate.upgrade(engine) is False
        from alembic.autogenerate import compare_metadata
        from alembic.runtime.migration import MigrationContext

        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()
    with closing(RawDb(url)) as conn:
        guarded = {table for _name, table in conn.triggers()}
    assert set(FISCAL_TABLES) <= guarded


@ON_POSTGRESQL
def test_update_delete_and_truncate_are_refused(ledger: Ledger) -> None:
    ring(ledger)
    conn = RawDb(ledger.target)
    try:
        for statement in (
            "UPDATE journal SET total_cents = 1",
            "DELETE FROM journal_vat",
            "TRUNCATE journal_payment",
            "TRUNCATE journal CASCADE",
            "UPDATE ledger_meta SET kind = 'training'",
        ):
            with pytest.raises(psycopg.Error, match="ajout seul"):
                conn.execute(statement)
            conn.rollback()
    finally:
        conn.close()
    assert verify_ledger(ledger.target).ok


def test_two_tills_starting_at_once_on_a_new_server_make_one_ledger(pg_url_factory) -> None:
    """Both migrate and create under the database's locks: one schema, one ledger."""
    url = pg_url_factory()
    barrier = SPAWN.Barrier(2)
    results = SPAWN.Queue()
    children = [SPAWN.Process(target=_open_child, args=(url, barrier, results)) for _ in "ab"]
    for child in children:
        child.start()
    got = [results.get(timeout=WAIT_S) for _ in children]
    for child in children:
        child.join(WAIT_S)
    assert all(isinstance(item, str) for item in got), got
    assert got[0] == got[1]  # the same ledger id
    with Ledger.open(url, create=False) as ledger, ledger.reader() as session:
        assert session.scalar(select(func.count()).select_from(LedgerMeta)) == 1
        types = session.scalars(select(JournalRecord.record_type).order_by(JournalRecord.seq))
        assert list(types) == ["KEY", "EVENT"]
    assert verify_ledger(url).ok


def _open_child(url: str, barrier: Barrier, results) -> None:  # type: ignore[no-untyped-def]
    try:
        barrier.wait(WAIT_S)
        with Ledger.open(url, operator="caisse") as ledger:
            results.put(ledger.ledger_id)
    except Exception as exc:
        results.put(("error", repr(exc)))


@ON_POSTGRESQL
def test_an_older_schema_is_migrated_in_one_transaction_and_journaled(
    ledger_target: str, clock: FakeClock
) -> None:
    Ledger.open(ledger_target, clock=clock).close()
    engine = make_engine(ledger_target)
    cfg = migrate._config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        from alembic import command

        command.downgrade(cfg, "0005")
    engine.dispose()
    with Ledger.open(ledger_target, clock=clock) as ledger, ledger.reader() as session:
        data = session.scalar(
            select(JournalRecord.canonical).order_by(JournalRecord.seq.desc()).limit(1)
        )
    body = canonical.decode(data)["body"]
    assert body["code"] == EventCode.VERSION_CHANGE
    detail = body["detail"]
    assert (detail["schema_from"], detail["schema_to"]) == ("0005", migrate.HEAD_REVISION)
    assert detail["backup"] is None  # no file to copy: pg_dump is the server's business
    assert verify_ledger(ledger_target).ok


# -- appends serialised by the database -------------------------------------------------
TICKETS_PER_TILL = 150


@ON_POSTGRESQL
def test_two_processes_ringing_at_full_speed_leave_no_gap_nor_duplicate(
    ledger: Ledger,
) -> None:
    """Two till processes append to one chain as fast as they can. Without a lock of the
    database (a lock inside one process would not reach the other) they would read the
    same head and collide on the sequence or the ticket number."""
    barrier = SPAWN.Barrier(2)
    results = SPAWN.Queue()
    children = [
        SPAWN.Process(target=_ring_child, args=(ledger.target, name, barrier, results))
        for name in ("Alice", "Bob")
    ]
    for child in children:
        child.start()
    got = dict(results.get(timeout=WAIT_S * 2) for _ in children)
    for child in children:
        child.join(WAIT_S)
    assert all(isinstance(numbers, list) for numbers in got.values()), got
    numbers = sorted(got["Alice"] + got["Bob"])
    assert numbers == list(range(1, 2 * TICKETS_PER_TILL + 1))
    with ledger.reader() as session:
        rows = session.execute(
            select(JournalRecord.seq, JournalRecord.operator)
            .where(JournalRecord.record_type == RecordType.TICKET)
            .order_by(JournalRecord.seq)
        ).all()
    operators = [operator for _seq, operator in rows]
    switches = sum(a != b for a, b in pairwise(operators))
    assert switches > 0, "the two tills did not ring at the same time"
    report = verify_ledger(ledger.target)
    assert report.ok, report.findings
    assert report.records == 2 + 2 * TICKETS_PER_TILL


def _ring_child(url: str, operator: str, barrier: Barrier, results) -> None:  # type: ignore[no-untyped-def]
    try:
        with Ledger.open(url, create=False, clock=FakeClock(), operator=operator) as ledger:
            barrier.wait(WAIT_S)
            numbers = [ring(ledger, operator=operator).number for _ in range(TICKETS_PER_TILL)]
        results.put((operator, numbers))
    except Exception as exc:
        results.put((operator, repr(exc)))


@ON_POSTGRESQL
def test_an_append_in_another_process_waits_for_the_database_lock(
    ledger: Ledger, clock: FakeClock
) -> None:
    """While this process is in a write transaction, another process's append waits in
    the server (pg_locks shows it) and then goes after it: a lock held by the database."""
    ring(ledger)
    results = SPAWN.Queue()
    watcher = psycopg.connect(libpq_url(ledger.target), autocommit=True)
    child = SPAWN.Process(target=_one_ticket_child, args=(ledger.target, results))
    try:
        with ledger.transaction() as session:
            session.connection()  # the lock is taken when the transaction starts
            child.start()

            def child_waits() -> bool:
                row = watcher.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                ).fetchone()
                return bool(row and row[0] == 1)

            _wait_for(child_waits, "the other process to wait for the chain lock")
            assert results.empty()
            from app.ledger.events import log_event

            mine = log_event(session, EventCode.LOGIN, operator="Alice").seq
        theirs = results.get(timeout=WAIT_S)
        child.join(WAIT_S)
    finally:
        watcher.close()
    assert theirs == mine + 1
    assert verify_ledger(ledger.target).ok


def _one_ticket_child(url: str, results) -> None:  # type: ignore[no-untyped-def]
    try:
        with Ledger.open(url, create=False, clock=FakeClock(), operator="Bob") as ledger:
            results.put(ring(ledger, operator="Bob").seq)
    except Exception as exc:
        results.put(repr(exc))


@ON_POSTGRESQL
def test_a_write_transaction_holds_the_lock_and_a_reader_does_not(ledger: Ledger) -> None:
    other = psycopg.connect(libpq_url(ledger.target), autocommit=True)

    def free() -> bool:
        row = other.execute("SELECT pg_try_advisory_xact_lock(%s)", (CHAIN_LOCK_KEY,)).fetchone()
        return bool(row and row[0])

    try:
        with ledger.transaction():
            assert not free()
        assert free()
        with ledger.reader() as session:  # reading never takes it
            session.scalar(select(func.count()).select_from(JournalRecord))
            assert free()
    finally:
        other.close()


@ON_POSTGRESQL
def test_a_writer_kept_waiting_too_long_gets_a_french_refusal(
    ledger: Ledger, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 300)  # for the second till's connections
    with Ledger.open(ledger.target, create=False, clock=clock, operator="Bob") as other:
        with ledger.transaction(), pytest.raises(LedgerBusy, match="occupé"):
            ring(other)
        assert ring(other).seq == 3  # nothing was written by the refused attempt
    assert verify_ledger(ledger.target).ok


@ON_POSTGRESQL
def test_a_read_only_ledger_is_read_only_in_the_server(ledger: Ledger) -> None:
    ring(ledger)
    with Ledger.open(ledger.target, readonly=True) as reader:
        with reader.reader() as session:
            assert session.scalar(select(func.count()).select_from(JournalRecord)) == 3
        with pytest.raises(DBAPIError, match="read-only"), reader.reader() as session:
            session.execute(text("CREATE TABLE intruder (x integer)"))


# -- what needs the SQLite file ----------------------------------------------------------
def _password(url: str) -> str:
    password = make_url(url).password
    assert password
    return str(password)


@ON_POSTGRESQL
def test_the_password_is_never_shown(ledger: Ledger) -> None:
    password = _password(ledger.target)
    assert password not in ledger.display_name
    assert "***" in ledger.display_name
    with pytest.raises(SqliteOnly) as refused:
        _ = ledger.path
    assert "PostgreSQL" in refused.value.message and password not in refused.value.message


@ON_POSTGRESQL
def test_file_features_are_refused_in_french(ledger: Ledger, tmp_path: Path) -> None:
    with pytest.raises(ComptoirError, match="pg_dump"):
        backup_now(ledger, operator="Gérant", folder=tmp_path)
    with pytest.raises(ComptoirError, match="serveur PostgreSQL"):
        LedgerBrowser(ledger.target)
    assert list(tmp_path.iterdir()) == []


@ON_POSTGRESQL
def test_an_archive_is_written_into_the_folder_given(ledger: Ledger, clock: FakeClock, tmp_path):
    with ledger.transaction() as session:
        from app.demo import DEMO_SHOP

        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
    ring(ledger)
    with ledger.transaction() as session:
        close_day(session, clock.today, operator="Gérant")
    clock.set_local(date(2026, 4, 1))
    with ledger.transaction() as session:
        close_month(session, "2026-03", operator="Gérant")
    with pytest.raises(ComptoirError, match="dossier"):
        create_archive(ledger, "2026-03", operator="Gérant")
    result = create_archive(ledger, "2026-03", operator="Gérant", out_dir=tmp_path)
    assert result.path.parent == tmp_path
    assert verify_archive(result.path).ok
    assert verify_ledger(ledger.target).ok


# -- the command line (in this process; tests/integration/test_tamper.py runs it apart) ---
@ON_POSTGRESQL
def test_cli_verify_takes_a_url_and_never_prints_the_password(ledger: Ledger, capsys) -> None:
    ring(ledger)
    password = _password(ledger.target)
    assert main(["--db", ledger.target, "verify"]) == 0
    done = capsys.readouterr()
    assert done.out.startswith("Journal intègre : 3 enregistrements vérifiés")
    with ledger.reader() as session:  # journaled: this computer holds the key
        last = session.scalar(select(JournalRecord).order_by(JournalRecord.seq.desc()).limit(1))
    assert last.record_type == "EVENT" and b'"VERIFY"' in last.canonical

    unreachable = make_url(ledger.target).set(port=free_port())
    assert main(["--db", unreachable.render_as_string(hide_password=False), "verify"]) == 2
    refused = capsys.readouterr()
    assert "injoignable" in refused.err
    for output in (done.out, done.err, refused.out, refused.err):
        assert password not in output


@ON_POSTGRESQL
def test_cli_refuses_what_needs_a_file(ledger: Ledger, tmp_path: Path, capsys) -> None:
    password = _password(ledger.target)
    (tmp_path / "copie.sqlite").write_bytes(b"")  # a copy there is: the server is refused
    for args, expected in (
        (("backup", "create", "--to", str(tmp_path)), "pg_dump"),
        (("--training", "verify"), "mode formation"),
        (("export", "csv", "--out", str(tmp_path / "x.csv")), "PostgreSQL"),
        (("backup", "restore", str(tmp_path / "copie.sqlite")), "pg_restore"),
    ):
        assert main(["--db", ledger.target, *args]) == 2, args
        done = capsys.readouterr()
        assert expected in done.err, (args, done.err)
        assert password not in done.err + done.out
