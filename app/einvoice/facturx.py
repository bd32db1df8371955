"""Factur-X (EN 16931 profile) from an issued invoice or credit note.

``data_dict`` turns the ledger record into ONE dict keyed by EN 16931 business terms
(the factur-x ``generate_xml`` format). Both the CII XML and the visual PDF
(``app.documents.invoice``) are made from that dict, so they cannot disagree. Amounts
are strings with two decimals, rates with two decimals, dates ISO strings: the dict is
JSON-friendly and ``invoice_xml`` hands factur-x a deep copy, since factur-x rewrites
the dict it is given.

Schematron validation (EN 16931 + BR-FR) is not run here: see ``app.einvoice.validate``.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from functools import cache
from io import BytesIO
from typing import Any

from facturx import generate_from_binary, xml_check_xsd
from facturx.generate_xml import generate_xml
from PIL import ImageCms
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from app.documents.invoice import render_invoice_pdf
from app.documents.watermark import TRAINING_WATERMARK
from app.errors import InvalidInput
from app.ledger.records import RecordType, document_number

LEVEL = "en16931"
TYPE_CODES = {"INVOICE": "380", "CREDIT_NOTE": "381", "SELF_INVOICE": "389", "SELF_CREDIT": "261"}
CREDIT_CODES = ("381", "261")
# The printed title of each type code (BT-3); 389 and 261 are self-billed.
TITLES = {"380": "FACTURE", "381": "AVOIR", "389": "AUTOFACTURE", "261": "AVOIR D'AUTOFACTURATION"}
PAYMENT_LABELS = {
    "10": "Espèces",
    "20": "Chèque",
    "30": "Virement",
    "48": "Carte bancaire",
    "49": "Prélèvement",
    "58": "Virement SEPA",
    "59": "Prélèvement SEPA",
}
CREDIT_TRANSFERS = {"30", "58"}
# BT-120 (sent and printed) when a record carries an exemption code without its text.
EXEMPTION_TEXTS = {
    "VATEX-EU-IC": "Exonération de TVA, article 262 ter I du CGI",
    "VATEX-EU-AE": "Autoliquidation, article 283-2 du CGI",
    "VATEX-FR-AE": "Autoliquidation, article 283-2 du CGI",
    "VATEX-EU-G": "Exonération de TVA, article 262 I du CGI (exportation)",
    "VATEX-EU-O": "Opération hors champ d'application de la TVA",
    "VATEX-FR-FRANCHISE": "TVA non applicable, article 293 B du CGI",
}
CATEGORY_TEXTS = {
    "K": EXEMPTION_TEXTS["VATEX-EU-IC"],
    "AE": EXEMPTION_TEXTS["VATEX-EU-AE"],
    "G": EXEMPTION_TEXTS["VATEX-EU-G"],
    "O": EXEMPTION_TEXTS["VATEX-EU-O"],
    "E": "Exonération de TVA",
}
SRGB_CONDITION = "sRGB IEC61966-2.1"
_ENDPOINT_WITH_SCHEME = re.compile(r"(\d{4}):(\S+)")
_XMP_CREATE_DATE = re.compile(r"<xmp:CreateDate>([^<]+)</xmp:CreateDate>")


# -- formatting ------------------------------------------------------------------------
def amount(cents: int) -> str:
    """Cents as an EN 16931 amount: 1234 -> "12.34" (no float on the way)."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rest:02d}"


def percent(bp: int) -> str:
    """Basis points as a rate: 550 -> "5.50" (the form BR-FR-16 lists)."""
    return f"{bp // 100}.{bp % 100:02d}"


def _decimal4(value: str) -> str:
    return format(Decimal(value).quantize(Decimal("0.0001")), "f")


def _address(party: dict[str, Any]) -> dict[str, str]:
    lines = [part.strip() for part in (party.get("address") or "").splitlines() if part.strip()]
    if len(lines) > 3:
        lines = [*lines[:2], ", ".join(lines[2:])]
    fields = {"country_code": party.get("country") or "FR"}
    fields.update(zip(("addr_l1", "addr_l2", "addr_l3"), lines, strict=False))
    fields.update({key: party[key] for key in ("postcode", "city") if party.get(key)})
    return fields


def _endpoint(party: dict[str, Any]) -> dict[str, str]:
    """BT-34/BT-49: "9930:DE123" keeps its scheme, an e-mail is EM, anything else is a
    French directory address (0225, SIREN-based); falls back on the e-mail, then SIREN."""
    address = (party.get("electronic_address") or "").strip()
    email = (party.get("email") or "").strip()
    if match := _ENDPOINT_WITH_SCHEME.fullmatch(address):
        value, scheme = match[2], match[1]
    elif address and "@" not in address:
        value, scheme = address, "0225"
    elif address or email:
        value, scheme = address or email, "EM"
    elif party.get("siren"):
        value, scheme = party["siren"], "0225"
    else:
        return {}
    return {"einvoicing_addr": value, "einvoicing_addr_schemeid": scheme}


def _party(party: dict[str, Any], *, seller: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"name": party["name"], **_address(party), **_endpoint(party)}
    if party.get("siren"):
        result["legal_identifier"] = party["siren"]
        result["legal_identifier_schemeid"] = "0002"
    if party.get("siret"):
        result["identifiers"] = {"0009": party["siret"]}
    if party.get("vat_number"):
        result["vat_identifier"] = party["vat_number"]
    # BT-33, the seller's additional legal information: form, capital, register.
    if seller and (party.get("legal_info") or party.get("legal_form")):
        result["legal_info"] = party.get("legal_info") or party["legal_form"]
    contact = {"phone": party.get("phone") or "", "email": party.get("email") or ""}
    if result.get("einvoicing_addr") == contact["email"]:
        contact["email"] = ""
    contact = {key: value for key, value in contact.items() if value}
    if contact:
        result["contacts"] = [contact]
    return result


def _exemption(category: str, code: str | None, reason: str | None) -> dict[str, str]:
    if category in ("S", "Z"):
        return {}
    text = reason or EXEMPTION_TEXTS.get(code or "") or CATEGORY_TEXTS.get(category, "")
    return {key: value for key, value in (("BT-120", text), ("BT-121", code)) if value}


def _rate(key: str, category: str, bp: int) -> dict[str, str]:
    # BR-O-05 and siblings: "not subject to VAT" carries no rate at all.
    return {} if category == "O" else {key: percent(bp)}


# -- data dict -------------------------------------------------------------------------
def _notes(body: dict[str, Any], training: bool) -> list[dict[str, str]]:
    notes = body.get("notes") or {}
    result = [
        {"BT-21": code, "BT-22": notes[code]}
        for code in ("PMT", "PMD", "AAB", "BAR")
        if notes.get(code)
    ]
    # Self-billing: the mention « Autofacturation » comes first (CGI, annexe II, art. 242 nonies A).
    extra = [(body.get("self_billing") or {}).get("mention") or "", notes.get("free") or ""]
    if body.get("reason"):
        extra.append(f"Motif de l'avoir : {body['reason']}")
    if body.get("from_ticket"):
        ticket = document_number(RecordType.TICKET, body["from_ticket"]["number"])
        extra.append(f"Facture établie pour le ticket de caisse n° {ticket}")
    if training:
        extra.append(TRAINING_WATERMARK)
    result += [{"BT-21": "AAI", "BT-22": text} for text in extra if text.strip()]
    return result


def _lines(body: dict[str, Any]) -> list[dict[str, Any]]:
    lines = []
    for index, line in enumerate(body["lines"], start=1):
        item: dict[str, Any] = {
            "BT-126": str(index),
            "BT-153": line["label"],
            "BT-129": _decimal4(line["qty"]),
            "BT-130": line["unit"],
            "BT-146": _decimal4(line["net_price"]),
            "BT-131": amount(line["net"]),
            "BT-151": line["category"],
            **_rate("BT-152", line["category"], line["rate"]),
        }
        if line.get("discount"):
            # BR-41: a line allowance needs a reason or a reason code.
            item["BG-27"] = [{"amount": amount(line["discount"]), "reason": "Remise"}]
        lines.append(item)
    return lines


def _allowances_charges(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    allowances = []
    for row in body.get("allowances") or []:
        item = {
            "amount": amount(row["amount"]),
            "reason": row.get("reason") or "Remise",
            "vat_category_code": row["category"],
            **_rate("vat_rate", row["category"], row["rate"]),
        }
        if row.get("percent"):
            item["base_amount"] = amount(row["base"])
            item["rate"] = format(Decimal(row["percent"]).quantize(Decimal("0.01")), "f")
        allowances.append(item)
    charges = [
        {
            "amount": amount(row["amount"]),
            "reason": row.get("reason") or "Frais",
            "vat_category_code": row["category"],
            **_rate("vat_rate", row["category"], row["rate"]),
        }
        for row in body.get("charges") or []
    ]
    return {"BG-20": allowances, "BG-21": charges}


def _delivery(body: dict[str, Any]) -> dict[str, Any] | None:
    delivery = body.get("delivery")
    if delivery:
        return {"name": delivery.get("name") or body["buyer"]["name"], **_address(delivery)}
    if any(line["category"] == "K" for line in body["lines"]):
        # BR-IC-12: an intra-community supply needs the deliver-to country (BT-80).
        return {"name": body["buyer"]["name"], **_address(body["buyer"])}
    return None


def data_dict(
    envelope: dict[str, Any], body: dict[str, Any], *, training: bool = False
) -> dict[str, Any]:
    """The EN 16931 (BT-keyed) view of an issued invoice or credit note."""
    expected = TYPE_CODES.get(envelope.get("type", ""))
    type_code = body.get("type_code") or expected or ""
    if expected and expected != type_code:
        raise InvalidInput(
            f"Le document {body.get('number')} est enregistré comme {envelope['type']} "
            f"mais porte le code de type {type_code}."
        )
    data: dict[str, Any] = {
        "BT-1": body["number"],
        "BT-2": body.get("issue_date") or envelope["date"],
        "BT-3": type_code,
        "BT-5": body.get("currency") or "EUR",
        "BT-23": body["business_process"],
        "BG-1": _notes(body, training),
        "BG-4": _party(body["seller"], seller=True),
        "BG-7": _party(body["buyer"], seller=False),
        "BG-25": _lines(body),
        **_allowances_charges(body),
        "BG-23": [
            {
                "BT-116": amount(row["base"]),
                "BT-117": amount(row["vat"]),
                "BT-118": row["category"],
                **_rate("BT-119", row["category"], row["rate"]),
                **_exemption(
                    row["category"], row.get("exemption_code"), row.get("exemption_reason")
                ),
            }
            for row in body["vat_breakdown"]
        ],
        "BT-106": amount(body["total_lines"]),
        "BT-107": amount(body["total_allowances"]),
        "BT-108": amount(body["total_charges"]),
        "BT-109": amount(body["total_excl"]),
        "BT-110": amount(body["total_vat"]),
        "BT-112": amount(body["total"]),
        "BT-113": amount(body["paid"]),
        "BT-115": amount(body["due"]),
    }
    if body.get("vat_on_debits"):
        data["BT-8"] = "5"
    if body.get("due_date"):
        data["BT-9"] = body["due_date"]
    if body.get("payment_terms"):
        data["BT-20"] = body["payment_terms"]
    if body.get("purchase_order"):
        data["BT-13"] = body["purchase_order"]
    if body.get("service_code"):
        data["BT-10"] = body["service_code"]
    if body.get("preceding"):
        data["BG-3"] = [{"BT-25": body["preceding"]["number"], "BT-26": body["preceding"]["date"]}]
    if delivery := _delivery(body):
        data["BG-13"] = delivery
    if any(line["category"] == "K" for line in body["lines"]):
        # BR-IC-11: the delivery date (BT-72) or an invoicing period is required.
        data["BT-72"] = body.get("delivery_date") or data["BT-2"]
    means = body.get("payment_means") or {}
    code, iban = str(means.get("code") or ""), (means.get("iban") or "").replace(" ", "")
    # BR-61: a credit transfer without an account is invalid; leave the means out then.
    if code and (iban or code not in CREDIT_TRANSFERS):
        data["BT-81"] = code
        data["BT-82"] = PAYMENT_LABELS.get(code, "")
        if iban and code in CREDIT_TRANSFERS:
            data["BT-84"] = iban
            if means.get("bic"):
                data["BT-86"] = means["bic"]
    return data


# -- XML and PDF -----------------------------------------------------------------------
def invoice_xml(data: dict[str, Any]) -> bytes:
    """CII XML at the EN 16931 level, checked against the XSD (raises if invalid)."""
    xml = generate_xml(
        copy.deepcopy(data),
        flavor="factur-x",
        level=LEVEL,
        check_xsd=False,
        check_schematron=False,
    )
    # lxml.objectify marks an empty element nil; an invoice without delivery data has an
    # empty (valid) ApplicableHeaderTradeDelivery, which the XSD refuses as nil.
    xml = xml.replace(b' xsi:nil="true"', b"")
    xml_check_xsd(xml, flavor="factur-x", level=LEVEL)
    return xml


@cache
def srgb_profile() -> bytes:
    """An sRGB ICC profile (display class, v4) built by LittleCMS through Pillow."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _pdf_metadata(data: dict[str, Any]) -> dict[str, str]:
    title = TITLES.get(data["BT-3"], "FACTURE")
    seller, buyer = data["BG-4"]["name"], data["BG-7"]["name"]
    day = "/".join(reversed(data["BT-2"].split("-")))
    return {
        "author": seller,
        "keywords": f"{title.capitalize()}, Factur-X",
        "title": f"{title} n° {data['BT-1']} — {seller}",
        "subject": f"{title.capitalize()} {data['BT-1']} du {day} à {buyer}",
    }


def _finish_pdfa(pdf: bytes) -> bytes:
    """Add the PDF/A output intent factur-x leaves out, and make the document info match
    the XMP factur-x wrote (PDF/A wants them equivalent: its XMP names pypdf as producer
    and has no keywords)."""
    writer = PdfWriter(clone_from=BytesIO(pdf))
    writer.pdf_header = b"%PDF-1.7"  # PDF/A-3 is built on PDF 1.7; the clone says 1.3
    profile = DecodedStreamObject()
    profile.set_data(srgb_profile())
    profile[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject(SRGB_CONDITION),
            NameObject("/Info"): TextStringObject(SRGB_CONDITION),
            NameObject("/RegistryName"): TextStringObject("http://www.color.org"),
            NameObject("/DestOutputProfile"): writer._add_object(profile.flate_encode()),
        }
    )
    writer.root_object[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])
    info = writer._info.get_object() if writer._info is not None else None
    if info is not None:
        info.pop(NameObject("/Keywords"), None)
        info.pop(NameObject("/Trapped"), None)
        info[NameObject("/Producer")] = TextStringObject("pypdf")
        xmp = writer.root_object["/Metadata"].get_object().get_data().decode("utf-8")
        # factur-x reads the clock twice (XMP, then info): make both say the same second.
        if stamp := _XMP_CREATE_DATE.search(xmp):
            when = "D:" + re.sub(r"\D", "", stamp[1][:19]) + "+00'00'"
            for key in ("/CreationDate", "/ModDate"):
                info[NameObject(key)] = TextStringObject(when)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def facturx_pdf(data: dict[str, Any], visual_pdf: bytes, *, xml: bytes | None = None) -> bytes:
    """The visual PDF with factur-x.xml embedded (AFRelationship Data), XMP, sRGB intent."""
    xml = xml if xml is not None else invoice_xml(data)
    combined = generate_from_binary(
        visual_pdf,
        xml,
        flavor="factur-x",
        level=LEVEL,
        check_xsd=False,
        pdf_metadata=_pdf_metadata(data),
        lang="fr-FR",
        afrelationship="data",
        xmp_compression=False,  # archive tools scan for the XMP packet in clear
    )
    return _finish_pdfa(combined)


def build_invoice_pdf(
    envelope: dict[str, Any],
    body: dict[str, Any],
    *,
    training: bool = False,
    check: str | None = None,
) -> bytes:
    """Ledger record -> data dict -> visual PDF and XML from it -> Factur-X PDF/A-3;
    ``check``: the record's verification code, printed on the visual PDF."""
    data = data_dict(envelope, body, training=training)
    return facturx_pdf(data, render_invoice_pdf(data, training=training, check=check))
