"""The shop's bank account, share capital and register on the invoice, in the PDF and in
the Factur-X XML (BT-84, BT-86, BT-33); unit prices printed to the cent."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from lxml import etree

from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS, DEMO_SHOP
from app.documents.invoice import _price
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.service import issue_and_store
from app.einvoice.validate import validate_invoice
from app.errors import InvalidInput
from app.ledger.settings import FiscalSettings, record_fiscal_settings, validate
from tests.einvoice.test_facturx import NS, SETTLEMENT, embedded_xml, pdf_text

SHOP = replace(DEMO_SHOP, legal_form="SAS", share_capital=1_500_000, registration="RCS Lyon")


@pytest.fixture
def issued(ledger):
    with ledger.transaction() as session:
        record_fiscal_settings(session, SHOP, operator="Gérant")
        customer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0]))
        draft = InvoiceDraft(
            customer_id=customer.id,
            lines=(InvoiceLineInput("Confiture", Decimal(3), 154, 2000),),
            prices_include_vat=True,
        )
        return issue_and_store(session, draft, operator="Gérant")


def test_bank_account_capital_and_register_reach_the_pdf_and_the_xml(issued) -> None:
    pdf = issued.pdf.read_bytes()
    assert validate_invoice(pdf).ok
    text = pdf_text(pdf)
    assert "SAS au capital de 15 000,00 € — RCS Lyon 123 456 782" in text.replace("\u202f", " ")
    assert "IBAN FR76 3000 6000 0112 3456 7890 189 — BIC AGRIFRPP882" in text
    root = etree.fromstring(embedded_xml(pdf))
    means = root.find(f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans", NS)
    assert means.findtext("ram:PayeePartyCreditorFinancialAccount/ram:IBANID", None, NS) == (
        "FR7630006000011234567890189"
    )
    assert means.findtext("ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID", None, NS) == (
        "AGRIFRPP882"
    )
    seller = root.find(
        "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/ram:SellerTradeParty",
        NS,
    )
    assert "RCS Lyon 123 456 782" in seller.findtext("ram:Description", "", NS)


def test_a_unit_price_derived_from_a_price_with_vat_is_printed_to_the_cent(issued) -> None:
    body = issued.record.body
    assert body["lines"][0]["net_price"] == "1.2833"  # 1,54 € TTC at 20 %
    text = pdf_text(issued.pdf.read_bytes())
    assert "1,28 €" in text and "1,2833" not in text
    assert body["lines"][0]["net"] == 385  # from the typed 4,62 € TTC, exactly


def test_price_rule() -> None:
    assert _price("1.2796") == "1,28 €"
    assert _price("12.5000") == "12,50 €"
    assert _price("0.0045") == "0,0045 €"  # below the cent: kept
    assert _price("0") == "0,00 €"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"iban": "FR7630006000011234567890188"}, "IBAN invalide."),
        ({"bic": "AGRIFRP"}, "BIC invalide"),
        ({"bic": "DEUTDEFF"}, "Le pays du BIC ne correspond pas"),
        ({"registration": "Lyon"}, "RCS Lyon"),
        ({"registration": "RCS\x0bLyon"}, "caractère de contrôle"),
        ({"share_capital": -1}, "Capital social"),
    ],
)
def test_bad_bank_or_register_is_refused_in_french(changes, message) -> None:
    shop = replace(SHOP, iban="FR7630006000011234567890189", bic="AGRIFRPP882")
    with pytest.raises(InvalidInput, match=message):
        validate(replace(shop, **changes))


def test_register_is_normalised() -> None:
    shop = validate(FiscalSettings(**{**SHOP.__dict__, "registration": " rm  69 "}))
    assert shop.registration == "RM 69"
    assert shop.legal_mentions == "SAS au capital de 15\u202f000,00 € — RM 69 123 456 782"
