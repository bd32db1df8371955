"""A sound ticket is judged in one step (``fast.sound_ticket``); anything else goes through
the checks one by one. The one step must never accept what a check would refuse: a
ledger altered in any of many ways is scanned with the one step and without it, and both
scans must say exactly the same thing.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing, suppress
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.ledger import canonical, chain
from app.ledger.closures import close_day
from app.ledger.keys import load_key
from app.ledger.records import derived_rows
from app.ledger.store import Ledger
from app.ledger.verify import checks, fast, scan, sources
from app.sales.payments import PaymentMethod
from tests.conftest import FakeClock
from tests.helpers import ring
from tests.pg import tampering

Ledgers = tuple[Path, str, Any, int]  # the sound file, its id, its private key, last seq


@pytest.fixture
def sound(tmp_path: Path, clock: FakeClock) -> Ledgers:
    path = tmp_path / "sound.sqlite"
    sales = [
        (("Baguette", 130, 2, 550), PaymentMethod.CASH),
        (("Café", 180, 1, 1000), PaymentMethod.CARD),
        (("Tomates", 420, "0.75", 550), PaymentMethod.CHEQUE),
    ]
    with Ledger.open(path, clock=clock, operator="test") as ledger:
        day = clock.today
        for line, method in sales * 2:
            clock.advance(minutes=3)
            ring(ledger, line, ("Vin", 900, 1, 2000), method=method)
        clock.set_local(day, time(20, 0))
        with ledger.transaction() as session:
            close_day(session, day, operator="Alice")
        clock.set_local(day + timedelta(days=1), time(9, 0))
        for line, method in sales:
            clock.advance(minutes=3)
            ring(ledger, line, method=method, operator="Bob")
        ledger_id = ledger.ledger_id
    stored = load_key(ledger_id)
    assert stored is not None
    with closing(sqlite3.connect(path)) as conn:
        last = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
    return path, ledger_id, stored.private_key, last


def _scan(path: Path, ledger_id: str, last: int, *, one_step: bool) -> scan.Chunk:
    keys = _scan_keys(path)
    saved = scan.sound_ticket
    if not one_step:
        scan.sound_ticket = lambda walk, rec: None  # type: ignore[assignment]
    try:
        return scan.scan_chunk(str(path), 1, last, ledger_id, keys)
    finally:
        scan.sound_ticket = saved


def test_a_sound_ticket_takes_the_one_step(sound: Ledgers, monkeypatch: pytest.MonkeyPatch) -> None:
    path, ledger_id, _key, last = sound
    taken: list[int] = []

    def spy(walk: Any, rec: tuple[Any, ...]) -> Any:
        figures = fast.sound_ticket(walk, rec)
        if figures is not None:
            taken.append(rec[0])
        return figures

    monkeypatch.setattr(scan, "sound_ticket", spy)
    chunk = scan.scan_chunk(str(path), 1, last, ledger_id, _scan_keys(path))
    assert chunk.findings == []
    with closing(sqlite3.connect(path)) as conn:
        tickets = [s for (s,) in conn.execute("SELECT seq FROM journal WHERE record_type='TICKET'")]
    # Every ticket but the scan's first: its number has no predecessor to follow.
    assert taken == tickets[1:]


def _scan_keys(path: Path) -> scan.Keys:
    conn = sources.connect(str(path))
    try:
        return sources.keys_of(conn)[0]
    finally:
        conn.close()


# -- ways to alter a record ----------------------------------------------------------------
Alter = Callable[[Any, int, Any], None]  # (raw connection, seq, private key)


def _column(name: str, value: Callable[[Any, Any], Any]) -> Alter:
    def alter(conn: Any, seq: int, _key: Any) -> None:
        row = conn.execute(f"SELECT {name}, hash FROM journal WHERE seq = ?", (seq,)).fetchone()
        other = conn.execute(
            f"SELECT {name} FROM journal WHERE seq = ?", (seq % 3 + 1,)
        ).fetchone()[0]
        conn.execute(f"UPDATE journal SET {name} = ? WHERE seq = ?", (value(row[0], other), seq))

    return alter


def _body(change: Callable[[dict[str, Any]], None], *, copies: bool, signed: bool) -> Alter:
    """Change the signed envelope; with ``copies`` the query copies follow it; with
    ``signed`` the record and every later one are hashed and signed again, so that only
    the deeper checks can tell."""

    def alter(conn: Any, seq: int, key: Any) -> None:
        row = conn.execute(
            "SELECT canonical, record_type FROM journal WHERE seq = ?", (seq,)
        ).fetchone()
        envelope = canonical.decode(row[0])
        change(envelope)
        conn.execute(
            "UPDATE journal SET canonical = ? WHERE seq = ?", (canonical.encode(envelope), seq)
        )
        if copies:
            _write_copies(conn, seq, row[1], envelope["body"])
        if signed:
            _sign_from(conn, seq, key)

    return alter


def _write_copies(conn: Any, seq: int, rtype: str, body: dict[str, Any]) -> None:
    try:
        vat, payments, total = derived_rows(rtype, body)
    except (KeyError, TypeError, ValueError):
        return
    conn.execute("DELETE FROM journal_vat WHERE seq = ?", (seq,))
    conn.execute("DELETE FROM journal_payment WHERE seq = ?", (seq,))
    for row in {r[0]: r for r in vat}.values():
        conn.execute("INSERT INTO journal_vat VALUES (?, ?, ?, ?, ?)", (seq, *row))
    for i, (method, amount) in enumerate(payments):
        conn.execute("INSERT INTO journal_payment VALUES (?, ?, ?, ?)", (seq, i, method, amount))
    conn.execute("UPDATE journal SET total_cents = ? WHERE seq = ?", (total, seq))


def _sign_from(conn: Any, seq: int, key: Any) -> None:
    prev = conn.execute("SELECT prev_hash FROM journal WHERE seq = ?", (seq,)).fetchone()[0]
    for later, data in conn.execute(
        "SELECT seq, canonical FROM journal WHERE seq >= ? ORDER BY seq", (seq,)
    ).fetchall():
        link = chain.link_hash(prev, data)
        conn.execute(
            "UPDATE journal SET prev_hash = ?, hash = ?, signature = ? WHERE seq = ?",
            (prev, link, chain.sign_hash(key, link), later),
        )
        prev = link


def _set(*path: Any, value: Callable[[Any], Any]) -> Callable[[dict[str, Any]], None]:
    def change(envelope: dict[str, Any]) -> None:
        node: Any = envelope
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value(node[path[-1]])

    return change


def _plus_one(value: Any) -> Any:
    return value + 1 if isinstance(value, int) else value


_COLUMNS: dict[str, Alter] = {
    "seq": _column("seq", lambda v, _o: v + 1000),
    "record_type": _column("record_type", lambda _v, _o: "INVOICE"),
    "number": _column("number", lambda v, _o: v + 1),
    "ts earlier": _column("ts", lambda _v, _o: "2000-01-01T00:00:00.000000+00:00"),
    "ts later": _column("ts", lambda v, _o: v[:-1] + "1"),
    "business_date": _column("business_date", lambda _v, _o: "2001-01-01"),
    "till": _column("till", lambda v, _o: v + "X"),
    "operator": _column("operator", lambda v, _o: v + "X"),
    "is_sale": _column("is_sale", lambda _v, _o: 0),
    "ref_seq": _column("ref_seq", lambda _v, _o: 2),
    "period": _column("period", lambda _v, _o: "2026-01"),
    "total_cents": _column("total_cents", lambda v, _o: _plus_one(v)),
    "total_cents null": _column("total_cents", lambda _v, _o: None),
    "key_id": _column("key_id", lambda _v, _o: "0" * 16),
    "canonical_version": _column("canonical_version", lambda v, _o: v + 1),
    "prev_hash": _column("prev_hash", lambda _v, o: o),
    "hash": _column("hash", lambda _v, o: o),
    "signature": _column("signature", lambda _v, o: o),
    "canonical byte": _column("canonical", lambda v, _o: v.replace(b"0", b"1", 1)),
    "canonical cut": _column("canonical", lambda v, _o: v[:-5]),
}
_BODY_CHANGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "total": _set("body", "total", value=_plus_one),
    "line total": _set("body", "lines", 0, "total", value=_plus_one),
    "vat amount": _set("body", "vat", 0, "vat", value=_plus_one),
    "vat rate as text": _set("body", "vat", 0, "rate", value=str),
    "vat row and total": _set("body", "vat", 0, "total", value=_plus_one),
    "payment": _set("body", "payments", 0, "amount", value=_plus_one),
    "payment method": _set("body", "payments", 0, "method", value=lambda _v: 7),
    "ledger": _set("ledger", value=lambda _v: "another-ledger"),
    "key": _set("key", value=lambda _v: "0" * 16),
    "number": _set("number", value=_plus_one),
    "ts": _set("ts", value=lambda _v: "2000-01-01T00:00:00.000000+00:00"),
    "till": _set("till", value=lambda v: v + "X"),
    "extra key": lambda e: e["body"].update(note="x"),
    "no lines": _set("body", "lines", value=lambda _v: []),
    "body gone": lambda e: e.pop("body"),
    "seq": _set("seq", value=_plus_one),
}


def _copy_change(statement: str) -> Alter:
    def alter(conn: Any, seq: int, _key: Any) -> None:
        conn.execute(statement, (seq,))

    return alter


_COPIES: dict[str, Alter] = {
    "vat base": _copy_change("UPDATE journal_vat SET base_cents = base_cents + 1 WHERE seq = ?"),
    "vat row gone": _copy_change(
        "DELETE FROM journal_vat WHERE seq = ? AND rate_bp = (SELECT MAX(rate_bp) FROM journal_vat)"
    ),
    "payment moved": _copy_change("UPDATE journal_payment SET seq = seq + 1 WHERE seq = ?"),
    "payment method": _copy_change("UPDATE journal_payment SET method = 'X' WHERE seq = ?"),
}

alterations = st.one_of(
    st.sampled_from(sorted(_COLUMNS.items())),
    st.sampled_from(sorted(_COPIES.items())),
    st.builds(
        lambda item, copies, signed: (
            f"{item[0]} (copies {copies}, signed {signed})",
            _body(item[1], copies=copies, signed=signed),
        ),
        st.sampled_from(sorted(_BODY_CHANGES.items())),
        st.booleans(),
        st.booleans(),
    ),
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(changes=st.lists(st.tuples(alterations, st.integers(2, 12)), min_size=1, max_size=2))
def test_the_one_step_never_accepts_what_a_check_refuses(
    sound: Ledgers, tmp_path: Path, changes: list[tuple[tuple[str, Alter], int]]
) -> None:
    path, ledger_id, key, last = sound
    altered = tmp_path / "altered.sqlite"
    shutil.copyfile(path, altered)
    with tampering(altered) as conn:
        for (_name, alter), seq in changes:
            # An alteration this record cannot take (a closure has no lines) changes nothing.
            with suppress(sqlite3.IntegrityError, KeyError, IndexError, TypeError, ValueError):
                alter(conn, seq, key)
    one_step = _scan(altered, ledger_id, last + 1000, one_step=True)
    by_checks = _scan(altered, ledger_id, last + 1000, one_step=False)
    assert one_step == by_checks


def test_the_typed_fields_stand_in_the_order_of_their_copies() -> None:
    """The one step reads a struct's values as a tuple: their order is the columns'."""
    assert fast._Envelope.__struct_fields__[1:12] == tuple(checks.ENVELOPE_COPIES)
    assert fast._Vat.__struct_fields__ == ("rate", "base", "vat", "total")
    assert fast._Payment.__struct_fields__ == ("method", "amount")
