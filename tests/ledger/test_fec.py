"""FEC of a fiscal year: written, read back with the csv module and checked like an
auditor's tool would (columns, formats, balance, numbering), and its accounting content."""

from __future__ import annotations

import csv
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from app.customers.service import PERSON, CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS, DEMO_SHOP, run_demo
from app.einvoice.corrections import issue_credit_note, record_payment
from app.einvoice.invoices import Charge, InvoiceDraft, InvoiceLineInput
from app.einvoice.issuing import draft_from_ticket, issue_invoice
from app.errors import ComptoirError, InvalidInput
from app.ledger import canonical
from app.ledger.closures import close_day, close_pending, get_closure
from app.ledger.export.fec import FEC_COLUMNS, build_fec, fec_file_name, read_fec, write_fec
from app.ledger.journal import Recorded
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from app.ledger.verify.engine import verify_ledger
from app.sales.cart import Discount
from app.sales.payments import Payment, PaymentMethod
from app.sales.service import cancel_ticket, record_sale, refund_lines
from tests.conftest import PARIS, FakeClock
from tests.helpers import cart_of, ring

OFFICIAL_COLUMNS = [
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
]
COL = {name: index for index, name in enumerate(OFFICIAL_COLUMNS)}
AMOUNT = re.compile(r"^\d+,\d{2}$")
FEC_DATE = re.compile(r"^\d{8}$")
BUYER = CustomerInfo(**DEMO_CUSTOMERS[0])  # SIREN 123456782
PRIVATE = CustomerInfo(
    kind=PERSON, name="Jeanne Dupré", address="5 rue Mercière", postcode="69002", city="Lyon"
)


@dataclass
class Books:
    """What the scenario recorded, to find it again in the FEC."""

    old_sale: Recorded
    cash_sale: Recorded
    cancelled: Recorded
    cancellation: Recorded
    refund: Recorded
    mixed: Recorded
    invoiced_ticket: Recorded
    invoice: Recorded
    private_invoice: Recorded
    ticket_invoice: Recorded
    credit_note: Recorded
    cash_payment: Recorded
    card_payment: Recorded
    open_day_sale: Recorded


def _line(label: str, qty: str, price: int, rate: int, **kw: object) -> InvoiceLineInput:
    return InvoiceLineInput(label, Decimal(qty), price, rate, **kw)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    """The ledger is created before the end of 2025, so that a year can be closed."""
    return FakeClock(datetime(2025, 12, 30, 9, 0, tzinfo=PARIS).astimezone(UTC))


@pytest.fixture
def books(ledger: Ledger, clock: FakeClock) -> Books:
    """One sale in 2025 (closed year), a busy 2 January 2026 closed the next morning,
    and a sale on 5 January 2026 whose day is still open."""
    clock.set_local(date(2025, 12, 30), time(10, 0))
    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        company = save_customer(session, BUYER).id
        person = save_customer(session, PRIVATE).id
    old_sale = ring(ledger, ("Pain", 130, 2, 550), method=PaymentMethod.CASH)
    clock.set_local(date(2025, 12, 30), time(19, 0))
    with ledger.transaction() as session:
        close_day(session, date(2025, 12, 30), operator="Gérant")

    clock.set_local(date(2026, 1, 2), time(8, 30))
    with ledger.transaction() as session:
        close_pending(session, operator="Gérant")  # December 2025 and the year 2025
    clock.set_local(date(2026, 1, 2), time(9, 0))
    cash_sale = ring(
        ledger, ("Baguette", 130, 2, 550), ("Vin rouge", 1150, 2, 2000), method=PaymentMethod.CASH
    )
    cancelled = ring(ledger, ("Sandwich", 550, 1, 1000), method=PaymentMethod.CARD)
    invoiced_ticket = ring(ledger, ("Confiture", 450, 2, 550), method=PaymentMethod.CHEQUE)
    cart = cart_of(("Café", 180, 3, 1000), ("Journal", 150, 1, 210))
    with ledger.transaction() as session:
        mixed = record_sale(
            session,
            cart,
            [Payment(PaymentMethod.VOUCHER, 300), Payment(PaymentMethod.CASH, 1000)],
            "Alice",
        )
        cancellation = cancel_ticket(
            session, cancelled.number, operator="Gérant", reason="Erreur de saisie"
        )
        refund = refund_lines(
            session, cash_sale.number, [(1, "1")], operator="Gérant", reason="Bouteille cassée"
        )
        invoice = issue_invoice(
            session,
            InvoiceDraft(
                company,
                (
                    _line("Farine T65 (sac 25 kg)", "4", 2150, 550),
                    _line("Atelier dégustation", "2", 12000, 2000, nature="services"),
                ),
                document_discount=Discount.percent_of(Decimal(5)),
                charges=(Charge("Frais de port", 1500, 2000),),
            ),
            operator="Gérant",
        )
        private_invoice = issue_invoice(
            session,
            InvoiceDraft(person, (_line("Panier garni", "1", 4000, 550),)),
            operator="Gérant",
        )
        ticket_invoice = issue_invoice(
            session,
            draft_from_ticket(session, invoiced_ticket.number, company),
            operator="Gérant",
        )
        credit_note = issue_credit_note(
            session, invoice.body["number"], operator="Gérant", reason="Sac abîmé", lines=[(0, 1)]
        )
        cash_payment = record_payment(
            session, private_invoice.body["number"], 1000, method=PaymentMethod.CASH, operator="Léa"
        )
        card_payment = record_payment(
            session,
            invoice.body["number"],
            invoice.body["total"] - credit_note.body["total"],
            method=PaymentMethod.CARD,
            operator="Léa",
        )
    clock.set_local(date(2026, 1, 3), time(8, 0))  # the Z of the 2nd is made next morning
    with ledger.transaction() as session:
        close_day(session, date(2026, 1, 2), operator="Gérant")

    clock.set_local(date(2026, 1, 5), time(10, 0))
    open_day_sale = ring(ledger, ("Vin blanc", 990, 1, 2000), method=PaymentMethod.CARD)
    return Books(
        old_sale,
        cash_sale,
        cancelled,
        cancellation,
        refund,
        mixed,
        invoiced_ticket,
        invoice,
        private_invoice,
        ticket_invoice,
        credit_note,
        cash_payment,
        card_payment,
        open_day_sale,
    )


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows[0], rows[1:]


def _cents(text: str) -> int:
    euros, rest = text.split(",")
    return int(euros) * 100 + int(rest)


def _signed(row: list[str]) -> int:
    """Debit positive, credit negative."""
    return _cents(row[COL["Debit"]]) - _cents(row[COL["Credit"]])


def _piece(rows: list[list[str]], ref: str) -> list[list[str]]:
    return [row for row in rows if row[COL["PieceRef"]] == ref]


def _by_account(rows: list[list[str]]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row[COL["CompteNum"]]] += _signed(row)
    return dict(totals)


def _export(ledger: Ledger, tmp_path: Path, year: int = 2026) -> tuple[Path, list[list[str]]]:
    path = write_fec(ledger, year, tmp_path / "fec", operator="Gérant")
    header, rows = _read(path)
    assert header == OFFICIAL_COLUMNS
    return path, rows


def test_file_is_a_well_formed_balanced_fec(ledger, books, tmp_path) -> None:
    path, rows = _export(ledger, tmp_path)
    assert path.name == "123456782FEC20261231.txt"
    assert re.fullmatch(r"\d{9}FEC\d{8}\.txt", path.name)
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == len(rows) + 1 and raw.endswith(b"\r\n")
    assert tuple(OFFICIAL_COLUMNS) == FEC_COLUMNS
    assert rows
    for row in rows:
        assert len(row) == 18, row
        for name in ("EcritureDate", "PieceDate", "ValidDate"):
            assert FEC_DATE.fullmatch(row[COL[name]]), row
            date(int(row[COL[name]][:4]), int(row[COL[name]][4:6]), int(row[COL[name]][6:]))
        assert row[COL["EcritureDate"]].startswith("2026")
        assert row[COL["ValidDate"]] >= row[COL["EcritureDate"]]
        assert AMOUNT.fullmatch(row[COL["Debit"]]) and AMOUNT.fullmatch(row[COL["Credit"]]), row
        assert (_cents(row[COL["Debit"]]) == 0) != (_cents(row[COL["Credit"]]) == 0), row
        assert row[COL["CompteNum"]].isdigit() and row[COL["CompteLib"]]
        assert row[COL["PieceRef"]] and row[COL["EcritureLib"]]
        assert all(row[COL[n]] == "" for n in ("EcritureLet", "DateLet", "Montantdevise"))
        assert row[COL["Idevise"]] == ""
        assert bool(row[COL["CompAuxNum"]]) == (row[COL["CompteNum"]] == "411000")
    total_debit = sum(_cents(row[COL["Debit"]]) for row in rows)
    total_credit = sum(_cents(row[COL["Credit"]]) for row in rows)
    assert total_debit == total_credit > 0
    entries: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        entries[(row[COL["JournalCode"]], row[COL["EcritureNum"]])] += _signed(row)
    assert all(balance == 0 for balance in entries.values()), entries
    summary = read_fec(path)
    assert (summary.entries, summary.lines) == (len(entries), len(rows))
    assert summary.debit == summary.credit == total_debit


def test_entries_are_numbered_continuously_per_journal_in_date_order(ledger, books, tmp_path):
    _, rows = _export(ledger, tmp_path)
    numbers: dict[str, list[int]] = defaultdict(list)
    dates: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        journal, number = row[COL["JournalCode"]], int(row[COL["EcritureNum"]])
        if not numbers[journal] or numbers[journal][-1] != number:
            numbers[journal].append(number)
            dates[journal].append(row[COL["EcritureDate"]])
    assert set(numbers) == {"VE", "CA", "BQ"}
    for journal, seen in numbers.items():
        assert seen == list(range(1, len(seen) + 1)), journal
        assert dates[journal] == sorted(dates[journal]), journal
    # one entry per posted piece: 7 tickets of 2026 and 3 invoices/credit notes in VE
    assert len(numbers["VE"]) == 7 + 3
    assert len(numbers["CA"]) == len(numbers["BQ"]) == 1
    labels = {row[COL["JournalCode"]]: row[COL["JournalLib"]] for row in rows}
    assert labels == {"VE": "Ventes", "CA": "Caisse", "BQ": "Banque"}


def test_tickets_post_payments_revenue_and_vat(ledger, books, tmp_path) -> None:
    _, rows = _export(ledger, tmp_path)
    sale = _piece(rows, books.cash_sale.doc_number)
    vat = {v["rate"]: v for v in books.cash_sale.body["vat"]}
    assert {r[COL["JournalCode"]] for r in sale} == {"VE"}
    assert _by_account(sale) == {
        "530000": 260 + 2300,
        "707000": -(vat[2000]["base"] + vat[550]["base"]),
        "445711": -vat[2000]["vat"],
        "445713": -vat[550]["vat"],
    }
    assert sale[0][COL["EcritureDate"]] == sale[0][COL["PieceDate"]] == "20260102"
    # A cancelling ticket reverses every side of the sale it cancels.
    original = _by_account(_piece(rows, books.cancelled.doc_number))
    reversed_ = _by_account(_piece(rows, books.cancellation.doc_number))
    assert original == {"512000": 550, "707000": -500, "445712": -50}
    assert reversed_ == {account: -amount for account, amount in original.items()}
    refund = _by_account(_piece(rows, books.refund.doc_number))
    assert refund == {"530000": -1150, "707000": 958, "445711": 192}
    mixed = _by_account(_piece(rows, books.mixed.doc_number))
    assert mixed["419100"] == 300 and mixed["530000"] == 690 - 300  # the change is not kept
    assert set(mixed) == {"419100", "530000", "707000", "445712", "445714"}
    assert _by_account(_piece(rows, books.invoiced_ticket.doc_number))["512000"] == 900


def test_invoices_credit_notes_and_payments(ledger, books, tmp_path) -> None:
    _, rows = _export(ledger, tmp_path)
    body = books.invoice.body
    invoice = _piece(rows, body["number"])
    customer = [r for r in invoice if r[COL["CompteNum"]] == "411000"]
    assert len(customer) == 1
    assert customer[0][COL["CompAuxNum"]] == "C123456782"
    assert customer[0][COL["CompAuxLib"]] == "Boulangerie Martin"
    assert _by_account(invoice) == {
        "411000": body["total"],
        "707000": -8600,
        "706000": -24000,
        "709000": sum(a["amount"] for a in body["allowances"]),
        "708500": -1500,
        "445711": -next(v["vat"] for v in body["vat"] if v["rate"] == 2000),
        "445713": -next(v["vat"] for v in body["vat"] if v["rate"] == 550),
    }
    credit = _by_account(_piece(rows, books.credit_note.body["number"]))
    assert credit["411000"] == -books.credit_note.body["total"]
    # One sack (21,50 € HT) less the invoice's 5 % discount (1,08 €): VAT on 20,42 €.
    assert credit["707000"] == 2150 and credit["445713"] == 112
    private = _piece(rows, books.private_invoice.body["number"])
    assert {r[COL["CompAuxNum"]] for r in private if r[COL["CompteNum"]] == "411000"} == {
        "CJEANNEDUPRE"
    }
    # The invoice of a till ticket is not posted again: the ticket holds the sale.
    assert _piece(rows, books.ticket_invoice.body["number"]) == []
    cash = _piece(rows, books.cash_payment.doc_number)
    assert {r[COL["JournalCode"]] for r in cash} == {"CA"}
    assert _by_account(cash) == {"530000": 1000, "411000": -1000}
    assert {r[COL["CompAuxNum"]] for r in cash if r[COL["CompteNum"]] == "411000"} == {
        "CJEANNEDUPRE"
    }
    card = _piece(rows, books.card_payment.doc_number)
    assert {r[COL["JournalCode"]] for r in card} == {"BQ"}
    paid = body["total"] - books.credit_note.body["total"]
    assert _by_account(card) == {"512000": paid, "411000": -paid}
    # The company's account is settled: invoice - credit note - payment.
    company = [r for r in rows if r[COL["CompAuxNum"]] == "C123456782"]
    assert sum(_signed(r) for r in company) == 0


def test_valid_date_is_the_day_closure_or_the_entry_date(ledger, books, tmp_path) -> None:
    _, rows = _export(ledger, tmp_path)
    closed_day = _piece(rows, books.cash_sale.doc_number)
    assert {r[COL["ValidDate"]] for r in closed_day} == {"20260103"}
    open_day = _piece(rows, books.open_day_sale.doc_number)
    assert {(r[COL["EcritureDate"]], r[COL["ValidDate"]]) for r in open_day} == {
        ("20260105", "20260105")
    }


def test_only_the_records_of_the_year_are_exported(ledger, books, tmp_path) -> None:
    path, rows = _export(ledger, tmp_path, 2025)
    assert path.name == "123456782FEC20251231.txt"
    assert {r[COL["PieceRef"]] for r in rows} == {books.old_sale.doc_number}
    assert {r[COL["ValidDate"]] for r in rows} == {"20251230"}
    _, rows_2026 = _export(ledger, tmp_path, 2026)
    assert books.old_sale.doc_number not in {r[COL["PieceRef"]] for r in rows_2026}


def _events(ledger: Ledger) -> list[dict]:
    with ledger.reader() as session:
        data = session.scalars(
            select(JournalRecord.canonical)
            .where(JournalRecord.record_type == RecordType.EVENT)
            .order_by(JournalRecord.seq)
        )
        return [canonical.decode(item)["body"] for item in data]


def test_export_is_journaled_as_an_event(ledger, books, tmp_path) -> None:
    before = len(_events(ledger))
    path, rows = _export(ledger, tmp_path)
    events = _events(ledger)
    assert len(events) == before + 1
    event = events[-1]
    assert event["code"] == "EXPORT"
    entries = {(r[COL["JournalCode"]], r[COL["EcritureNum"]]) for r in rows}
    assert event["detail"] == {
        "format": "FEC",
        "year": 2026,
        "file": path.name,
        "entries": len(entries),
        "lines": len(rows),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    assert verify_ledger(ledger.target).ok


def test_a_year_without_records_is_refused(ledger, books, tmp_path) -> None:
    before = len(_events(ledger))
    with pytest.raises(ComptoirError, match="Aucune écriture pour l'exercice 2024"):
        write_fec(ledger, 2024, tmp_path / "fec", operator="Gérant")
    assert not (tmp_path / "fec").exists() or not list((tmp_path / "fec").iterdir())
    assert len(_events(ledger)) == before
    with ledger.reader() as session, pytest.raises(InvalidInput, match="Exercice invalide"):
        build_fec(session, 0)


def test_shop_without_siret_and_training_ledger_are_refused(tmp_path, clock) -> None:
    with Ledger.open(tmp_path / "bare.sqlite", clock=clock) as bare:
        ring(bare)
        with pytest.raises(InvalidInput, match="SIREN"):
            write_fec(bare, 2026, tmp_path, operator="Gérant")
    training = Ledger.open(tmp_path / "training.sqlite", kind="training", clock=clock)
    with training, pytest.raises(InvalidInput, match="formation"):
        write_fec(training, 2026, tmp_path, operator="Gérant")
    assert fec_file_name("123456782", date(2026, 12, 31)) == "123456782FEC20261231.txt"
    with pytest.raises(InvalidInput):
        fec_file_name("12345", date(2026, 12, 31))


def test_demo_year_agrees_with_the_year_closure(tmp_path) -> None:
    """A demo year (random sales, cancellations, refunds) re-read from the file: the
    till's revenue, VAT per rate and takings per account equal the Z of the year."""
    demo = run_demo(
        tmp_path / "demo.sqlite", days=9, seed=7, today=date(2026, 1, 6)
    )  # invoices are covered by the ``books`` scenario
    with demo:
        path, rows = _export(demo, tmp_path, 2025)
        with demo.reader() as session:
            year = get_closure(session, RecordType.YEAR_CLOSURE, "2025")
        assert year is not None
        totals = year.totals
        accounts = _by_account(rows)
        assert -accounts["707000"] == totals.total_excl
        vat_accounts = {2000: "445711", 1000: "445712", 550: "445713", 210: "445714"}
        for rate, _, vat, _ in totals.vat:
            assert -accounts.get(vat_accounts[rate], 0) == vat
        assert accounts.get("530000", 0) == totals.payment("cash")
        assert accounts.get("512000", 0) == totals.payment("card") + totals.payment("cheque")
        tickets = {r[COL["PieceRef"]] for r in rows}
        assert len(tickets) == totals.tickets
        summary = read_fec(path)
        assert summary.debit == summary.credit and summary.lines == len(rows)
        # 2026 holds its own days only, numbered from 1 again.
        _, rows_2026 = _export(demo, tmp_path, 2026)
        assert rows_2026[0][COL["EcritureNum"]] == "1"
        assert {r[COL["EcritureDate"]][:4] for r in rows_2026} == {"2026"}
        assert tickets.isdisjoint(r[COL["PieceRef"]] for r in rows_2026)
