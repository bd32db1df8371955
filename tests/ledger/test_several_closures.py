"""Trading after a Z: several day closures in a day, summed into the month, verified."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS, DEMO_SHOP
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.issuing import issue_invoice
from app.errors import PeriodClosed
from app.ledger.closures import (
    chain_span,
    close_day,
    close_month,
    last_closure,
    list_closures,
    pending_closures,
)
from app.ledger.journal import append
from app.ledger.records import RecordType
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from app.ledger.verify.engine import verify_ledger
from app.sales.cart import Cart
from app.sales.payments import Payment, PaymentMethod
from app.sales.service import closed_day_note, payment_refusal, record_sale, sale_refusal
from tests.helpers import cart_of, ring

MONDAY = date(2026, 3, 2)


def _close(ledger: Ledger, day: date = MONDAY, **kwargs):
    with ledger.transaction() as session:
        return close_day(session, day, operator="Gérant", **kwargs)


def test_a_sale_after_the_z_goes_into_the_next_z_of_the_day(ledger, clock) -> None:
    ring(ledger, ("Pain", 130, 2, 550), method=PaymentMethod.CASH)
    clock.set_local(MONDAY, time(18, 2))
    first = _close(ledger, counted={"cash": 260})
    with ledger.reader() as session:
        assert sale_refusal(session) is None  # the till may sell on
        assert closed_day_note(session) == (
            "Journée clôturée à 18:02 (Z n° 1) — les ventes suivantes iront sur la "
            "prochaine clôture."
        )
    clock.advance(minutes=10)
    late = ring(ledger, ("Vin", 1150, 1, 2000), method=PaymentMethod.CASH)
    with ledger.reader() as session:
        assert closed_day_note(session) is None  # the new period has begun
    clock.advance(minutes=30)
    second = _close(ledger, counted={"cash": 1100})
    body = second.body
    assert (second.number, body["period"]) == (2, "2026-03-02")
    assert body["first_seq"] == first.seq + 1 <= late.seq <= body["last_seq"]
    assert (body["tickets"], body["total"]) == (1, 1150)
    assert body["perpetual_total"] == 260 + 1150
    cash = body["counted"][0]
    assert (cash["expected"], cash["counted"], cash["difference"]) == (1150, 1100, -50)
    with ledger.reader() as session:
        days = list_closures(session, RecordType.DAY_CLOSURE)
        assert [(c.number, c.period) for c in days] == [(1, "2026-03-02"), (2, "2026-03-02")]
    report = verify_ledger(ledger.target)
    assert report.ok, report.summary()


def test_the_next_day_needs_the_late_sales_closed(ledger, clock) -> None:
    ring(ledger)
    _close(ledger)
    ring(ledger)  # after the Z, on the same day
    clock.set_local(MONDAY + timedelta(days=1), time(9, 0))
    with ledger.reader() as session:
        pending = pending_closures(session)
        assert [(p.kind, p.period) for p in pending] == [(RecordType.DAY_CLOSURE, "2026-03-02")]
        assert "02/03/2026" in (sale_refusal(session) or "")
    assert _close(ledger).body["tickets"] == 1
    assert ring(ledger).number == 3


def test_month_closure_sums_two_zs_of_the_same_day(ledger, clock) -> None:
    ring(ledger, ("Pain", 130, 1, 550))
    _close(ledger)
    ring(ledger, ("Vin", 1000, 1, 2000))
    _close(ledger)
    clock.set_local(MONDAY + timedelta(days=1))
    ring(ledger, ("Café", 200, 1, 1000))
    _close(ledger, MONDAY + timedelta(days=1))
    clock.set_local(date(2026, 4, 1), time(8, 0))
    with ledger.transaction() as session:
        month = close_month(session, "2026-03", operator="Gérant").body
    assert [p["period"] for p in month["parts"]] == ["2026-03-02", "2026-03-02", "2026-03-03"]
    assert (month["tickets"], month["total"]) == (3, 130 + 1000 + 200)
    assert month["perpetual_total"] == 1330
    report = verify_ledger(ledger.target)
    assert report.ok, report.summary()


def test_a_z_with_nothing_sold_since_the_last_is_refused(ledger, clock) -> None:
    ring(ledger)
    _close(ledger)
    with pytest.raises(PeriodClosed, match=r"déjà clôturée \(Z n° 1\) et rien n'a été vendu"):
        _close(ledger)


def test_an_invoice_is_issued_after_the_z(ledger, clock) -> None:
    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0]))
    ring(ledger)
    _close(ledger)
    draft = InvoiceDraft(
        customer_id=buyer.id,
        lines=(InvoiceLineInput("Farine T65", Decimal("10"), 1250, 550),),
    )
    with ledger.transaction() as session:
        invoice = issue_invoice(session, draft, operator="Camille")
    assert invoice.business_date == MONDAY
    report = verify_ledger(ledger.target)
    assert report.ok, report.summary()


def test_a_sale_paid_as_the_day_changes_is_recorded(ledger, clock) -> None:
    """The payment dialog opened before midnight, « Valider » after: the closure the new
    day makes due is made automatically and the paid sale is recorded."""
    ring(ledger)
    clock.set_local(MONDAY, time(23, 59))
    cart = cart_of(("Vin", 1150, 1, 2000))
    with ledger.reader() as session:
        assert payment_refusal(session, cart, "Alice") is None
    clock.set_local(MONDAY + timedelta(days=1), time(0, 1))
    with ledger.transaction() as session:
        sale = record_sale(
            session, cart, [Payment(PaymentMethod.CARD, 1150)], "Alice", opened_on=MONDAY
        )
    assert sale.business_date == MONDAY + timedelta(days=1)
    with ledger.reader() as session:
        z = last_closure(session, RecordType.DAY_CLOSURE)
    assert z is not None and z.period == "2026-03-02" and z.body["automatic"] is True
    assert z.body["tickets"] == 1 and z.seq < sale.seq
    report = verify_ledger(ledger.target)
    assert report.ok, report.summary()


def test_payment_refusal_says_everything_record_sale_would(ledger, clock) -> None:
    ring(ledger)
    clock.set_local(MONDAY + timedelta(days=1))
    with ledger.reader() as session:
        bread = cart_of(("Pain", 130, 1, 550))
        assert "Clôture nécessaire" in (payment_refusal(session, bread, "Alice") or "")
        assert "vide" in (payment_refusal(session, Cart(), "Alice") or "")


# -- verification ---------------------------------------------------------------------------
def _forged_day(ledger: Ledger, day: date = MONDAY, **changes) -> None:
    """A day closure whose range is moved by ``changes``, signed like any record: only
    verification can tell."""
    with ledger.transaction() as session:
        previous = last_closure(session, RecordType.DAY_CLOSURE)
        span = chain_span(session, previous)
        body = {
            "kind": "day",
            "period": day.isoformat(),
            **span,
            "tickets": 0,
            "refunds": 0,
            "vat": [],
            "total_excl": 0,
            "total_vat": 0,
            "total": 0,
            "payments": [],
            "abs_total": 0,
            "grand_total": 0,
            "perpetual_total": previous.perpetual_total if previous else 0,
            "perpetual_abs_total": previous.body["perpetual_abs_total"] if previous else 0,
            "counted": [],
        }
        body.update({key: body[key] + delta for key, delta in changes.items()})
        append(session, RecordType.DAY_CLOSURE, body, operator="Gérant")


@pytest.mark.parametrize("move", [{"first_seq": -1}, {"first_seq": 1}], ids=["overlap", "gap"])
def test_verify_finds_two_zs_of_a_day_that_overlap_or_leave_a_gap(ledger, clock, move) -> None:
    ring(ledger)
    _close(ledger)
    clock.advance(minutes=5)
    _forged_day(ledger, **move)
    report = verify_ledger(ledger.target)
    assert not report.ok
    assert any("plage d'enregistrements couverte" in f.message for f in report.findings)


def test_verify_finds_a_second_z_that_misses_a_late_sale(ledger, clock) -> None:
    ring(ledger)
    _close(ledger)
    ring(ledger)
    _forged_day(ledger)  # says 0 tickets
    report = verify_ledger(ledger.target)
    assert any("tickets enregistrés dans la clôture" in f.message for f in report.findings)


@pytest.mark.parametrize("listed", [1, 2], ids=["one Z listed", "both listed"])
def test_verify_finds_a_month_that_sums_one_z_of_a_day_only(ledger, clock, listed) -> None:
    ring(ledger, ("Pain", 130, 1, 550))
    _close(ledger)
    ring(ledger, ("Vin", 1000, 1, 2000))
    _close(ledger)
    clock.set_local(date(2026, 4, 1), time(8, 0))
    with ledger.transaction() as session:
        days = list_closures(session, RecordType.DAY_CLOSURE)
        first = days[0]
        body = {
            **first.body,  # the totals of the first Z only
            "kind": "month",
            "period": "2026-03",
            **chain_span(session, None),
            "parts": [{"period": d.period, "seq": d.seq, "hash": d.hash} for d in days[:listed]],
        }
        del body["counted"]
        append(session, RecordType.MONTH_CLOSURE, body, operator="Gérant", period="2026-03")
    report = verify_ledger(ledger.target)
    expected = "clôtures regroupées" if listed == 1 else "retrouvés dans le journal"
    assert any(expected in f.message for f in report.findings), report.summary()


def test_verify_finds_a_z_of_a_day_before_the_last_closed_one(ledger, clock) -> None:
    ring(ledger)
    _close(ledger)
    _forged_day(ledger, MONDAY - timedelta(days=1))
    report = verify_ledger(ledger.target)
    assert any("journée antérieure" in f.message for f in report.findings), report.summary()


@pytest.mark.sqlite_only("the report is a file beside the ledger file")
def test_the_z_report_of_a_second_z_is_its_own(ledger, clock) -> None:
    from app.documents.printing import output_closure

    ring(ledger)
    _close(ledger)
    ring(ledger, ("Vin", 1150, 1, 2000))
    second = _close(ledger)
    with ledger.transaction() as session:
        out = output_closure(
            session, RecordType.DAY_CLOSURE, "2026-03-02", operator="Gérant", number=2
        )
    assert out.pdf.name.startswith("ZJ000002") and second.number == 2
