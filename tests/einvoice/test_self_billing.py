"""Self-billing: mandates, self-billed invoices (389) and credit notes (261) drawn up by
the shop as the buyer, held to the official rules, numbered per mandate, sent like any
invoice, and kept out of everything that counts sales."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date
from io import BytesIO

import pytest
from lxml import etree
from pypdf import PdfReader

from app.demo import DEMO_SHOP
from app.einvoice import rules
from app.einvoice.corrections import issue_credit_note, record_payment
from app.einvoice.facturx import data_dict, invoice_xml
from app.einvoice.invoices import InvoiceDraft
from app.einvoice.issuing import get_document, issue_invoice, list_documents, status_of
from app.einvoice.pdp.directory import buyer_ids
from app.einvoice.pdp.models import OutboxItem
from app.einvoice.pdp.statuses import queue_status
from app.einvoice.selfbilling.documents import list_self_billed
from app.einvoice.selfbilling.mandates import add_mandate, end_mandate, list_mandates
from app.einvoice.service import self_bill_and_store, self_credit_and_store
from app.einvoice.validate import validate_xml_bytes
from app.errors import InvalidInput
from app.ledger import canonical
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType
from app.ledger.settings import record_fiscal_settings
from app.ledger.verify.engine import verify_ledger
from tests.einvoice.selfbilling_fixtures import SUPPLIER, self_billed_draft
from tests.einvoice.test_issuing import BUYER, line

RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"


@pytest.fixture
def shop(ledger):
    from app.customers.service import save_customer

    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        mandate = add_mandate(session, SUPPLIER, operator="Gérant")
        buyer = save_customer(session, BUYER)
    return {"ledger": ledger, "mandate": mandate, "buyer": buyer.id}


def self_bill(shop, draft=None, mandate=None):
    with shop["ledger"].transaction() as session:
        return self_bill_and_store(
            session, mandate or shop["mandate"].id, draft or self_billed_draft(), operator="Camille"
        )


def embedded_xml(pdf_path) -> bytes:
    reader = PdfReader(BytesIO(pdf_path.read_bytes()))
    return reader.attachments["factur-x.xml"][0]


# -- mandates ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"siret": "73282932000075"}, "SIRET invalide"),
        ({"siret": "", "siren": ""}, "SIREN obligatoire"),
        ({"vat_number": "FR00732829320"}, "TVA"),
        ({"electronic_address": "552100554_STOCK"}, r"doit commencer par son SIREN \(732829320\)"),
        ({"prefix": "F2026"}, "se confondrait avec les factures"),
        ({"prefix": "af-verger"}, "Préfixe de numérotation"),
        ({"reference": "  "}, "Référence du mandat : obligatoire"),
        ({"end_date": date(2025, 12, 31)}, "La fin du mandat précède son début"),
        ({"city": ""}, "Adresse du fournisseur incomplète"),
        ({"iban": "FR76 0000"}, "IBAN du fournisseur invalide"),
    ],
)
def test_a_bad_mandate_is_refused_in_french(ledger, change, message) -> None:
    with ledger.transaction() as session, pytest.raises(InvalidInput, match=message):
        add_mandate(session, replace(SUPPLIER, **change), operator="Gérant")


def test_prefix_and_reference_belong_to_one_mandate(shop) -> None:
    with shop["ledger"].transaction() as session:
        with pytest.raises(InvalidInput, match="déjà celui du mandat « MAND-2026-01 »"):
            add_mandate(session, replace(SUPPLIER, reference="AUTRE"), operator="Gérant")
        with pytest.raises(InvalidInput, match="existe déjà"):
            add_mandate(session, replace(SUPPLIER, prefix="AFAUTRE"), operator="Gérant")
        assert [m.reference for m in list_mandates(session)] == ["MAND-2026-01"]
        assert list_mandates(session)[0].electronic_address == "732829320"


# -- issuing ----------------------------------------------------------------------------
def test_the_supplier_sells_the_shop_buys_and_the_document_says_autofacturation(shop) -> None:
    issued = self_bill(shop)
    body = issued.record.body
    assert issued.record.record_type is RecordType.SELF_INVOICE
    assert issued.doc_number == body["number"] == "AFVERGER-000001"
    assert body["type_code"] == "389"
    assert body["seller"]["siren"] == "732829320" and body["seller"]["name"] == SUPPLIER.name
    assert body["buyer"]["siren"] == DEMO_SHOP.siren and body["buyer"]["name"] == DEMO_SHOP.name
    assert body["self_billing"]["mandate"] == "MAND-2026-01"
    assert body["total_excl"] == 7200 and body["total"] == 7596

    root = etree.fromstring(embedded_xml(issued.pdf))
    assert root.findtext(f".//{RAM}TypeCode") == "389"
    notes = [n.findtext(f"{RAM}Content") for n in root.iter(f"{RAM}IncludedNote")]
    assert any(n.startswith("Autofacturation : facture établie par Épicerie") for n in notes)
    seller = root.find(f".//{RAM}SellerTradeParty")
    assert seller.findtext(f"{RAM}Name") == SUPPLIER.name
    endpoint = seller.find(f"{RAM}URIUniversalCommunication/{RAM}URIID")
    assert (endpoint.text, endpoint.get("schemeID")) == ("732829320", "0225")  # BR-FR-22
    buyer = root.find(f".//{RAM}BuyerTradeParty")
    assert buyer.findtext(f"{RAM}Name") == DEMO_SHOP.name

    text = "".join(page.extract_text() for page in PdfReader(str(issued.pdf)).pages)
    assert "AUTOFACTURATION" in text and "Autofacturation : facture établie" in text
    assert verify_ledger(shop["ledger"].path).ok


def test_the_emitted_xml_passes_the_official_en16931_and_br_fr_rules(shop) -> None:
    assert rules.BR_FR_CII.path.is_file(), f"règles officielles absentes : {rules.BR_FR_CII.path}"
    issued = self_bill(shop)
    credit = _credit(shop, issued.doc_number, lines=[(0, "5")])
    for document in (issued, credit):
        report = validate_xml_bytes(embedded_xml(document.pdf))
        assert report.ok, [(f.rule, f.message) for f in report.fatal]
        assert rules.BR_FR_CII.label in report.rules
        assert any("EN 16931" in rule for rule in report.rules)
        assert "V1.4.0.03" in report.rules_line()


def test_the_official_rules_apply_to_self_billing(shop) -> None:
    """BR-FR-22 holds a self-billed invoice only: the supplier's address must start with
    its SIREN. A body breaking it is caught by the very rules the issuing runs."""
    issued = self_bill(shop)
    with shop["ledger"].reader() as session:
        document = get_document(session, issued.doc_number)
    body = copy.deepcopy(document.body)
    body["seller"]["electronic_address"] = "552100554"
    report = validate_xml_bytes(invoice_xml(data_dict(document.envelope, body)))
    assert "BR-FR-22" in {f.rule.split("_")[0] for f in report.fatal}


def test_a_self_billed_credit_note_is_a_261_on_the_invoice(shop) -> None:
    issued = self_bill(shop)
    credit = _credit(shop, issued.doc_number, lines=[(0, "5")])
    body = credit.record.body
    assert credit.record.record_type is RecordType.SELF_CREDIT
    assert body["type_code"] == "261" and body["number"] == "AFVERGER-000002"
    assert body["preceding"] == {"number": "AFVERGER-000001", "date": "2026-03-02"}
    assert body["total_excl"] == 900 and body["reason"] == "Pommes abîmées"
    assert body["self_billing"]["mention"].startswith("Autofacturation : avoir établi")
    root = etree.fromstring(embedded_xml(credit.pdf))
    assert root.findtext(f".//{RAM}TypeCode") == "261"
    with shop["ledger"].reader() as session:
        state = status_of(session, get_document(session, issued.doc_number))
    assert state.credited == body["total"]
    more = _credit(shop, issued.doc_number, lines=[(0, "30")])
    assert more.record.body["number"] == "AFVERGER-000003"
    with pytest.raises(InvalidInput, match="au plus 5 à créditer"):
        _credit(shop, issued.doc_number, lines=[(0, "6")])
    with pytest.raises(InvalidInput, match="dépasse ce qui reste"):
        _credit(shop, issued.doc_number)


def _credit(shop, number, lines=None):
    with shop["ledger"].transaction() as session:
        return self_credit_and_store(
            session, number, operator="Camille", reason="Pommes abîmées", lines=lines
        )


def test_numbering_is_continuous_per_mandate_and_apart_from_sales(shop, clock) -> None:
    with shop["ledger"].transaction() as session:
        other = add_mandate(
            session,
            replace(
                SUPPLIER,
                reference="MAND-FERME",
                prefix="AFFERME",
                name="Ferme des Monts",
                siret="55210055400013",
                vat_number="FR96552100554",
            ),
            operator="Gérant",
        )
    sale = None
    numbers = []
    for turn in range(3):
        numbers.append(self_bill(shop).doc_number)
        if turn == 0:
            numbers.append(self_bill(shop, mandate=other.prefix).doc_number)
            draft = InvoiceDraft(customer_id=shop["buyer"], lines=(line(),))
            with shop["ledger"].transaction() as session:
                sale = issue_invoice(session, draft, operator="Camille")
        clock.advance(hours=1)
    numbers.append(_credit(shop, numbers[0]).doc_number)
    assert numbers == [
        "AFVERGER-000001",
        "AFFERME-000001",
        "AFVERGER-000002",
        "AFVERGER-000003",
        "AFVERGER-000004",
    ]
    assert sale.body["number"] == "F2026-000001"  # the shop's own sequence is untouched
    with shop["ledger"].reader() as session:
        listed = [d.doc_number for s in list_documents(session) for d in [s.document]]
        assert listed == ["F2026-000001"]  # the sales invoices list has no purchase
        mine = list_self_billed(session, mandate="MAND-2026-01")
        assert [s.number for s in mine] == [*numbers[4:1:-1], "AFVERGER-000001"]
        assert mine[0].kind == "Avoir d'autofacturation"
    assert verify_ledger(shop["ledger"].path).ok


def test_refused_outside_the_mandate_dates(shop, clock) -> None:
    with shop["ledger"].transaction() as session:
        later = add_mandate(
            session,
            replace(SUPPLIER, reference="MAND-B", prefix="AFB", start_date=date(2026, 4, 1)),
            operator="Gérant",
        )
    with pytest.raises(InvalidInput, match=r"ne prend effet que le 01/04/2026.*02/03/2026"):
        self_bill(shop, mandate=later.id)
    issued = self_bill(shop)
    with shop["ledger"].transaction() as session:
        with pytest.raises(InvalidInput, match="ne peut finir avant cette date"):
            end_mandate(session, "MAND-2026-01", date(2026, 3, 1), operator="Gérant")
        end_mandate(session, "AFVERGER", date(2026, 3, 2), operator="Gérant")
    clock.set_local(date(2026, 3, 3))
    with pytest.raises(InvalidInput, match=r"a pris fin le 02/03/2026.*le 03/03/2026"):
        self_bill(shop)
    with pytest.raises(InvalidInput, match="a pris fin le 02/03/2026"):
        _credit(shop, issued.doc_number)
    with shop["ledger"].reader() as session:
        assert session.query(JournalRecord).filter_by(record_type="SELF_INVOICE").count() == 1
        events = [
            canonical.decode(row.canonical)["body"]
            for row in session.query(JournalRecord).filter_by(record_type="EVENT")
        ]
    mandates = [e["detail"] for e in events if e["code"] == "SELF_BILLING_MANDATE"]
    assert [(m["action"], m["reference"], m["end"]) for m in mandates] == [
        ("recorded", "MAND-2026-01", None),
        ("recorded", "MAND-B", None),
        ("ended", "MAND-2026-01", "2026-03-02"),
    ]  # who gave the shop authority to issue in whose name stays in the JET


def test_a_purchase_takes_no_payment_nor_sales_credit_note(shop) -> None:
    issued = self_bill(shop)
    with shop["ledger"].transaction() as session:
        with pytest.raises(InvalidInput, match="un achat de la boutique"):
            record_payment(session, issued.doc_number, 100, operator="Camille")
        with pytest.raises(InvalidInput, match="avoir d'autofacturation"):
            issue_credit_note(session, issued.doc_number, operator="Camille", reason="x")


@pytest.mark.parametrize("code", ["212", "209", "220"])
def test_the_shop_gives_no_sellers_status_on_its_autofacture(shop, code) -> None:
    issued = self_bill(shop)
    with shop["ledger"].transaction() as session:
        before = session.query(OutboxItem).count()
        with pytest.raises(InvalidInput, match="reviennent au fournisseur"):
            queue_status(session, issued.doc_number, code, amount_cents=100 * (code == "212"))
        assert session.query(OutboxItem).count() == before


def test_it_goes_through_the_outbox_like_any_invoice(shop) -> None:
    issued = self_bill(shop)
    with shop["ledger"].reader() as session:
        items = session.query(OutboxItem).all()
        assert [(i.doc_number, i.invoice_seq) for i in items] == [
            (issued.doc_number, issued.record.seq)
        ]
        assert items[0].payload == issued.pdf.read_bytes()
        # The directory is asked about whom it goes to: the supplier, not the shop.
        assert buyer_ids(session, issued.doc_number) == ("732829320", "73282932000074")


def test_the_local_platform_receives_it_over_http(shop) -> None:
    from app.einvoice.pdp.client import HttpFlowClient
    from app.einvoice.pdp.config import PlatformSettings
    from app.einvoice.pdp.delivery import drain_once
    from app.einvoice.pdp.outbox_status import current_status
    from app.einvoice.pdp.sandbox import SandboxPlatform

    issued = self_bill(shop)
    with SandboxPlatform(lifecycle_step=3600) as sandbox:
        settings = PlatformSettings(
            sandbox.url, sandbox.token_url, sandbox.client_id, sandbox.client_secret, 5.0
        )
        stats = drain_once(shop["ledger"], HttpFlowClient(settings))
    assert (stats.sent, stats.failed) == (1, 0)
    with shop["ledger"].reader() as session:
        assert current_status(session, issued.record.seq) == ("Transmise à la plateforme", "")
