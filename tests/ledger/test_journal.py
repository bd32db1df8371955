"""The one write path: chaining, numbering, signatures, refusals."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, select

from app.errors import ClockError, InvalidInput, KeyUnavailable, LedgerMismatch
from app.ledger import canonical, chain
from app.ledger.events import EventCode, log_event
from app.ledger.journal import append
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType
from app.ledger.store import Ledger
from app.ledger.verify.engine import verify_ledger
from tests.helpers import ring
from tests.pg import tampering


def test_new_ledger_starts_with_its_key_and_creation_event(ledger: Ledger) -> None:
    with ledger.reader() as session:
        rows = session.scalars(select(JournalRecord).order_by(JournalRecord.seq)).all()
    assert [r.record_type for r in rows] == ["KEY", "EVENT"]
    assert rows[0].prev_hash == chain.GENESIS_PREV_HASH
    assert rows[1].prev_hash == rows[0].hash
    body = canonical.decode(rows[0].canonical)["body"]
    assert body["key_id"] == chain.key_id_of(ledger.signer.public_key())


def test_each_record_is_chained_hashed_and_signed(ledger: Ledger) -> None:
    first = ring(ledger)
    second = ring(ledger)
    with ledger.reader() as session:
        rows = {r.seq: r for r in session.scalars(select(JournalRecord))}
    row = rows[second.seq]
    assert row.prev_hash == first.hash
    assert row.hash == chain.link_hash(first.hash, row.canonical)
    assert chain.signature_ok(ledger.signer.public_key(), row.hash, row.signature)
    envelope = canonical.decode(row.canonical)
    assert envelope["seq"] == second.seq and envelope["type"] == "TICKET"
    assert envelope["ledger"] == ledger.ledger_id


def test_numbering_is_gapless_per_type(ledger: Ledger) -> None:
    tickets = [ring(ledger).number for _ in range(3)]
    with ledger.transaction() as session:
        event = log_event(session, EventCode.LOGIN, operator="Alice")
    tickets.append(ring(ledger).number)
    assert tickets == [1, 2, 3, 4]
    assert event.number == 2  # LEDGER_CREATED was event n°1


def test_failed_transaction_leaves_no_gap(ledger: Ledger) -> None:
    ring(ledger)
    with pytest.raises(RuntimeError), ledger.transaction() as session:
        append(session, RecordType.EVENT, {"code": "X", "detail": {}}, operator="Alice")
        raise RuntimeError("crash before commit")
    assert ring(ledger).number == 2
    assert verify_ledger(ledger.target).ok


def test_canonical_bytes_refuse_floats_and_bad_text(ledger: Ledger) -> None:
    with pytest.raises(TypeError), ledger.transaction() as session:
        append(session, RecordType.EVENT, {"amount": 1.5}, operator="Alice")
    with pytest.raises(InvalidInput), ledger.transaction() as session:
        append(session, RecordType.EVENT, {"text": "\udcff"}, operator="Alice")
    with pytest.raises(InvalidInput), ledger.transaction() as session:
        append(session, RecordType.EVENT, {"blob": "x" * 300_000}, operator="Alice")
    with pytest.raises(InvalidInput), ledger.transaction() as session:
        append(session, RecordType.EVENT, {}, operator="")
    with ledger.reader() as session:
        assert session.scalar(select(func.count()).select_from(JournalRecord)) == 2


def test_canonical_form_is_sorted_compact_utf8() -> None:
    data = canonical.encode({"b": 1, "a": "é", "c": [None, True]})
    assert data == '{"a":"é","b":1,"c":[null,true]}'.encode()


def test_clock_going_back_is_refused_and_journaled(ledger: Ledger, clock) -> None:
    ring(ledger)
    clock.advance(minutes=-5)
    with pytest.raises(ClockError, match="horloge"):
        ring(ledger)
    with ledger.reader() as session:
        last = session.scalar(select(JournalRecord).order_by(JournalRecord.seq.desc()).limit(1))
    body = canonical.decode(last.canonical)["body"]
    assert body["code"] == "CLOCK_ANOMALY"
    assert body["detail"]["observed"] < body["detail"]["last_record"]
    clock.advance(minutes=10)
    assert ring(ledger).number == 2
    assert verify_ledger(ledger.target).ok


# The PostgreSQL guards are tested in test_postgresql.py and tests/integration/test_tamper.py.
@pytest.mark.sqlite_only("raw sqlite3 connection on the file")
def test_triggers_refuse_update_and_delete(ledger: Ledger) -> None:
    ring(ledger)
    conn = sqlite3.connect(ledger.path)
    for statement in (
        "UPDATE journal SET total_cents = 1",
        "DELETE FROM journal WHERE seq = 3",
        "UPDATE journal_vat SET total_cents = 1",
        "DELETE FROM journal_payment",
        "UPDATE ledger_meta SET kind = 'training'",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="ajout seul"):
            conn.execute(statement)
    conn.close()


@pytest.mark.sqlite_only("SQLite pragmas")
def test_sqlite_is_wal_with_full_sync_and_foreign_keys(ledger: Ledger) -> None:
    with ledger.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_training_ledger_cannot_be_opened_as_real(tmp_path, clock) -> None:
    path = tmp_path / "formation.sqlite"
    Ledger.open(path, kind="training", clock=clock).close()
    with pytest.raises(LedgerMismatch, match="formation"):
        Ledger.open(path, kind="real", clock=clock)


def test_lost_key_stops_writing_until_a_manager_replaces_it(ledger_target, clock) -> None:
    with Ledger.open(ledger_target, clock=clock) as first:
        ring(first)
        old = chain.key_id_of(first.signer.public_key())
        key_file = first.key_storage
    import os

    before = verify_ledger(ledger_target).records
    os.remove(key_file)
    clock.advance(minutes=1)
    with pytest.raises(KeyUnavailable, match="comptoir key import"):
        Ledger.open(ledger_target, clock=clock)
    assert verify_ledger(ledger_target).records == before  # nothing was written
    # Only an explicit decision replaces a lost key: journaled, and unendorsed.
    with Ledger.open(ledger_target, clock=clock, new_key_reason="clé perdue") as second:
        assert chain.key_id_of(second.signer.public_key()) != old
        ring(second)
    report = verify_ledger(ledger_target)
    # Honest records, but the new key is vouched for by nobody: verification says so.
    assert report.keys == 2
    assert [f.rule for f in report.findings] == ["key_unendorsed"]
    assert "non endossé" in report.first_problem.message


def test_rotation_is_endorsed_by_the_previous_key(ledger: Ledger, clock) -> None:
    ring(ledger)
    new_id = ledger.rotate_key("Gérant", "renouvellement annuel")
    clock.advance(seconds=1)
    ring(ledger)
    report = verify_ledger(ledger.target)
    assert report.ok, report.findings
    assert report.notices == []
    with ledger.reader() as session:
        last = session.scalar(select(JournalRecord).order_by(JournalRecord.seq.desc()).limit(1))
    assert last.key_id == new_id


def test_timestamps_have_microseconds_in_utc(ledger: Ledger, clock) -> None:
    clock.advance(microseconds=123)
    record = ring(ledger)
    assert record.ts.endswith("Z") and len(record.ts) == 27
    assert canonical.parse_ts(record.ts) == clock.now
    assert record.business_date == clock.today


def test_business_date_follows_shop_time_not_utc(ledger: Ledger, clock) -> None:
    # 00:30 in Paris on 2 July is still 1 July in UTC: the shop day is 2 July.
    from datetime import date, time

    clock.set_local(date(2026, 7, 2), time(0, 30))
    record = ring(ledger)
    assert record.business_date == date(2026, 7, 2)
    assert canonical.parse_ts(record.ts).date() == date(2026, 7, 1)


def test_truncation_after_a_closure_is_caught_by_the_anchor(ledger: Ledger, clock) -> None:
    from datetime import date

    from app.ledger.closures import close_day

    ring(ledger)
    with ledger.transaction() as session:
        closure = close_day(session, date(2026, 3, 2), operator="Gérant")
    with tampering(ledger.target) as conn:
        conn.execute("DELETE FROM journal WHERE seq >= ?", (closure.seq,))
    report = verify_ledger(ledger.target)
    assert not report.ok
    assert report.first_problem.rule == "anchor"
    assert "supprimés" in report.first_problem.message
