"""A self-billed invoice is a purchase: two shops trade the same day, one of them also
self-bills its supplier; their Z, grand totals, Flux 10 e-reporting and the FEC's sales
journals are the same (the purchases have a journal of their own), and the ledger with the
purchases still verifies, archives and checks its archive."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from app.demo import DEMO_SHOP
from app.einvoice.pdp.ereporting.periods import Period
from app.einvoice.pdp.ereporting.report import build_report
from app.einvoice.pdp.flux10 import TRANSACTIONS
from app.einvoice.selfbilling.mandates import add_mandate
from app.einvoice.service import self_bill_and_store, self_credit_and_store
from app.ledger.archive.check import verify_archive
from app.ledger.archive.write import create_archive
from app.ledger.closures import RecordType, close_day, close_pending, get_closure
from app.ledger.export.fec import build_fec, write_fec
from app.ledger.export.fec_check import check_fec
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from app.ledger.verify.engine import verify_ledger
from tests.conftest import FakeClock
from tests.einvoice.selfbilling_fixtures import SUPPLIER, self_billed_draft
from tests.helpers import ring

DAY = date(2026, 3, 2)
MARCH = Period(TRANSACTIONS, date(2026, 3, 1), date(2026, 3, 10))


@pytest.fixture(autouse=True)
def matricule(monkeypatch) -> None:
    monkeypatch.setenv("COMPTOIR_PDP_MATRICULE", "0042")


def _trade(ledger: Ledger, clock: FakeClock, *, self_billing: bool) -> None:
    """One day of sales; with ``self_billing``, purchases drawn up between the sales."""
    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        if self_billing:
            add_mandate(session, SUPPLIER, operator="Gérant")
    clock.advance(minutes=5)
    ring(ledger, ("Pain", 130, 2, 550), ("Vin", 1150, 1, 2000))
    if self_billing:
        with ledger.transaction() as session:
            issued = self_bill_and_store(
                session, "MAND-2026-01", self_billed_draft(), operator="Camille"
            )
        with ledger.transaction() as session:
            self_credit_and_store(
                session, issued.doc_number, operator="Camille", reason="Casse", lines=[(0, "2")]
            )
    clock.advance(minutes=30)
    ring(ledger, ("Pommes", 349, "0.75", 550))
    if self_billing:
        with ledger.transaction() as session:
            self_bill_and_store(session, "AFVERGER", self_billed_draft("10"), operator="Camille")
    clock.set_local(DAY, time(19))
    with ledger.transaction() as session:
        close_day(session, DAY, operator="Gérant")


@pytest.fixture
def shops(tmp_path: Path):
    opened = {}
    for name in ("plain", "self_billing"):
        clock = FakeClock()  # 02/03/2026 at 9:00, shop time
        ledger = Ledger.open(tmp_path / f"{name}.sqlite", clock=clock, operator="test")
        _trade(ledger, clock, self_billing=name == "self_billing")
        opened[name] = (ledger, clock)
    yield opened
    for ledger, _clock in opened.values():
        ledger.close()


def _z(ledger: Ledger):
    with ledger.reader() as session:
        return get_closure(session, RecordType.DAY_CLOSURE, DAY.isoformat())


def test_the_z_and_the_grand_totals_ignore_self_billed_invoices(shops) -> None:
    plain, billed = _z(shops["plain"][0]), _z(shops["self_billing"][0])
    assert billed.totals == plain.totals
    assert billed.totals.total == 260 + 1150 + 262
    assert (billed.grand_total, billed.perpetual_total) == (
        plain.grand_total,
        plain.perpetual_total,
    )
    for key in ("count", "tickets", "per_rate", "per_method", "perpetual_abs_total"):
        assert billed.body.get(key) == plain.body.get(key), key


def test_flux_10_e_reporting_ignores_them(shops) -> None:
    reports = {}
    for name, (ledger, _clock) in shops.items():
        with ledger.reader() as session:
            reports[name] = build_report(session, MARCH)
    plain, billed = reports["plain"], reports["self_billing"]
    assert billed.validation.ok
    assert (billed.days, billed.payments, billed.invoices) == (
        plain.days,
        plain.payments,
        plain.invoices,
    )
    assert b"AFVERGER" not in billed.content and b"732829320" not in billed.content


def _cents(text: str) -> int:
    euros, cents = text.split(",")
    return int(euros) * 100 + int(cents)


def test_the_fec_sales_journals_ignore_them_and_the_purchases_journal_holds_them(shops) -> None:
    rows = {}
    for name, (ledger, _clock) in shops.items():
        with ledger.reader() as session:
            rows[name] = build_fec(session, 2026)
    sales = [row for row in rows["self_billing"] if row[0] != "AC"]
    assert sales == rows["plain"]
    purchases = [row for row in rows["self_billing"] if row[0] == "AC"]
    # Three entries: the invoice, its credit note (2 kg of 40), the second invoice (10 kg).
    assert sorted({row[2] for row in purchases}) == ["1", "2", "3"]
    assert {row[1] for row in purchases} == {"Achats"}
    balance: dict[str, int] = {}
    for row in purchases:
        balance[row[4]] = balance.get(row[4], 0) + _cents(row[11]) - _cents(row[12])
    # 40 kg bought, 2 kg credited, 10 kg bought: 48 kg at 1.80 € excl. VAT, 5.5 % VAT.
    assert sum(balance.values()) == 0
    assert set(balance) == {"401000", "607000", "445660"}
    assert balance["607000"] == 180 * (40 - 2 + 10)
    assert -balance["401000"] == balance["607000"] + balance["445660"]
    suppliers = {(row[6], row[7]) for row in purchases if row[4] == "401000"}
    assert suppliers == {("F732829320", SUPPLIER.name)}
    assert {row[8] for row in purchases} >= {"AFVERGER-000001", "AFVERGER-000002"}


def test_verify_and_the_month_archive_pass_with_self_billed_records(shops, tmp_path) -> None:
    ledger, clock = shops["self_billing"]
    assert verify_ledger(ledger.path).ok
    clock.set_local(date(2026, 4, 1), time(8))
    with ledger.transaction() as session:
        close_pending(session, operator="Gérant")
    result = create_archive(ledger, "2026-03", operator="Gérant", out_dir=tmp_path / "archives")
    assert result.first_seq <= min(_self_billed_seqs(ledger)) <= result.last_seq
    report = verify_archive(result.path)
    assert report.ok, [f.message for f in report.findings]
    assert verify_ledger(ledger.path).ok


def _self_billed_seqs(ledger: Ledger) -> list[int]:
    from app.einvoice.selfbilling.records import self_billed_rows

    with ledger.reader() as session:
        return [row.seq for row in self_billed_rows(session)]


def test_the_fec_with_purchases_passes_the_fec_checks(shops, tmp_path) -> None:
    ledger, _clock = shops["self_billing"]
    path = write_fec(ledger, 2026, tmp_path, operator="Gérant")
    check = check_fec(path)
    assert check.ok, check.summary()
