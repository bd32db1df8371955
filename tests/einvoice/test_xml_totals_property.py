"""Property: for any invoice, the XML totals equal the ledger record to the cent."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_SHOP
from app.einvoice import facturx
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.issuing import issue_invoice
from app.ledger import canonical
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from app.sales.cart import Discount
from tests.conftest import FakeClock

NS = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}
TOTALS = {
    "LineTotalAmount": "total_lines",
    "AllowanceTotalAmount": "total_allowances",
    "ChargeTotalAmount": "total_charges",
    "TaxBasisTotalAmount": "total_excl",
    "TaxTotalAmount": "total_vat",
    "GrandTotalAmount": "total",
    "TotalPrepaidAmount": "paid",
    "DuePayableAmount": "due",
}


def _cents(text: str) -> int:
    return int((Decimal(text) * 100).to_integral_value())


lines = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=300_000),
        st.integers(min_value=1, max_value=40),
        st.sampled_from((2000, 1000, 550, 210)),
        st.one_of(st.none(), st.integers(min_value=1, max_value=50)),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lines=lines, incl=st.booleans(), discount=st.one_of(st.none(), st.integers(1, 20)))
def test_xml_totals_equal_the_ledger_record(tmp_path_factory, lines, incl, discount) -> None:
    path = tmp_path_factory.mktemp("inv") / "ledger.sqlite"
    with Ledger.open(path, clock=FakeClock()) as ledger:
        with ledger.transaction() as session:
            record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
            buyer = save_customer(
                session,
                CustomerInfo(
                    name="Client", siren="123456782", address="1 rue", postcode="69001", city="Lyon"
                ),
            )
            draft = InvoiceDraft(
                customer_id=buyer.id,
                lines=tuple(
                    InvoiceLineInput(
                        "Article",
                        Decimal(q),
                        p,
                        r,
                        discount=Discount.percent_of(Decimal(d)) if d else None,
                    )
                    for p, q, r, d in lines
                ),
                prices_include_vat=incl,
                document_discount=Discount.percent_of(Decimal(discount)) if discount else None,
            )
            record = issue_invoice(session, draft, operator="Gérant")
        with ledger.reader() as session:
            row = session.get(JournalRecord, record.seq)
            envelope = canonical.decode(row.canonical)
    assert envelope["type"] == RecordType.INVOICE.value
    body = envelope["body"]
    xml = etree.fromstring(facturx.invoice_xml(facturx.data_dict(envelope, body)))
    summation = xml.find(".//ram:SpecifiedTradeSettlementHeaderMonetarySummation", NS)
    for tag, key in TOTALS.items():
        found = summation.find(f"ram:{tag}", NS)
        value = _cents(found.text) if found is not None else 0
        assert value == body[key], (tag, value, body[key])
    per_rate = {}
    for tax in xml.findall(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS):
        rate = int(Decimal(tax.find("ram:RateApplicablePercent", NS).text) * 100)
        per_rate[rate] = (
            _cents(tax.find("ram:BasisAmount", NS).text),
            _cents(tax.find("ram:CalculatedAmount", NS).text),
        )
    assert per_rate == {v["rate"]: (v["base"], v["vat"]) for v in body["vat_breakdown"]}
