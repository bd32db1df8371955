"""Tampering with the ledger behind the app's back, and what verification says.

Each test builds a small ledger (two days of sales with a day closure between), turns
the append-only guards off with a plain driver connection (``sqlite3`` on the file, or
``psycopg`` as the PostgreSQL superuser), alters the records the way a forger would, and
checks that ``verify`` names the first broken record, in French, both in one process and
cut into chunks checked by worker processes. Every test runs on both backends.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from app.ledger import canonical, chain
from app.ledger.closures import close_day
from app.ledger.keys import keys_dir
from app.ledger.models import FISCAL_TABLES
from app.ledger.records import derived_rows
from app.ledger.store import Ledger
from app.ledger.verify import scan
from app.ledger.verify.engine import Report, verify_ledger
from app.sales.payments import PaymentMethod
from tests.conftest import FakeClock
from tests.helpers import ring
from tests.pg import TRIGGERS_PER_TABLE, RawDb
from tests.pg import tampering as raw_tampering

ROOT = Path(__file__).resolve().parents[2]

Row = dict[str, Any]


@dataclass(frozen=True)
class Built:
    """A sound ledger and where its records are."""

    path: Path | str  # a SQLite file, or a PostgreSQL URL
    day1_tickets: list[int]  # seq of each ticket of the first (closed) day
    closure: int  # seq of the day closure
    day2_tickets: list[int]  # seq of each ticket of the second (open) day
    last: int


@pytest.fixture
def built(ledger_target: Path | str, clock: FakeClock) -> Built:
    sales: list[tuple[tuple[str, int, str | int, int], PaymentMethod]] = [
        (("Baguette", 130, 2, 550), PaymentMethod.CASH),
        (("Croissant", 115, 4, 550), PaymentMethod.CARD),
        (("Café", 180, 1, 1000), PaymentMethod.CARD),
        (("Jus d'orange", 350, 1, 550), PaymentMethod.CHEQUE),
        (("Tomates", 420, "0.75", 550), PaymentMethod.CASH),
    ]
    with Ledger.open(ledger_target, clock=clock, operator="test") as ledger:
        day1 = clock.today
        day1_tickets = []
        for line, method in sales[:4]:
            clock.advance(minutes=7)
            day1_tickets.append(ring(ledger, line, method=method).seq)
        clock.set_local(day1, time(20, 0))
        with ledger.transaction() as session:
            closure = close_day(session, day1, operator="Alice").seq
        clock.set_local(day1 + timedelta(days=1), time(9, 0))
        day2_tickets = []
        for line, method in sales:
            clock.advance(minutes=5)
            day2_tickets.append(ring(ledger, line, method=method, operator="Bob").seq)
    result = Built(ledger_target, day1_tickets, closure, day2_tickets, day2_tickets[-1])
    assert result.last == 12, "the chunk layout below assumes 12 records"
    report = verify(ledger_target)
    assert report.ok, report.findings
    assert (report.records, report.closures) == (12, 1)
    return result


# -- helpers ------------------------------------------------------------------------------
@contextmanager
def tampering(path: Path | str) -> Iterator[RawDb]:
    """A raw connection with the append-only guards off, committed at the end."""
    with closing(RawDb(path)) as conn:
        guards = [name for name, table in conn.triggers() if table in FISCAL_TABLES]
        assert len(guards) == TRIGGERS_PER_TABLE[conn.dialect] * len(FISCAL_TABLES)
    with raw_tampering(path) as conn:
        yield conn


def record(conn: RawDb, seq: int) -> Row:
    row = conn.execute("SELECT * FROM journal WHERE seq = ?", (seq,)).fetchone()
    assert row is not None
    return dict(row)


def insert_record(conn: RawDb, row: Row) -> None:
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    conn.execute(f"INSERT INTO journal ({columns}) VALUES ({marks})", tuple(row.values()))


def write_copies(conn: RawDb, seq: int, rtype: str, body: dict[str, Any]) -> None:
    """Make the query copies of a record agree with a (forged) body."""
    vat, payments, total = derived_rows(rtype, body)
    conn.execute("DELETE FROM journal_vat WHERE seq = ?", (seq,))
    conn.execute("DELETE FROM journal_payment WHERE seq = ?", (seq,))
    conn.executemany(
        "INSERT INTO journal_vat (seq, rate_bp, base_cents, vat_cents, total_cents) "
        "VALUES (?, ?, ?, ?, ?)",
        [(seq, *row) for row in vat],
    )
    conn.executemany(
        "INSERT INTO journal_payment (seq, idx, method, amount_cents) VALUES (?, ?, ?, ?)",
        [(seq, i, method, amount) for i, (method, amount) in enumerate(payments)],
    )
    conn.execute("UPDATE journal SET total_cents = ? WHERE seq = ?", (total, seq))


def rewrite_body(
    conn: RawDb,
    seq: int,
    change: Callable[[dict[str, Any]], None],
    *,
    rechain: bool,
) -> None:
    """Change a record's body, keeping its copies consistent with it.

    With ``rechain`` the forger also recomputes this hash and every later link, so that
    the hashes all agree and only the signatures (made with a key he lacks) can tell.
    """
    row = record(conn, seq)
    envelope = canonical.decode(row["canonical"])
    change(envelope["body"])
    data = canonical.encode(envelope)
    conn.execute("UPDATE journal SET canonical = ? WHERE seq = ?", (data, seq))
    write_copies(conn, seq, row["record_type"], envelope["body"])
    if not rechain:
        return
    prev_hash = row["prev_hash"]
    for later in conn.execute(
        "SELECT seq, canonical FROM journal WHERE seq >= ? ORDER BY seq", (seq,)
    ).fetchall():
        link = chain.link_hash(prev_hash, later["canonical"])
        conn.execute(
            "UPDATE journal SET prev_hash = ?, hash = ? WHERE seq = ?",
            (prev_hash, link, later["seq"]),
        )
        prev_hash = link


def verify(path: Path | str) -> Report:
    return verify_ledger(path, workers=1)


def verify_chunked(path: Path | str) -> Report:
    # Small chunks so that a dozen records span three chunks and exercise the stitching.
    return verify_ledger(path, workers=2, chunk_size=5)


def verify_both(path: Path | str) -> Report:
    """Verify in one process and in chunks; both must reach the same verdict.

    Worker processes take a second to start, so only the tests whose tampering sits
    on or across a chunk boundary pay for both.
    """
    single = verify(path)
    chunked = verify_chunked(path)
    assert chunked.ok == single.ok
    assert chunked.first_problem == single.first_problem
    assert _where(chunked) == _where(single)
    assert (chunked.records, chunked.last_seq, chunked.last_hash) == (
        single.records,
        single.last_seq,
        single.last_hash,
    )
    return single


def _where(report: Report) -> list[tuple[int | None, str]]:
    return sorted((f.seq, f.rule) for f in report.findings)


_FRENCH = re.compile(r"enregistrement|séquence|clôture|numérotation|signature|empreinte")


def assert_detected(report: Report, seq: int, *rules: str) -> None:
    """Verification fails, and its first finding is about record ``seq``, in French."""
    assert not report.ok
    first = report.first_problem
    assert first is not None
    assert first.seq == seq, report.findings
    assert _FRENCH.search(first.message), first.message
    assert re.search(rf"\b{seq}\b", first.message), first.message
    about = [f for f in report.findings if f.seq == seq]
    assert any(f"n°{seq}" in f.message for f in about), about
    assert {f.rule for f in about} >= set(rules), about
    summary = report.summary()
    assert summary.startswith("Journal NON intègre : ")
    assert first.message in summary


def run_cli(path: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "--db", str(path), "verify"],
        cwd=ROOT,
        env=os.environ.copy(),  # the test's data folder, where the signing key is
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# -- the guards ---------------------------------------------------------------------------
_SOME_COLUMN = {
    "journal": "operator",
    "journal_vat": "vat_cents",
    "journal_payment": "amount_cents",
    "signing_key": "public_key",
    "ledger_meta": "kind",
}


@pytest.mark.parametrize("table", FISCAL_TABLES)
def test_triggers_refuse_update_and_delete(built: Built, table: str) -> None:
    with closing(RawDb(built.path)) as conn:
        column = _SOME_COLUMN[table]
        statements = [f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}"]
        if conn.dialect == "postgresql":  # TRUNCATE skips row triggers there
            statements.append(f"TRUNCATE {table} CASCADE")
        for statement in statements:
            with pytest.raises(conn.Error) as refused:
                conn.execute(statement)
            assert "ajout seul" in str(refused.value)
            conn.rollback()
    assert verify(built.path).ok


def test_sound_ledger_verifies_in_chunks(built: Built) -> None:
    report = verify_both(built.path)
    assert report.ok, report.findings
    assert (report.records, report.closures, report.last_seq) == (12, 1, 12)


def test_cli_verify_sound_ledger(built: Built) -> None:
    result = run_cli(built.path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Journal intègre : 12 enregistrements vérifiés")


# -- tamperings that verification catches -------------------------------------------------
def _cheaper(body: dict[str, Any]) -> None:
    """Take 1 € off a one-line ticket, every total consistent with it."""
    (line,) = body["lines"]
    (vat,) = body["vat"]
    line["unit_price"] -= 100
    for holder, keys in (
        (line, ("gross", "total")),
        (vat, ("base", "total")),
        (body, ("total_excl", "total")),
        (body["payments"][0], ("amount",)),
        (body["tendered"][0], ("amount",)),
    ):
        for key in keys:
            holder[key] -= 100


def test_amount_changed_in_canonical_bytes(built: Built) -> None:
    seq = built.day1_tickets[1]
    with tampering(built.path) as conn:
        rewrite_body(conn, seq, _cheaper, rechain=False)
    report = verify(built.path)
    assert_detected(report, seq, "hash")
    # The closure of that day no longer adds up either.
    assert any(f.seq == built.closure and f.rule == "closure" for f in report.findings)

    result = run_cli(built.path)
    assert result.returncode == 1, result.stderr
    assert f"n°{seq} " in result.stdout.splitlines()[0]
    assert "NON intègre" in result.stdout


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE journal SET total_cents = total_cents - 100 WHERE seq = ?",
        "UPDATE journal_vat SET total_cents = total_cents - 100, base_cents = base_cents - 100 "
        "WHERE seq = ?",
        "UPDATE journal_payment SET amount_cents = amount_cents - 100 WHERE seq = ?",
    ],
    ids=["journal.total_cents", "journal_vat", "journal_payment"],
)
def test_copy_columns_changed(built: Built, statement: str) -> None:
    seq = built.day2_tickets[2]
    with tampering(built.path) as conn:
        assert conn.execute(statement, (seq,)).rowcount == 1
    assert_detected(verify(built.path), seq, "copy")


@pytest.mark.parametrize("run", [1, 2, 3])
def test_copies_checked_run_by_run(built: Built, monkeypatch: pytest.MonkeyPatch, run: int) -> None:
    """Copies are read a run of records at a time: a copy moved to the next record, or
    changed in any run, is found and named."""
    monkeypatch.setattr(scan, "_RUN", run)
    first, second = built.day2_tickets[1], built.day2_tickets[2]
    with tampering(built.path) as conn:
        conn.execute("DELETE FROM journal_payment WHERE seq = ?", (second,))
        conn.execute("UPDATE journal_payment SET seq = ? WHERE seq = ?", (second, first))
    report = verify(built.path)
    assert_detected(report, first, "copy")
    assert ("copy", second) in {(f.rule, f.seq) for f in report.findings}


def delete_record(path: Path | str, seq: int) -> None:
    with tampering(path) as conn:
        for table in ("journal_vat", "journal_payment", "journal"):
            conn.execute(f"DELETE FROM {table} WHERE seq = ?", (seq,))


# Chunks of 5 hold records 1-5, 6-10 and 11-12.
@pytest.mark.parametrize("seq", [9, 5], ids=["inside a chunk", "at a chunk's end"])
def test_record_deleted(built: Built, seq: int) -> None:
    assert seq in built.day1_tickets + built.day2_tickets
    delete_record(built.path, seq)
    assert_detected(verify_both(built.path), seq + 1, "sequence", "chain", "numbering")


def test_record_deleted_at_a_chunks_start(built: Built) -> None:
    # Ticket n°6 opens the second chunk and the day closure n°7 follows it.
    assert (built.day1_tickets[-1], built.closure) == (6, 7)
    delete_record(built.path, 6)
    single = verify(built.path)
    assert_detected(single, 7, "sequence", "chain", "closure")
    assert ("numbering", 8) in {(f.rule, f.seq) for f in single.findings}
    chunked = verify_chunked(built.path)
    assert chunked.first_problem is not None and chunked.first_problem.seq == 7
    assert _where(chunked) == _where(single)


@pytest.mark.parametrize(
    ("claimed", "rule"),
    [("shop", "signature"), ("forger", "key")],
    ids=["claims the shop's key", "names its own key"],
)
def test_forged_record_appended(built: Built, claimed: str, rule: str) -> None:
    """A well-formed ticket, correctly chained, signed with a key the ledger never saw."""
    forger = ec.generate_private_key(ec.SECP256R1())
    with tampering(built.path) as conn:
        last = record(conn, built.last)
        envelope = canonical.decode(last["canonical"])
        seq = built.last + 1
        ts = canonical.format_ts(canonical.parse_ts(last["ts"]) + timedelta(minutes=3))
        envelope.update(seq=seq, number=envelope["number"] + 1, ts=ts)
        if claimed == "forger":
            envelope["key"] = chain.key_id_of(forger.public_key())
        data = canonical.encode(envelope)
        link = chain.link_hash(last["hash"], data)
        forged = {
            **last,
            "seq": seq,
            "number": envelope["number"],
            "ts": ts,
            "key_id": envelope["key"],
            "canonical": data,
            "prev_hash": last["hash"],
            "hash": link,
            "signature": chain.sign_hash(forger, link),
        }
        insert_record(conn, forged)
        write_copies(conn, seq, envelope["type"], envelope["body"])
    assert_detected(verify(built.path), seq, rule)


def test_records_swapped(built: Built) -> None:
    """Two tickets of the same day trade places, each carrying its own hash and signature."""
    a, b = built.day2_tickets[1], built.day2_tickets[3]  # seq 9 and 11: two chunks
    with tampering(built.path) as conn:
        rows = {seq: record(conn, seq) for seq in (a, b)}
        conn.execute("DELETE FROM journal WHERE seq IN (?, ?)", (a, b))
        for seq, other in ((a, b), (b, a)):
            insert_record(conn, {**rows[other], "seq": seq})
        for table in ("journal_vat", "journal_payment"):
            conn.execute(f"UPDATE {table} SET seq = -1 WHERE seq = ?", (a,))
            conn.execute(f"UPDATE {table} SET seq = ? WHERE seq = ?", (a, b))
            conn.execute(f"UPDATE {table} SET seq = ? WHERE seq = -1", (b,))
    assert_detected(verify_both(built.path), a, "chain", "copy")


def test_ticket_with_a_malformed_rate_is_reported_not_a_crash(built: Built) -> None:
    def text_rate(body: dict[str, Any]) -> None:
        body["vat"][0]["rate"] = str(body["vat"][0]["rate"])  # summed apart from the others

    seq = built.day1_tickets[1]
    with tampering(built.path) as conn:
        rewrite_body(conn, seq, text_rate, rechain=True)
    report = verify(built.path)
    assert any(f.seq == seq and "mal formé" in f.message for f in report.findings), report.findings


def test_closure_total_changed_and_rehashed(built: Built) -> None:
    def richer(body: dict[str, Any]) -> None:
        for key in ("total", "grand_total", "perpetual_total"):
            body[key] += 10_000

    with tampering(built.path) as conn:
        rewrite_body(conn, built.closure, richer, rechain=True)
    report = verify(built.path)
    assert_detected(report, built.closure, "signature", "closure")
    assert not {f.rule for f in report.findings} & {"hash", "chain"}, report.findings


def test_signature_replaced_by_another_records(built: Built) -> None:
    seq, donor = built.day1_tickets[2], built.day1_tickets[3]
    with tampering(built.path) as conn:
        conn.execute(
            "UPDATE journal SET signature = (SELECT signature FROM journal WHERE seq = ?) "
            "WHERE seq = ?",
            (donor, seq),
        )
    report = verify(built.path)
    assert_detected(report, seq, "signature")
    assert [f.seq for f in report.findings] == [seq]


# -- what verification cannot catch -------------------------------------------------------
def test_truncation_is_caught_by_the_anchors_not_by_the_chain(built: Built) -> None:
    """Cutting off the newest records leaves a shorter chain that is itself sound.

    A chain cannot prove its own end (app/ledger/README.md): the anchors kept outside the
    file on the shop's computer do. Elsewhere, without them, the cut is caught only by
    comparing with a printed Z report, an archive or another copy of the last hash;
    verification reports that hash so it can be compared.
    """
    with tampering(built.path) as conn:
        before = record(conn, built.last)["hash"]
        for table in ("journal_vat", "journal_payment", "journal"):
            conn.execute(f"DELETE FROM {table} WHERE seq > ?", (built.day2_tickets[1],))
    here = verify(built.path)
    assert not here.ok and here.first_problem.rule == "anchor", here.findings
    assert "ramené en arrière" in here.first_problem.message

    keys_dir().rename(keys_dir().with_name("ailleurs"))  # another computer: no anchors
    report = verify(built.path)
    assert report.ok, report.findings
    assert report.last_seq == built.day2_tickets[1]
    assert report.last_hash != before
