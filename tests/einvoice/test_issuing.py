"""Issuing invoices and credit notes into the ledger; payments; from a till ticket."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS, DEMO_SHOP
from app.einvoice.corrections import issue_credit_note, record_payment
from app.einvoice.invoices import Charge, InvoiceDraft, InvoiceLineInput, compute
from app.einvoice.issuing import (
    draft_from_ticket,
    get_document,
    issue_invoice,
    list_documents,
    overdue,
    status_of,
)
from app.errors import InvalidInput
from app.ledger.settings import record_fiscal_settings
from app.ledger.verify.engine import verify_ledger
from app.sales.cart import Discount
from tests.helpers import ring

BUYER, EU_BUYER = (CustomerInfo(**values) for values in DEMO_CUSTOMERS)


def line(label="Farine T65", qty="10", price=1250, rate=550, **kw) -> InvoiceLineInput:
    return InvoiceLineInput(label, Decimal(qty), price, rate, **kw)


@pytest.fixture
def shop(ledger):
    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        buyer = save_customer(session, BUYER)
        eu = save_customer(session, EU_BUYER)
    return {"ledger": ledger, "buyer": buyer.id, "eu": eu.id}


def _issue(shop, *lines, **kw):
    draft = InvoiceDraft(customer_id=kw.pop("customer", shop["buyer"]), lines=tuple(lines), **kw)
    with shop["ledger"].transaction() as session:
        return issue_invoice(session, draft, operator="Camille")


def test_multi_rate_goods_invoice_is_numbered_and_recorded(shop) -> None:
    first = _issue(shop, line(), line("Vin", "2", 900, 2000))
    second = _issue(shop, line())
    body = first.body
    assert body["number"] == "F2026-000001" and second.body["number"] == "F2026-000002"
    assert body["total_lines"] == 12500 + 1800 and body["total_excl"] == 14300
    assert [(v["rate"], v["base"], v["vat"]) for v in body["vat_breakdown"]] == [
        (2000, 1800, 360),
        (550, 12500, 688),
    ]
    assert body["total"] == 14300 + 360 + 688 and body["due"] == body["total"]
    assert body["seller"]["siren"] == "123456782" and body["buyer"]["siren"] == "123456782"
    assert body["delivery"]["city"] == "Villeurbanne"
    assert body["business_process"] == "B1" and set(body["notes"]) >= {"PMT", "PMD", "AAB"}
    assert body["notes"]["BAR"] == "B2B"
    assert verify_ledger(shop["ledger"].path).ok


def test_prices_incl_vat_discounts_and_charges(shop) -> None:
    record = _issue(
        shop,
        line("Panier garni", "3", 4990, 2000, discount=Discount.percent_of(Decimal(10))),
        line("Livraison express", "1", 1200, 2000, nature="services"),
        prices_include_vat=True,
        document_discount=Discount.amount(500),
        charges=(Charge("Emballage", 300, 2000),),
    )
    body = record.body
    assert body["business_process"] == "M1"
    assert body["total_allowances"] == 500 and body["total_charges"] == 300
    assert body["total_excl"] == body["total_lines"] - 500 + 300
    for row in body["vat_breakdown"]:
        assert row["vat"] == (row["base"] * row["rate"] + 5000) // 10000


def test_exempt_and_reverse_charge_lines(shop) -> None:
    with pytest.raises(InvalidInput, match="motif d'exonération"):
        line("Formation", "1", 50000, 0)
    exempt = _issue(
        shop,
        line(
            "Formation",
            "1",
            50000,
            0,
            category="E",
            nature="services",
            exemption_code="VATEX-EU-132",
            exemption_reason="Art. 261-4-4° CGI",
        ),
    )
    assert exempt.body["vat_breakdown"][0]["exemption_code"] == "VATEX-EU-132"
    intra = _issue(shop, line("Farine", "100", 90, 0, category="K"), customer=shop["eu"])
    row = intra.body["vat_breakdown"][0]
    assert (row["category"], row["vat"], row["exemption_code"]) == ("K", 0, "VATEX-EU-IC")
    assert intra.body["notes"]["BAR"] == "B2BINT"


def test_full_and_partial_credit_notes(shop) -> None:
    invoice = _issue(shop, line(), line("Vin", "2", 900, 2000))
    number = invoice.body["number"]
    with shop["ledger"].transaction() as session:
        partial = issue_credit_note(
            session, number, operator="Camille", reason="Casse", lines=[(1, 1)]
        )
    assert partial.body["number"] == "AV2026-000001" and partial.body["type_code"] == "381"
    assert partial.body["total"] == 900 + 180
    assert partial.body["preceding"] == {"number": number, "date": "2026-03-02"}
    with shop["ledger"].transaction() as session:
        with pytest.raises(InvalidInput, match="dépasse"):
            issue_credit_note(session, number, operator="Camille", reason="Tout")
        # One of the two bottles is already credited: one is left, not two.
        with pytest.raises(InvalidInput, match="au plus 1 à créditer"):
            issue_credit_note(session, number, operator="Camille", reason="x", lines=[(1, 2)])
    with shop["ledger"].reader() as session:
        state = status_of(session, get_document(session, number))
    assert state.credited == 1080 and state.outstanding == invoice.body["total"] - 1080
    other = _issue(shop, line())
    with shop["ledger"].transaction() as session:
        full = issue_credit_note(
            session, other.body["number"], operator="Camille", reason="Erreur de client"
        )
        state = status_of(session, get_document(session, other.body["number"]))
    assert full.body["total"] == other.body["total"] and state.label == "Annulée par avoir"


def test_payments_outstanding_and_overdue(shop, clock) -> None:
    invoice = _issue(shop, line())
    number = invoice.body["number"]
    with shop["ledger"].transaction() as session:
        record_payment(session, number, 5000, method="cheque", operator="Camille")
        with pytest.raises(InvalidInput, match="reste dû"):
            record_payment(session, number, invoice.body["total"], operator="Camille")
    clock.advance(days=31)
    with shop["ledger"].reader() as session:
        late = overdue(session)
        assert [s.document.doc_number for s in late] == [number]
        assert late[0].label == "En retard" and late[0].paid == 5000


def test_invoice_from_a_till_ticket(shop) -> None:
    ticket = ring(shop["ledger"], ("Pain", 130, 2, 550), ("Vin", 1150, 1, 2000))
    with shop["ledger"].transaction() as session:
        draft = draft_from_ticket(session, ticket.number, shop["buyer"])
        record = issue_invoice(session, draft, operator="Camille")
    body = record.body
    assert body["total"] == ticket.body["total"]
    assert body["paid"] == body["total"] and body["due"] == 0
    assert body["from_ticket"] == {"seq": ticket.seq, "number": ticket.number}
    with (
        pytest.raises(InvalidInput, match="déjà été facturé"),
        shop["ledger"].transaction() as session,
    ):
        issue_invoice(session, draft, operator="Camille")


def test_list_filters(shop) -> None:
    _issue(shop, line())
    _issue(shop, line("Farine", "1", 100, 0, category="K"), customer=shop["eu"])
    with shop["ledger"].reader() as session:
        assert len(list_documents(session)) == 2
        assert len(list_documents(session, text="janssens")) == 1
        assert len(list_documents(session, customer_id=shop["buyer"])) == 1
        assert len(list_documents(session, status="À payer")) == 2


amounts = st.integers(min_value=1, max_value=500_000)
rates = st.sampled_from((2000, 1000, 550, 210))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(
        st.tuples(amounts, st.integers(min_value=1, max_value=50), rates), min_size=1, max_size=8
    ),
    incl=st.booleans(),
    discount=st.one_of(st.none(), st.integers(min_value=1, max_value=30)),
)
def test_totals_always_add_up(lines, incl, discount) -> None:
    draft = InvoiceDraft(
        customer_id=1,
        lines=tuple(InvoiceLineInput("Article", Decimal(q), p, r) for p, q, r in lines),
        prices_include_vat=incl,
        document_discount=Discount.percent_of(Decimal(discount)) if discount else None,
    )
    result = compute(draft)
    t = result.totals
    assert t["total_lines"] == sum(x["net"] for x in result.lines)
    assert t["total_excl"] == t["total_lines"] - t["total_allowances"] + t["total_charges"]
    assert t["total_excl"] == sum(v["base"] for v in result.vat_breakdown)
    assert t["total_vat"] == sum(v["vat"] for v in result.vat_breakdown)
    assert t["total"] == t["total_excl"] + t["total_vat"]
    for row in result.vat_breakdown:
        assert row["vat"] == (row["base"] * row["rate"] + 5000) // 10000
