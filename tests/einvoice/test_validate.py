"""Invoice validation: XSD, EN 16931 and BR-FR schematrons, on real and generated invoices."""

from __future__ import annotations

import io
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from facturx import generate_from_binary, generate_xml
from pypdf import PdfWriter

from app.einvoice.validate import Finding, ValidationReport, validate_invoice, validate_xml_bytes

SPECS = Path(__file__).resolve().parents[3] / "shared" / "specs"
SAMPLE_XML = "F202500001_INV_20250201_CII_Commentee_EN16931.xml"
SAMPLE_PDF = "F202500001_INV_20250201.pdf"


@pytest.fixture
def samples() -> Path:
    folder = SPECS / "sample-invoices"
    if not folder.is_dir():
        pytest.skip(f"official sample invoices not found in {folder} (see shared/specs/README.md)")
    return folder


def invoice_data(**changes: Any) -> dict[str, Any]:
    """A minimal EN16931 B2B invoice carrying every French mention BR-FR asks for."""
    data: dict[str, Any] = {
        "BT-1": "FA-2026-0001",
        "BT-2": date(2026, 3, 2),
        "BT-3": "380",
        "BT-5": "EUR",
        "BT-9": date(2026, 4, 1),
        "BT-23": "B1",
        "BT-72": date(2026, 3, 2),
        "BG-1": [
            {"BT-21": "PMT", "BT-22": "Indemnité forfaitaire pour frais de recouvrement : 40 €."},
            {"BT-21": "PMD", "BT-22": "Pénalités de retard : trois fois le taux d'intérêt légal."},
            {"BT-21": "AAB", "BT-22": "Pas d'escompte pour paiement anticipé."},
            {"BT-21": "BAR", "BT-22": "B2B"},
        ],
        "BG-4": {
            "name": "Boulangerie Dupont",
            "legal_identifier": "732829320",
            "legal_identifier_schemeid": "0002",
            "vat_identifier": "FR44732829320",
            "einvoicing_addr": "732829320",
            "einvoicing_addr_schemeid": "0225",
            "addr_l1": "1 rue du Pain",
            "postcode": "69001",
            "city": "Lyon",
            "country_code": "FR",
        },
        "BG-7": {
            "name": "Café du Coin",
            "legal_identifier": "552100554",
            "legal_identifier_schemeid": "0002",
            "einvoicing_addr": "552100554",
            "einvoicing_addr_schemeid": "0225",
            "addr_l1": "2 place Bellecour",
            "postcode": "69002",
            "city": "Lyon",
            "country_code": "FR",
        },
        "BG-25": [
            {
                "BT-126": "1",
                "BT-153": "Croissant",
                "BT-129": "50",
                "BT-130": "C62",
                "BT-146": "2.00",
                "BT-131": "100.00",
                "BT-151": "S",
                "BT-152": "5.5",
            }
        ],
        "BG-23": [{"BT-116": "100.00", "BT-117": "5.50", "BT-118": "S", "BT-119": "5.5"}],
        "BT-106": "100.00",
        "BT-109": "100.00",
        "BT-110": "5.50",
        "BT-112": "105.50",
        "BT-115": "105.50",
    }
    data.update(changes)
    return data


def invoice_xml(flavor: str = "factur-x", **changes: Any) -> bytes:
    # No XSD check here: the broken variants must reach the validator.
    xml: bytes = generate_xml(
        invoice_data(**changes),
        flavor=flavor,
        level="en16931",
        check_xsd=False,
        check_schematron=False,
    )
    return xml


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def rules(report: ValidationReport) -> set[str]:
    return {f.rule_family for f in report.findings}


def test_minimal_invoice_passes_xsd_en16931_and_br_fr() -> None:
    report = validate_xml_bytes(invoice_xml())

    assert report.findings == ()
    assert (report.flavor, report.level) == ("factur-x", "en16931")
    assert report.ok
    assert report.summary() == "Factur-X EN16931 valide : 0 erreur, 0 avertissement"


def test_factur_x_pdf_is_opened_and_its_xml_validated() -> None:
    pdf = generate_from_binary(blank_pdf(), invoice_xml(), check_xsd=False)

    report = validate_invoice(pdf, filename="FA-2026-0001.pdf")

    assert report.ok, report.findings
    assert report.flavor == "factur-x"


def test_official_sample_xml(samples: Path) -> None:
    report = validate_invoice((samples / SAMPLE_XML).read_bytes(), filename=SAMPLE_XML)

    # Observed: XSD and the French BR-FR rules pass, but the Factur-X 1.09.2 schematron
    # (effective 2026-09-01) is stricter than the 2025 sample: it fills both IBANID and
    # ProprietaryID for BT-84 (CII-SR-470) and both PersonName and DepartmentName in the
    # seller and buyer contacts (CII-SR-465, CII-SR-466). These are genuine findings.
    assert (report.flavor, report.level) == ("factur-x", "en16931")
    assert {f.rule for f in report.fatal} == {"CII-SR-470", "CII-SR-465", "CII-SR-466"}
    assert {f.source for f in report.findings} == {"en16931"}
    assert not report.ok
    assert report.summary() == "Facture invalide : 3 erreurs bloquantes, 0 avertissement"
    contact = next(f for f in report.findings if f.rule == "CII-SR-465")
    assert contact.message.startswith("Règle CII-SR-465 non respectée : Only one BT-41")
    assert contact.location is not None
    assert contact.location.endswith("/ram:ApplicableHeaderTradeAgreement[1]")


def test_official_sample_pdf_says_the_same_as_its_xml(samples: Path) -> None:
    from_pdf = validate_invoice((samples / SAMPLE_PDF).read_bytes(), filename=SAMPLE_PDF)
    from_xml = validate_invoice((samples / SAMPLE_XML).read_bytes())

    assert from_pdf.flavor == "factur-x"
    assert {(f.rule, f.location) for f in from_pdf.findings} == {
        (f.rule, f.location) for f in from_xml.findings
    }


def test_totals_that_do_not_add_up() -> None:
    report = validate_xml_bytes(invoice_xml(**{"BT-106": "90.00", "BT-112": "110.00"}))

    assert {"BR-CO-10", "BR-CO-15"} <= rules(report)
    assert not report.ok
    totals = next(f for f in report.findings if f.rule == "BR-CO-15")
    assert totals.severity == "fatal"
    assert totals.source == "en16931"
    assert totals.message.startswith("Le total TTC ne correspond pas au total HT plus la TVA.")
    assert "(règle BR-CO-15 : Invoice total amount with VAT (BT-112)" in totals.message
    assert totals.location is not None and "SpecifiedTradeSettlementHeaderMonetarySummation" in (
        totals.location
    )
    assert report.summary().startswith("Facture invalide : ")


def test_missing_payment_terms_note_breaks_br_fr_05() -> None:
    notes = [n for n in invoice_data()["BG-1"] if n["BT-21"] != "PMT"]
    report = validate_xml_bytes(invoice_xml(**{"BG-1": notes}))

    assert [f.rule for f in report.findings] == ["BR-FR-05_BT-22_PMT"]
    finding = report.findings[0]
    assert finding.rule_family == "BR-FR-05"
    assert finding.source == "br-fr"
    assert "PMT" in finding.message and "frais de recouvrement" in finding.message
    assert report.summary() == "Facture invalide : 1 erreur bloquante, 0 avertissement"


def test_missing_seller_siren_is_a_french_finding() -> None:
    seller = dict(invoice_data()["BG-4"])
    del seller["legal_identifier"], seller["legal_identifier_schemeid"]

    report = validate_xml_bytes(invoice_xml(**{"BG-4": seller}))

    siren = next(f for f in report.findings if f.rule_family == "BR-FR-10")
    assert siren.message.startswith("Le SIREN du vendeur (9 chiffres, schéma 0002) est obligatoire")


def test_code_lists_are_checked() -> None:
    # The EN16931 code lists live in the codedb file handed to the stylesheet.
    report = validate_xml_bytes(invoice_xml().replace(b">EUR<", b">ZZZ<", 1))

    assert any(
        f.source == "en16931" and "InvoiceCurrencyCode" in f.message for f in report.fatal
    ), report.findings


def test_xsd_invalid_xml_gives_located_findings_not_a_traceback() -> None:
    xml = invoice_xml().replace(b"<ram:TypeCode>380", b"<ram:Foo>1</ram:Foo><ram:TypeCode>380")

    report = validate_xml_bytes(xml)

    xsd = [f for f in report.findings if f.source == "xsd"]
    assert len(xsd) == 1
    assert xsd[0].rule == "XSD"
    assert "Element 'ram:Foo': This element is not expected" in xsd[0].message
    assert "(ligne " in xsd[0].message
    assert xsd[0].location == "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:Foo"


def test_unparsable_amount_stops_a_schematron_but_still_reports() -> None:
    xml = invoice_xml().replace(b"<ram:LineTotalAmount>100.00<", b"<ram:LineTotalAmount>abc<")

    report = validate_xml_bytes(xml)

    assert {"xsd", "en16931"} <= {f.source for f in report.fatal}
    aborted = [f for f in report.findings if f.rule == "SCHEMATRON"]
    assert aborted and "n'a pas pu aller au bout" in aborted[0].message


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"", "VIDE"),
        (b"\x00\x01\x02garbage\xff\xfe", "FORMAT"),
        (b"Bonjour, voici ma facture", "FORMAT"),
        (b"<rsm:CrossIndustryInvoice", "XML"),
        (b"<commande><ligne/></commande>", "FORMAT"),
        (b"%PDF-1.7\nnot really a pdf", "PDF"),
    ],
)
def test_unreadable_input_is_one_format_finding(data: bytes, rule: str) -> None:
    report = validate_invoice(data, filename="piece-jointe.bin")

    assert report.findings == (report.findings[0],)
    assert report.findings[0].rule == rule
    assert report.findings[0].source == "format"
    assert not report.ok
    assert report.flavor is None


def test_pdf_without_xml_is_not_an_electronic_invoice() -> None:
    report = validate_invoice(blank_pdf(), filename="scan.pdf")

    assert [f.rule for f in report.findings] == ["PDF-SANS-XML"]
    assert "« scan.pdf » ne contient pas de facture électronique" in report.findings[0].message


def test_ubl_invoice_from_other_software_is_accepted_and_checked() -> None:
    report = validate_invoice(invoice_xml("ubl-2.1"), filename="facture.xml")

    assert (report.flavor, report.level) == ("ubl-2.1-invoice", "en16931")
    assert report.ok, report.findings
    assert report.summary() == "UBL EN16931 valide : 0 erreur, 0 avertissement"

    notes = [n for n in invoice_data()["BG-1"] if n["BT-21"] != "AAB"]
    broken = validate_invoice(invoice_xml("ubl-2.1", **{"BG-1": notes, "BT-112": "99.00"}))
    assert {"BR-FR-05", "BR-CO-15"} <= rules(broken)
    assert {f.source for f in broken.fatal} == {"en16931", "br-fr"}


def test_minimum_profile_is_refused() -> None:
    xml = invoice_xml().replace(b"urn:cen.eu:en16931:2017", b"urn:factur-x.eu:1p0:minimum")

    report = validate_xml_bytes(xml)

    assert report.level == "minimum"
    assert "PROFIL" in {f.rule for f in report.fatal}


def test_summary_counts_in_french() -> None:
    warning = Finding("BR-X", "warning", "Attention", None, "en16931")
    error = Finding("BR-Y", "fatal", "Erreur", None, "en16931")

    assert (
        ValidationReport("factur-x", "en16931", (warning, warning)).summary()
        == "Factur-X EN16931 valide : 0 erreur, 2 avertissements"
    )
    assert (
        ValidationReport("factur-x", "en16931", (error, error, error, warning)).summary()
        == "Facture invalide : 3 erreurs bloquantes, 1 avertissement"
    )


def test_validation_from_a_worker_thread() -> None:
    results: list[ValidationReport] = []
    worker = threading.Thread(target=lambda: results.append(validate_xml_bytes(invoice_xml())))
    worker.start()
    worker.join()

    assert results and results[0].ok


def test_warm_validation_is_fast() -> None:
    xml = invoice_xml()
    validate_xml_bytes(xml)  # compiles the stylesheets once per process
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        validate_xml_bytes(xml)
        timings.append(time.perf_counter() - start)

    # About 20 ms on a laptop; the bound only catches recompiling on every call.
    assert min(timings) < 0.25
