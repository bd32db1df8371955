"""Browsing the journal read-only: filters, the lazy index, details, CSV and XLSX exports."""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from app.cli import main
from app.errors import ComptoirError
from app.ledger import canonical
from app.ledger.export.browse import (
    BLOCK,
    COLUMNS,
    TYPE_GROUPS,
    LedgerBrowser,
    RecordFilter,
    SearchCancelled,
    SignatureStatus,
    YearPeriods,
    find_seqs,
)
from app.ledger.export.views import export_view, journaling_ledger
from app.ledger.records import CLOSURE_TYPES, RecordType
from app.ledger.store import Ledger
from tests.ledger.demo_ledger import DAYS, demo_copy


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return demo_copy(tmp_path)


@pytest.fixture
def browser(path: Path) -> Iterator[LedgerBrowser]:
    with LedgerBrowser(path) as opened:
        yield opened


def query(path: Path, sql: str, *params: object) -> list[tuple]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql, params).fetchall()


@contextmanager
def tampering(path: Path) -> Iterator[sqlite3.Connection]:
    """A raw connection with the append-only triggers dropped (a forger's tools)."""
    with closing(sqlite3.connect(path)) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")]
        for name in names:
            conn.execute(f"DROP TRIGGER {name}")
        yield conn
        conn.commit()


def events(path: Path, code: str) -> list[dict]:
    rows = query(path, "SELECT canonical FROM journal WHERE record_type = 'EVENT' ORDER BY seq")
    bodies = [canonical.decode(r[0])["body"] for r in rows]
    return [b["detail"] for b in bodies if b["code"] == code]


# -- the index ----------------------------------------------------------------------------------
def test_whole_journal_is_a_range_read_by_blocks(path: Path, browser: LedgerBrowser) -> None:
    last = query(path, "SELECT MAX(seq) FROM journal")[0][0]
    index = browser.index(RecordFilter())

    assert isinstance(index.seqs, range)  # no query ran to build it
    assert len(index) == last
    first = index.rows(0, 3)
    assert [r.seq for r in first] == [1, 2, 3]
    assert first[0].cells()[:3] == ("1", "Clé de signature", "K000001")
    across = index.rows(BLOCK - 2, 5)  # two blocks
    assert [r.seq for r in across] == list(range(BLOCK - 1, BLOCK + 4))
    assert [r.seq for r in index.rows(last - 2, 10)] == [last - 1, last]  # clipped at the end
    assert index.position_of(10) == 9


def test_type_filters_keep_the_chain_order(path: Path, browser: LedgerBrowser) -> None:
    tickets = browser.index(RecordFilter(types=TYPE_GROUPS["Tickets"]))
    expected = [r[0] for r in query(path, "SELECT seq FROM journal WHERE record_type='TICKET'")]
    assert list(tickets.seqs) == sorted(expected)
    assert {r.record_type for r in tickets.rows(0, len(tickets))} == {"TICKET"}

    mixed = browser.index(
        RecordFilter(types=TYPE_GROUPS["Clôtures Z"] | TYPE_GROUPS["Factures et avoirs"])
    )
    kinds = {r.record_type for r in mixed.rows(0, len(mixed))}
    assert kinds == {"DAY_CLOSURE", "INVOICE", "CREDIT_NOTE"}
    assert list(mixed.seqs) == sorted(mixed.seqs)
    assert len(mixed) == 4 + 6 + 2


def test_a_date_range_is_a_range_of_sequence_numbers(path: Path, browser: LedgerBrowser) -> None:
    day = DAYS[1]
    index = browser.index(RecordFilter(date_from=day, date_to=day))

    assert isinstance(index.seqs, range)
    inside = "SELECT business_date FROM journal WHERE seq BETWEEN ? AND ?"
    dates = {r[0] for r in query(path, inside, index.seqs[0], index.seqs[-1])}
    assert dates == {day.isoformat()}
    before = query(path, "SELECT business_date FROM journal WHERE seq = ?", index.seqs[0] - 1)
    after = query(path, "SELECT business_date FROM journal WHERE seq = ?", index.seqs[-1] + 1)
    assert before[0][0] < day.isoformat() < after[0][0]
    on_the_day = query(
        path, "SELECT COUNT(*) FROM journal WHERE business_date = ?", day.isoformat()
    )
    assert len(index) == on_the_day[0][0]
    assert len(browser.index(RecordFilter(date_from=DAYS[-1] + timedelta(days=1)))) == 0


def test_operator_amount_customer_and_text_filters(path: Path, browser: LedgerBrowser) -> None:
    lea = browser.index(RecordFilter(operator="Léa"))
    assert len(lea) > 0
    assert {r.operator for r in lea.rows(0, len(lea))} == {"Léa"}

    big = browser.index(RecordFilter(min_cents=30_000))
    rows = big.rows(0, len(big))
    assert all(r.total_cents is not None and r.total_cents >= 30_000 for r in rows)
    assert {"DAY_CLOSURE", "INVOICE"} <= {r.record_type for r in rows}  # closures: body total
    small = browser.index(RecordFilter(types=TYPE_GROUPS["Tickets"], max_cents=500))
    assert all(r.total_cents <= 500 for r in small.rows(0, len(small)))

    invoices = browser.index(RecordFilter(types=TYPE_GROUPS["Factures et avoirs"]))
    buyer = invoices.rows(0, 1)[0].customer
    by_name = browser.index(RecordFilter(customer=buyer.split()[-1].lower()))
    assert len(by_name) > 0
    assert {r.customer for r in by_name.rows(0, len(by_name))} == {buyer}
    siren = query(path, "SELECT json_extract(CAST(canonical AS TEXT), '$.body.buyer.siren') "
                        "FROM journal WHERE seq = ?", invoices.seq_at(0))[0][0]  # fmt: skip
    by_siren = browser.index(RecordFilter(customer=siren))
    assert invoices.seq_at(0) in by_siren.seqs

    ticket = browser.index(RecordFilter(text="t000003"))
    assert [r.number for r in ticket.rows(0, len(ticket))] == ["T000003"]
    target = ticket.rows(0, 1)[0]
    by_hash = browser.index(RecordFilter(text=target.hash[:10]))
    assert list(by_hash.seqs) == [target.seq]
    cafe = browser.index(RecordFilter(text="CAFÉ", types=TYPE_GROUPS["Tickets"]))
    assert len(cafe) > 0  # the labels say "Café": case folded beyond ASCII
    assert len(browser.index(RecordFilter(text="100%_pas_trouvé"))) == 0


def test_rows_show_invoice_numbers_customers_and_events(browser: LedgerBrowser) -> None:
    invoices = browser.index(RecordFilter(types=frozenset({RecordType.INVOICE})))
    row = invoices.rows(0, 1)[0]
    assert row.number.startswith("F2026-")
    assert row.customer
    assert row.cells()[COLUMNS.index("Montant TTC")].endswith(" €")
    event = browser.index(RecordFilter(types=frozenset({RecordType.EVENT}))).rows(0, 1)[0]
    assert event.type_label == "Événement : Création du journal"


def test_detail_tells_whether_the_signature_verifies(path: Path, tmp_path: Path) -> None:
    with LedgerBrowser(path) as browser:
        seq = browser.index(RecordFilter(types=TYPE_GROUPS["Tickets"])).seq_at(0)
        detail = browser.detail(seq)
    assert detail.signature_status is SignatureStatus.VALID
    assert detail.signature_status.label == "Signature valide"
    assert detail.hash_ok
    assert detail.body["total"] > 0
    assert detail.shop["name"]  # the fiscal identity in force, for the receipt's header

    with tampering(path) as conn:
        other = conn.execute("SELECT signature FROM journal WHERE seq = ?", (seq + 1,)).fetchone()
        conn.execute("UPDATE journal SET signature = ? WHERE seq = ?", (other[0], seq))
        data = conn.execute("SELECT canonical FROM journal WHERE seq = ?", (seq + 2,)).fetchone()
        forged = bytes(data[0]).replace(b'"total":', b'"total":1', 1)
        conn.execute("UPDATE journal SET canonical = ? WHERE seq = ?", (forged, seq + 2))
    with LedgerBrowser(path) as browser:
        assert browser.detail(seq).signature_status is SignatureStatus.INVALID
        assert browser.detail(seq).signature_status.label == "Signature invalide"
        assert not browser.detail(seq + 2).hash_ok
        with pytest.raises(ComptoirError):
            browser.detail(10**6)


def test_periods_and_closures(browser: LedgerBrowser) -> None:
    assert browser.periods() == [YearPeriods(2026, (3,))]
    closures = browser.closures()
    assert [c.period for c in closures] == [d.isoformat() for d in DAYS]
    assert {c.record_type for c in closures} <= set(CLOSURE_TYPES)
    assert "Léa" in browser.operators()


def test_a_search_can_be_cancelled(path: Path) -> None:
    with pytest.raises(SearchCancelled):
        find_seqs(path, RecordFilter(text="zzz"), cancelled=lambda: True)
    found = find_seqs(path, RecordFilter(text="Café"), cancelled=lambda: False)
    assert len(found) > 0


def test_browser_refuses_what_is_not_a_ledger(tmp_path: Path) -> None:
    other = tmp_path / "autre.sqlite"
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(ComptoirError, match="n'est pas un journal"):
        LedgerBrowser(other)
    with pytest.raises(ComptoirError, match="Aucun journal"):
        LedgerBrowser(tmp_path / "absent.sqlite")


def test_filter_describes_itself_in_canonical_values() -> None:
    flt = RecordFilter(
        date_from=DAYS[0], types=frozenset({RecordType.TICKET}), min_cents=150, text=" café "
    )
    assert flt.describe() == {
        "from": "2026-03-17",
        "types": ["TICKET"],
        "min_cents": 150,
        "text": "café",
    }
    canonical.encode({"filter": flt.describe()})  # no float, nothing odd
    assert flt.summary() == "Ticket, à partir du 17/03/2026, montant ≥ 1,50 €, contenant « café »"
    assert RecordFilter().summary() == "Tout le journal"


# -- exports ------------------------------------------------------------------------------------
def test_csv_export_reads_back_and_is_journaled(path: Path, tmp_path: Path) -> None:
    flt = RecordFilter(types=TYPE_GROUPS["Tickets"], operator="Léa")
    with LedgerBrowser(path) as browser:
        expected = browser.index(flt)
        wanted = expected.rows(0, len(expected))
    out = tmp_path / "export" / "tickets.csv"
    with Ledger.open(path, kind="demo", create=False, operator="Camille") as ledger:
        written = export_view(path, flt, "csv", out, ledger=ledger, operator="Camille")

    assert written == out
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM a French spreadsheet wants
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) - 1 == len(wanted)
    first = rows[1]
    assert int(first[0]) == wanted[0].seq
    assert first[5] == "Léa"
    euros, cents = divmod(wanted[0].total_cents, 100)
    assert first[6] == f"{euros},{cents:02d}"  # decimal comma, no thousands separator
    assert first[8] == wanted[0].hash  # the full hash in files
    assert not list(out.parent.glob(".*partiel"))

    journaled = events(path, "EXPORT")
    assert journaled[-1] == {
        "file": "tickets.csv",
        "filter": {"operator": "Léa", "types": ["TICKET"]},
        "format": "CSV",
        "rows": len(wanted),
        "source": "journal",
    }


def test_xlsx_export_has_numbers_in_euros(path: Path, tmp_path: Path) -> None:
    flt = RecordFilter(types=TYPE_GROUPS["Factures et avoirs"] | TYPE_GROUPS["Clôtures Z"])
    out = tmp_path / "factures.xlsx"
    with Ledger.open(path, kind="demo", create=False, operator="Camille") as ledger:
        export_view(path, flt, "xlsx", out, ledger=ledger, operator="Camille")
    with LedgerBrowser(path) as browser:
        index = browser.index(flt)
        wanted = index.rows(0, len(index))

    sheet = load_workbook(out).active
    header = [cell for cell in sheet[1]]
    assert tuple(c.value for c in header) == COLUMNS
    assert all(c.font.b for c in header)
    values = list(sheet.iter_rows(min_row=2))
    assert len(values) == len(wanted)
    for cells, row in zip(values, wanted, strict=True):
        assert cells[0].value == row.seq
        assert Decimal(str(cells[6].value)) == Decimal(row.total_cents) / 100
        assert "€" in cells[6].number_format
        assert cells[3].value.strftime("%d/%m/%Y %H:%M:%S") == row.when
    assert events(path, "EXPORT")[-1]["format"] == "XLSX"


def test_an_export_without_a_writable_ledger_journals_nothing(path: Path, tmp_path: Path) -> None:
    before = query(path, "SELECT MAX(seq) FROM journal")[0][0]
    export_view(path, RecordFilter(), "csv", tmp_path / "tout.csv", operator="Expert-comptable")
    with Ledger.open(path, kind=None, readonly=True) as reader:
        export_view(path, RecordFilter(), "csv", tmp_path / "b.csv", ledger=reader, operator="x")
    assert query(path, "SELECT MAX(seq) FROM journal")[0][0] == before
    assert (tmp_path / "tout.csv").read_text("utf-8-sig").count("\n") == before + 1


def test_journaling_needs_the_shops_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = demo_copy(tmp_path)
    with journaling_ledger(mine, operator="Camille") as ledger:
        assert ledger is not None and not ledger.readonly
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(tmp_path / "other-computer"))
    with journaling_ledger(demo_copy(elsewhere, with_key=False), operator="Expert") as ledger:
        assert ledger is None


def test_export_command(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "z.xlsx"
    code = main(["--db", str(path), "export", "xlsx", "--out", str(out), "--type", "DAY_CLOSURE",
                 "--from", "2026-03-18", "--min", "10,50"])  # fmt: skip
    assert code == 0
    assert load_workbook(out).active.max_row == 1 + 3
    assert "Export écrit" in capsys.readouterr().out
    assert events(path, "EXPORT")[-1]["filter"] == {
        "from": "2026-03-18",
        "min_cents": 1050,
        "types": ["DAY_CLOSURE"],
    }
    bad = main(["--db", str(path), "export", "csv", "--out", str(out), "--from", "18/03/2026"])
    assert bad == 2
