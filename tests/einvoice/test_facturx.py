"""Factur-X PDFs built from issued invoice bodies: valid XML, PDF/A-3 packaging, and a
visual PDF that shows the same values as the XML."""

from __future__ import annotations

import copy
import io
import json
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from facturx import xml_check_xsd
from lxml import etree
from pypdf import PdfReader

from app.documents.invoice import VAT_ON_DEBITS, render_invoice_pdf
from app.documents.watermark import TRAINING_WATERMARK
from app.einvoice.facturx import build_invoice_pdf, data_dict, facturx_pdf, invoice_xml
from app.einvoice.validate import validate_xml_bytes
from app.errors import InvalidInput
from app.values.money import format_cents
from tests.einvoice import sample_bodies as samples

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
SUMMATION = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
TOTALS = {
    "total_lines": "LineTotalAmount",
    "total_allowances": "AllowanceTotalAmount",
    "total_charges": "ChargeTotalAmount",
    "total_excl": "TaxBasisTotalAmount",
    "total_vat": "TaxTotalAmount",
    "total": "GrandTotalAmount",
    "paid": "TotalPrepaidAmount",
    "due": "DuePayableAmount",
}
STANDARD_14 = {"Courier", "Helvetica", "Times", "Symbol", "ZapfDingbats"}
SCENARIOS = sorted(samples.SCENARIOS)


@cache
def built(name: str, training: bool = False) -> tuple[dict[str, Any], bytes]:
    envelope, body = samples.SCENARIOS[name]()
    return body, build_invoice_pdf(envelope, body, training=training)


def embedded_xml(pdf: bytes) -> bytes:
    reader = PdfReader(io.BytesIO(pdf))
    names = reader.trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    files = dict(zip(names[::2], names[1::2], strict=True))
    return files["factur-x.xml"].get_object()["/EF"]["/F"].get_object().get_data()


def pdf_text(pdf: bytes) -> str:
    # Paragraphs wrap anywhere: compare with every run of white space made one space.
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def flat(text: str) -> str:
    return " ".join(text.split())


def cents(node: Any) -> int:
    return int(Decimal(node.text) * 100)


# -- XML -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SCENARIOS)
def test_embedded_xml_passes_xsd_en16931_and_br_fr(name: str) -> None:
    xml = embedded_xml(built(name)[1])
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    report = validate_xml_bytes(xml)
    assert report.level == "en16931"
    assert report.fatal == (), "\n".join(f.message for f in report.fatal)


@pytest.mark.parametrize("name", SCENARIOS)
def test_xml_totals_equal_the_body_to_the_cent(name: str) -> None:
    body, pdf = built(name)
    root = etree.fromstring(embedded_xml(pdf))
    for key, element in TOTALS.items():
        assert cents(root.find(f"{SUMMATION}/ram:{element}", NS)) == body[key], key
    taxes = root.findall(f"{SETTLEMENT}/ram:ApplicableTradeTax", NS)
    found = {
        (
            t.findtext("ram:CategoryCode", namespaces=NS),
            int(Decimal(t.findtext("ram:RateApplicablePercent", "0", NS)) * 100),
        ): (cents(t.find("ram:BasisAmount", NS)), cents(t.find("ram:CalculatedAmount", NS)))
        for t in taxes
    }
    assert found == {
        (r["category"], r["rate"]): (r["base"], r["vat"]) for r in body["vat_breakdown"]
    }
    per_rate: dict[int, list[int]] = {}
    for (_, rate), (base, vat) in found.items():
        per_rate.setdefault(rate, [0, 0])
        per_rate[rate][0] += base
        per_rate[rate][1] += vat
    assert per_rate == {v["rate"]: [v["base"], v["vat"]] for v in body["vat"]}


@pytest.mark.parametrize("name", SCENARIOS)
def test_sample_bodies_are_internally_consistent(name: str) -> None:
    _, body = samples.SCENARIOS[name]()
    assert body["total_lines"] == sum(line["net"] for line in body["lines"])
    assert body["total_excl"] == (
        body["total_lines"] - body["total_allowances"] + body["total_charges"]
    )
    for row in body["vat_breakdown"]:
        assert row["vat"] == (row["base"] * row["rate"] + 5_000) // 10_000
    assert body["total_vat"] == sum(row["vat"] for row in body["vat_breakdown"])
    assert body["total"] == body["total_excl"] + body["total_vat"]
    assert body["due"] == body["total"] - body["paid"]


def test_the_validator_really_runs_the_french_rules() -> None:
    envelope, body = samples.multi_rate_goods()
    del body["notes"]["PMT"]
    report = validate_xml_bytes(invoice_xml(data_dict(envelope, body)))
    assert "BR-FR-05" in {finding.rule_family for finding in report.fatal}


def test_data_dict_is_plain_json_and_left_untouched_by_the_xml() -> None:
    data = data_dict(*samples.intra_eu())
    before = copy.deepcopy(data)
    invoice_xml(data)
    assert data == before
    assert json.loads(json.dumps(data)) == data


def test_envelope_and_body_must_agree_on_the_kind_of_document() -> None:
    envelope, body = samples.credit_full()
    with pytest.raises(InvalidInput):
        data_dict({**envelope, "type": "INVOICE"}, body)


def test_french_2026_terms_in_the_xml() -> None:
    root = etree.fromstring(embedded_xml(built("multi_rate_goods")[1]))
    agreement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
    assert (
        root.findtext(
            "rsm:ExchangedDocumentContext/ram:BusinessProcessSpecifiedDocumentContextParameter/"
            "ram:ID",
            namespaces=NS,
        )
        == "B1"
    )
    buyer = root.find(f"{agreement}/ram:BuyerTradeParty", NS)
    legal = buyer.find("ram:SpecifiedLegalOrganization/ram:ID", NS)
    assert (legal.text, legal.get("schemeID")) == (samples.COMPANY["siren"], "0002")
    endpoint = buyer.find("ram:URIUniversalCommunication/ram:URIID", NS)
    assert (endpoint.text, endpoint.get("schemeID")) == (samples.COMPANY["siren"], "0225")
    notes = {
        n.findtext("ram:SubjectCode", namespaces=NS): n.findtext("ram:Content", namespaces=NS)
        for n in root.findall("rsm:ExchangedDocument/ram:IncludedNote", NS)
    }
    assert notes["BAR"] == "B2B" and {"PMT", "PMD", "AAB"} <= set(notes)
    ship_to = root.find(
        "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeDelivery/"
        "ram:ShipToTradeParty/ram:PostalTradeAddress/ram:LineOne",
        NS,
    )
    assert ship_to.text == "17 rue de la Charité"

    services = etree.fromstring(embedded_xml(built("services_vat_on_debits")[1]))
    assert {
        t.text
        for t in services.iterfind(f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:DueDateTypeCode", NS)
    } == {"5"}


def test_intra_community_supply_has_delivery_country_and_date() -> None:
    root = etree.fromstring(embedded_xml(built("intra_eu")[1]))
    delivery = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeDelivery"
    assert (
        root.findtext(
            f"{delivery}/ram:ShipToTradeParty/ram:PostalTradeAddress/ram:CountryID", namespaces=NS
        )
        == "DE"
    )
    assert (
        root.findtext(
            f"{delivery}/ram:ActualDeliverySupplyChainEvent/"
            "ram:OccurrenceDateTime/udt:DateTimeString",
            namespaces=NS,
        )
        == "20261122"
    )


def test_credit_note_references_the_invoice() -> None:
    _, pdf = built("credit_partial")
    root = etree.fromstring(embedded_xml(pdf))
    assert root.findtext("rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == "381"
    reference = root.find(f"{SETTLEMENT}/ram:InvoiceReferencedDocument", NS)
    assert reference.findtext("ram:IssuerAssignedID", namespaces=NS) == "F2026-000123"


# -- PDF/A-3 packaging -----------------------------------------------------------------
@pytest.mark.parametrize("name", ["multi_rate_goods", "credit_full"])
def test_xml_is_embedded_as_factur_x_data(name: str) -> None:
    reader = PdfReader(io.BytesIO(built(name)[1]))
    root = reader.trailer["/Root"]
    spec = root["/AF"][0].get_object()
    assert spec["/F"] == spec["/UF"] == "factur-x.xml"
    assert spec["/AFRelationship"] == "/Data"
    assert spec["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"
    assert "factur-x.xml" in root["/Names"]["/EmbeddedFiles"]["/Names"]
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert "<pdfaid:part>3</pdfaid:part>" in xmp
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert reader.metadata["/Producer"] in xmp and "/Keywords" not in reader.metadata
    assert built(name)[1].startswith(b"%PDF-1.7")


def test_output_intent_is_srgb() -> None:
    root = PdfReader(io.BytesIO(built("intra_eu")[1])).trailer["/Root"]
    intent = root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/OutputConditionIdentifier"] == "sRGB IEC61966-2.1"
    profile = intent["/DestOutputProfile"].get_object()
    icc = profile.get_data()
    assert profile["/N"] == 3
    assert icc[36:40] == b"acsp" and icc[12:20] == b"mntrRGB " and icc[8] <= 4


@pytest.mark.parametrize("name", ["multi_rate_goods", "intra_eu", "credit_full"])
def test_every_font_is_embedded_and_none_is_standard_14(name: str) -> None:
    reader = PdfReader(io.BytesIO(built(name, training=True)[1]))
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font
    assert fonts
    for base, font in fonts.items():
        assert base.lstrip("/").split("+")[-1].split("-")[0] not in STANDARD_14, base
        descriptor = font["/FontDescriptor"].get_object()
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), base


# -- what the reader sees --------------------------------------------------------------
@pytest.mark.parametrize("name", SCENARIOS)
def test_pdf_shows_the_mandatory_mentions(name: str) -> None:
    body, pdf = built(name)
    text = pdf_text(pdf)
    assert body["number"] in text
    assert f"SIREN {body['seller']['siren']}" in text
    if body["buyer"]["siren"]:
        assert f"SIREN {body['buyer']['siren']}" in text
    for key in ("total_excl", "total_vat", "total", "due"):
        assert flat(format_cents(body[key])) in text, key
    for code in ("PMT", "PMD", "AAB"):
        assert flat(body["notes"][code]) in text, code
    assert "page 1 / 1" in text
    assert TRAINING_WATERMARK not in text


def test_pdf_mentions_by_scenario() -> None:
    goods = pdf_text(built("multi_rate_goods")[1])
    assert "Nature de l'opération : Livraison de biens" in goods
    assert "Adresse de livraison 17 rue de la Charité" in goods.replace(
        "Restaurant Le Bouchon — cuisine ", ""
    )
    assert VAT_ON_DEBITS in pdf_text(built("services_vat_on_debits")[1])
    assert VAT_ON_DEBITS not in goods
    assert "Opération mixte" in pdf_text(built("mixed")[1])
    intra = pdf_text(built("intra_eu")[1])
    assert "Exonération de TVA, article 262 ter I du CGI" in intra
    assert "Autoliquidation" in intra
    assert samples.EU_COMPANY["vat_number"] in intra and samples.SELLER["vat_number"] in intra
    assert "Exonération de TVA, article 261-4-4° du CGI" in pdf_text(
        built("exempt_training_course")[1]
    )
    credit = pdf_text(built("credit_full")[1])
    assert "AVOIR n° AV2026-000004" in credit
    assert "se rapportant à la facture F2026-000123 du 22/11/2026" in credit
    ticket_body, ticket_pdf = built("from_ticket")
    ticket = pdf_text(ticket_pdf)
    assert f"Déjà réglé {flat(format_cents(-ticket_body['paid']))}" in ticket
    assert f"Net à payer {flat(format_cents(0))}" in ticket


def test_training_copy_is_watermarked_in_pdf_and_xml() -> None:
    _, pdf = built("multi_rate_goods", training=True)
    assert pdf_text(pdf).count(TRAINING_WATERMARK) >= 2  # banner and watermark
    notes = etree.fromstring(embedded_xml(pdf)).findall(
        "rsm:ExchangedDocument/ram:IncludedNote/ram:Content", NS
    )
    assert TRAINING_WATERMARK in {note.text for note in notes}
    assert validate_xml_bytes(embedded_xml(pdf)).ok


def test_long_invoice_runs_over_several_numbered_pages() -> None:
    lines = [
        samples.line(
            f"Article {i:03d} — bocal de confiture artisanale",
            "2",
            350 + i,
            (2000, 550, 1000)[i % 3],
        )
        for i in range(1, 90)
    ]
    body = samples.build_body(lines, number="F2026-000300", buyer=samples.COMPANY)
    data = data_dict(samples.envelope_of(body), body)
    pdf = facturx_pdf(data, render_invoice_pdf(data))
    reader = PdfReader(io.BytesIO(pdf))
    pages = len(reader.pages)
    assert pages >= 2
    last = " ".join(reader.pages[-1].extract_text().split())
    assert f"page {pages} / {pages}" in last
    assert flat(format_cents(body["total"])) in last
    assert validate_xml_bytes(embedded_xml(pdf)).ok
