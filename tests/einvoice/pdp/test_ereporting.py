"""E-reporting (DGFiP Flux 10) built from the ledger, held to the official XSD and PPF
schematron shipped in app/einvoice/rules, sent to the platform and journaled."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time
from decimal import Decimal

import pytest
from lxml import etree
from sqlalchemy import select

from app.catalog.service import save_product
from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS, DEMO_SHOP
from app.einvoice.corrections import issue_credit_note, record_payment
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.issuing import get_document, issue_invoice
from app.einvoice.official import MessageRefused, validate_ereporting
from app.einvoice.pdp import flux10
from app.einvoice.pdp.client import HttpFlowClient
from app.einvoice.pdp.config import PlatformSettings
from app.einvoice.pdp.ereporting.periods import Period, parse_period, period_of
from app.einvoice.pdp.ereporting.report import build_report, send_due, send_report
from app.einvoice.pdp.ereporting.sent import due_periods, sent_reports
from app.einvoice.pdp.flux10 import PAYMENTS, TRANSACTIONS
from app.einvoice.pdp.sandbox import SandboxPlatform
from app.errors import InvalidInput
from app.ledger import canonical
from app.ledger.closures import close_day
from app.ledger.models import JournalRecord
from app.ledger.settings import record_fiscal_settings
from app.sales.cart import Cart, CartLine
from app.sales.payments import Payment, PaymentMethod
from app.sales.service import record_sale

FIRST_DECADE = Period(TRANSACTIONS, date(2026, 3, 1), date(2026, 3, 10))
MARCH_PAYMENTS = Period(PAYMENTS, date(2026, 3, 1), date(2026, 3, 31))
RULES = ("XSD Flux 10 DGFiP v3", "schématron PPF Flux 10 v1.0 (annexe 7 v1.8)")


@pytest.fixture(autouse=True)
def matricule(monkeypatch) -> None:
    monkeypatch.setenv("COMPTOIR_PDP_MATRICULE", "0042")


@pytest.fixture
def shop(ledger):
    return make_shop(ledger)


def make_shop(ledger):
    """The demo shop selling bread and wine (goods) and repairs (services)."""
    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        goods = save_product(
            session, name="Pain", price_cents=130, vat_rate_bp=550, operator="Gérant"
        )
        wine = save_product(
            session, name="Vin", price_cents=1150, vat_rate_bp=2000, operator="Gérant"
        )
        repair = save_product(
            session, name="Réparation", price_cents=3000, vat_rate_bp=2000, nature="services",
            operator="Gérant",
        )  # fmt: skip
    return {"ledger": ledger, "pain": goods.id, "vin": wine.id, "service": repair.id}


def _sell(ledger, *lines: tuple[int, int, int, int]) -> None:
    cart = Cart()
    for product_id, price, qty, rate in lines:
        cart.add(
            CartLine(f"Article {product_id}", price, Decimal(qty), rate, product_id=product_id)
        )
    with ledger.transaction() as session:
        total = cart.totals().total_cents
        record_sale(session, cart, [Payment(PaymentMethod.CARD, total)], "Alice")


def _close(ledger, clock, day: date) -> None:
    clock.set_local(day, time(19))
    with ledger.transaction() as session:
        close_day(session, day, operator="Gérant")


def _two_days(shop, clock) -> None:
    ledger = shop["ledger"]
    clock.set_local(date(2026, 3, 2), time(10))
    _sell(ledger, (shop["pain"], 130, 2, 550), (shop["vin"], 1150, 1, 2000))  # goods, 2 rates
    _sell(ledger, (shop["pain"], 130, 1, 550), (shop["service"], 3000, 1, 2000))
    _close(ledger, clock, date(2026, 3, 2))
    clock.set_local(date(2026, 3, 3), time(10))
    _sell(ledger, (shop["service"], 3000, 2, 2000))
    _close(ledger, clock, date(2026, 3, 3))


def _blocks(content: bytes) -> dict[tuple[str, str], dict[str, object]]:
    root = etree.fromstring(content)
    found = {}
    for block in root.iterfind("TransactionsReport/Transactions"):
        rates = {
            sub.findtext("TaxPercent"): (sub.findtext("TaxableAmount"), sub.findtext("TaxTotal"))
            for sub in block.iterfind("TaxSubtotal")
        }
        found[(block.findtext("Date"), block.findtext("CategoryCode"))] = {
            "count": int(block.findtext("TransactionsCount")),
            "rates": rates,
            "excl": block.findtext("TaxExclusiveAmount"),
        }
    return found


def test_10_3_per_day_category_and_rate(shop, clock) -> None:
    _two_days(shop, clock)
    with shop["ledger"].reader() as session:
        report = build_report(session, FIRST_DECADE)
    blocks = _blocks(report.content)
    assert sorted(blocks) == [
        ("20260302", "TLB1"), ("20260302", "TPS1"), ("20260303", "TPS1")
    ]  # fmt: skip
    # Two tickets carry goods on the 2nd; the one with two rates counts once.
    assert blocks[("20260302", "TLB1")]["count"] == 2
    assert set(blocks[("20260302", "TLB1")]["rates"]) == {"5.50", "20.00"}
    assert blocks[("20260302", "TPS1")] == {
        "count": 1, "rates": {"20.00": ("25.00", "5.00")}, "excl": "25.00"
    }  # fmt: skip
    assert blocks[("20260303", "TPS1")]["count"] == 1
    # The tickets' own VAT, as the Z closure sums it: 2.60 (0.14 VAT) + 1.30 (0.07 VAT).
    assert blocks[("20260302", "TLB1")]["rates"]["5.50"] == ("3.69", "0.21")
    assert report.total_cents == 260 + 1150 + 130 + 3000 + 6000
    header = etree.fromstring(report.content).find("ReportDocument")
    assert header.findtext("TypeCode") == "IN"
    assert header.find("Issuer/Id").text == DEMO_SHOP.siren
    assert header.find("Sender/Id").get("schemeId") == "0238"
    assert etree.fromstring(report.content).findtext(
        "TransactionsReport/ReportPeriod/StartDate"
    ) == ("20260301")
    checked = validate_ereporting(report.content)
    assert checked.ok and checked.rules == RULES


def test_10_4_payments_of_services_whose_vat_is_due_on_payment(shop, clock) -> None:
    _two_days(shop, clock)
    with shop["ledger"].reader() as session:
        report = build_report(session, MARCH_PAYMENTS)
    root = etree.fromstring(report.content)
    assert root.find("TransactionsReport") is None
    paid = {
        (p.findtext("Date"), s.findtext("TaxPercent")): s.findtext("Amount")
        for p in root.iterfind("PaymentsReport/Transactions/Payment")
        for s in p.iterfind("SubTotals")
    }
    assert paid == {("20260302", "20.00"): "30.00", ("20260303", "20.00"): "60.00"}
    assert validate_ereporting(report.content).ok
    with shop["ledger"].transaction() as session:
        record_fiscal_settings(session, replace(DEMO_SHOP, vat_on_debits=True), operator="Gérant")
    with shop["ledger"].reader() as session:
        assert build_report(session, MARCH_PAYMENTS).payments == ()


def test_10_1_invoices_abroad_and_b2c_invoices(shop, clock) -> None:
    ledger = shop["ledger"]
    clock.set_local(date(2026, 3, 2), time(10))
    person = CustomerInfo(kind="person", name="Jeanne Martin", address="1 rue Haute",
                          postcode="75001", city="Paris")  # fmt: skip
    with ledger.transaction() as session:
        french, belgian = (save_customer(session, CustomerInfo(**c)).id for c in DEMO_CUSTOMERS)
        private = save_customer(session, person).id
        for customer, nature in ((french, "goods"), (belgian, "goods"), (private, "services")):
            line = InvoiceLineInput("Atelier", Decimal(1), 10000, 2000, nature=nature)
            issue_invoice(session, InvoiceDraft(customer, (line,)), operator="Camille")
        issue_credit_note(session, "F2026-000002", operator="Camille", reason="Erreur")
    _close(ledger, clock, date(2026, 3, 2))
    with ledger.reader() as session:
        report = build_report(session, FIRST_DECADE)
    root = etree.fromstring(report.content)
    invoices = root.findall("TransactionsReport/Invoice")
    assert [(i.findtext("ID"), i.findtext("TypeCode")) for i in invoices] == [
        ("F2026-000002", "380"), ("AV2026-000001", "381")
    ]  # fmt: skip
    buyer = invoices[0].find("Buyer/CompanyId")
    assert (buyer.get("schemeId"), buyer.text) == ("0223", "BE0403170701")
    assert invoices[1].findtext("ReferencedDocument/ID") == "F2026-000002"
    # The private customer's invoice is a B2C sale: aggregated, services.
    assert _blocks(report.content)[("20260302", "TPS1")]["excl"] == "100.00"
    assert validate_ereporting(report.content).ok


def test_an_unclosed_day_blocks_the_report(shop, clock) -> None:
    _two_days(shop, clock)
    clock.set_local(date(2026, 3, 4), time(10))
    _sell(shop["ledger"], (shop["pain"], 130, 1, 550))
    with pytest.raises(InvalidInput, match="04/03/2026"), shop["ledger"].reader() as session:
        build_report(session, FIRST_DECADE)


def test_no_matricule_no_report(shop, clock, monkeypatch) -> None:
    _two_days(shop, clock)
    monkeypatch.delenv("COMPTOIR_PDP_MATRICULE")
    with pytest.raises(InvalidInput, match="matricule"), shop["ledger"].reader() as session:
        build_report(session, FIRST_DECADE)


@pytest.mark.parametrize(
    ("regime", "flux", "day", "start", "end"),
    [("reel_normal", TRANSACTIONS, "2026-03-15", "2026-03-11", "2026-03-20"),
     ("reel_normal", TRANSACTIONS, "2026-02-28", "2026-02-21", "2026-02-28"),
     ("reel_normal", PAYMENTS, "2026-03-15", "2026-03-01", "2026-03-31"),
     ("reel_simplifie", TRANSACTIONS, "2026-03-15", "2026-03-01", "2026-03-31"),
     ("franchise", TRANSACTIONS, "2026-04-15", "2026-03-01", "2026-04-30"),
     ("franchise", PAYMENTS, "2026-12-01", "2026-11-01", "2026-12-31")],
)  # fmt: skip
def test_periods_follow_the_vat_regime(regime, flux, day, start, end) -> None:
    period = period_of(regime, flux, date.fromisoformat(day))
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)


def test_parse_period() -> None:
    month = parse_period("reel_normal", "2026-03")
    assert [(p.flux, p.start.day) for p in month] == [
        (TRANSACTIONS, 1), (PAYMENTS, 1), (TRANSACTIONS, 11), (TRANSACTIONS, 21)
    ]  # fmt: skip
    with pytest.raises(InvalidInput, match="AAAA-MM"):
        parse_period("reel_normal", "mars")


def _client(platform: SandboxPlatform) -> HttpFlowClient:
    return HttpFlowClient(PlatformSettings(platform.url, platform.token_url, "comptoir", "secret"))


def test_initial_then_rectificative_reports_are_sent_and_journaled(shop, clock) -> None:
    _two_days(shop, clock)
    ledger = shop["ledger"]
    clock.set_local(date(2026, 4, 2), time(9))
    with ledger.reader() as session:
        due = due_periods(session)
    assert due == [FIRST_DECADE, MARCH_PAYMENTS]  # periods without sales are not due
    with SandboxPlatform() as platform, _client(platform) as client:
        sent = send_due(ledger, client, operator="Gérant")
        assert [r.period for r, _ in sent] == due
        with pytest.raises(InvalidInput, match="déjà été transmis"):
            send_report(ledger, client, FIRST_DECADE, operator="Gérant")
        # A late cancellation: the whole decade is reported again, as RE.
        clock.set_local(date(2026, 4, 2), time(10))
        corrected, ref = send_report(ledger, client, FIRST_DECADE, operator="Gérant", replace=True)
        stored = [r.content for r in platform.reports]
    assert corrected.type_code == "RE" and corrected.report_id.endswith("-RE1")
    assert stored[-1] == corrected.content
    assert etree.fromstring(stored[-1]).findtext("ReportDocument/TypeCode") == "RE"
    assert all(validate_ereporting(content).ok for content in stored)
    with ledger.reader() as session:
        journaled = sent_reports(session)
        assert due_periods(session) == []
        last = session.scalar(select(JournalRecord).order_by(JournalRecord.seq.desc()).limit(1))
    assert [(s.period, s.type_code) for s in journaled] == [
        (FIRST_DECADE, "IN"), (MARCH_PAYMENTS, "IN"), (FIRST_DECADE, "RE")
    ]  # fmt: skip
    body = canonical.decode(last.canonical)["body"]
    assert body["code"] == "EREPORTING" and body["detail"]["flow_id"] == ref.flow_id


def test_replacing_a_period_never_sent_is_refused(shop, clock) -> None:
    _two_days(shop, clock)
    with (
        SandboxPlatform() as platform,
        _client(platform) as client,
        pytest.raises(InvalidInput, match="rien à remplacer"),
    ):
        send_report(shop["ledger"], client, FIRST_DECADE, operator="G", replace=True)


def test_the_sandbox_answers_a_broken_report_with_the_rule_ids(shop, clock) -> None:
    _two_days(shop, clock)
    with shop["ledger"].reader() as session:
        good = build_report(session, FIRST_DECADE).content
    broken = good.replace(b"<TypeCode>IN</TypeCode>", b"<TypeCode>XX</TypeCode>")
    broken = broken.replace(
        b"<CategoryCode>TPS1</CategoryCode>", b"<CategoryCode>TPS9</CategoryCode>"
    )
    with SandboxPlatform() as platform, _client(platform) as client:
        ref = client.send_report(broken, tracking_id="t-broken")
        info = client.flow_info(ref.flow_id)  # taken, then acknowledged in error
    assert info.ack_status == "Error" and platform.reports == []
    rules = {detail.reason_code for detail in info.ack_details}
    assert {"G8.01", "G1.68"} <= rules
    assert "Règle G8.01 : " in info.rejection()


def test_a_report_breaking_a_rule_is_not_sent(shop, clock, monkeypatch) -> None:
    _two_days(shop, clock)
    monkeypatch.setenv("COMPTOIR_PDP_MATRICULE", "00042")  # 5 characters: G6.22
    with pytest.raises(MessageRefused, match=r"G6\.22"), shop["ledger"].reader() as session:
        build_report(session, FIRST_DECADE)


def test_10_2_payments_of_invoices_abroad_whose_vat_is_due_on_payment(shop, clock) -> None:
    ledger = shop["ledger"]
    clock.set_local(date(2026, 3, 2), time(10))
    with ledger.transaction() as session:
        belgian = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[1])).id
        services = InvoiceLineInput("Atelier", Decimal(1), 10000, 2000, nature="services")
        goods = InvoiceLineInput("Farine", Decimal(1), 5000, 550, nature="goods")
        issue_invoice(session, InvoiceDraft(belgian, (services,)), operator="Camille")
        issue_invoice(session, InvoiceDraft(belgian, (goods,)), operator="Camille")
    _close(ledger, clock, date(2026, 3, 2))
    clock.set_local(date(2026, 3, 16), time(10))
    with ledger.transaction() as session:
        total = get_document(session, "F2026-000001").body["total"]
        record_payment(session, "F2026-000001", total // 2, operator="Camille")
        record_payment(session, "F2026-000002", 1000, operator="Camille")  # goods: no 10.2
    _close(ledger, clock, date(2026, 3, 16))
    with ledger.reader() as session:
        report = build_report(session, MARCH_PAYMENTS)
    root = etree.fromstring(report.content)
    [invoice] = root.findall("PaymentsReport/Invoice")
    assert invoice.findtext("InvoiceID") == "F2026-000001"
    assert invoice.findtext("IssueDate") == "20260302"
    assert invoice.findtext("Payment/Date") == "20260316"
    amounts = [
        (sub.findtext("TaxPercent"), sub.findtext("Amount"))
        for sub in invoice.iterfind("Payment/SubTotals")
    ]
    assert amounts == [("20.00", flux10.euros(total // 2))]
    assert report.invoice_payments[0].amounts == ((2000, total // 2),)
    # The unitary payments come before any aggregated one, as the schema orders them.
    assert [child.tag for child in root.find("PaymentsReport")][:2] == ["ReportPeriod", "Invoice"]
    checked = validate_ereporting(report.content)
    assert checked.ok and checked.rules == RULES
