"""A4 invoices and credit notes, drawn from the Factur-X data dict alone.

``render_invoice_pdf`` reads nothing but the EN 16931 dict built by
``app.einvoice.facturx.data_dict``: the PDF a customer reads and the XML a platform
reads are two views of the same values. Every mention French law asks of an invoice
(2026 included: both SIRENs, delivery address, nature of the operation, VAT on debits)
comes from a business term, so a mention missing here is missing in the XML too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from app.documents.fonts import (
    BOLD,
    REGULAR,
    a4_document,
    draw_footer,
    markup,
    register_fonts,
)
from app.documents.qr import qr_drawing
from app.documents.watermark import TRAINING_WATERMARK, draw_watermark
from app.values.money import THOUSANDS_SEPARATOR, format_cents
from app.values.vat import format_rate

MARGIN = 15 * mm
WIDTH = A4[0] - 2 * MARGIN
GRID = colors.Color(0.6, 0.6, 0.6)
SHADE = colors.Color(0.93, 0.93, 0.93)
_UNIT_NAMES = "C62=pièce H87=pièce KGM=kg LTR=litre MTR=mètre HUR=heure DAY=jour MON=mois SET=lot"
UNITS = dict(pair.split("=") for pair in _UNIT_NAMES.split())
OPERATIONS = {
    "B": "Livraison de biens",
    "S": "Prestation de services",
    "M": "Opération mixte (livraison de biens et prestation de services)",
}
VAT_ON_DEBITS = "Option pour le paiement de la taxe d'après les débits"
_COUNTRY_NAMES = (
    "AT=Autriche BE=Belgique BG=Bulgarie CH=Suisse CY=Chypre CZ=Tchéquie DE=Allemagne "
    "DK=Danemark EE=Estonie ES=Espagne FI=Finlande GB=Royaume-Uni GR=Grèce HR=Croatie "
    "HU=Hongrie IE=Irlande IT=Italie LT=Lituanie LU=Luxembourg LV=Lettonie MC=Monaco "
    "MT=Malte NL=Pays-Bas PL=Pologne PT=Portugal RO=Roumanie SE=Suède SI=Slovénie "
    "SK=Slovaquie"
)
COUNTRIES = dict(pair.split("=") for pair in _COUNTRY_NAMES.split())
# A Table sets its cell font even around flowables: without this, Helvetica gets in.
_FONTED: list[tuple[Any, ...]] = [
    ("FONT", (0, 0), (-1, -1), REGULAR, 8.5),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
]
_FLUSH = [*_FONTED, ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]
LEGAL_NOTES = ("PMD", "PMT", "AAB")  # late-payment penalties, recovery fee, discount

BODY = ParagraphStyle("inv-body", fontName=REGULAR, fontSize=8.5, leading=11)
SMALL = ParagraphStyle("inv-small", parent=BODY, fontSize=7.5, leading=9.5)
CELL = ParagraphStyle("inv-cell", parent=BODY, fontSize=8.5, leading=10.5)
NAME = ParagraphStyle("inv-name", parent=BODY, fontName=BOLD, fontSize=12.5, leading=15.5)
TITLE = ParagraphStyle(
    "inv-title", parent=BODY, fontName=BOLD, fontSize=16, leading=20, alignment=2
)
RIGHT = ParagraphStyle("inv-right", parent=BODY, alignment=2)
HEAD = ParagraphStyle(
    "inv-head", parent=BODY, fontName=BOLD, fontSize=9.5, leading=12, spaceBefore=7, spaceAfter=3
)
RED = colors.Color(0.55, 0.1, 0.1)
BANNER = ParagraphStyle("inv-banner", parent=HEAD, fontSize=11, leading=14, textColor=RED)
SELF_BILLED_STYLE = ParagraphStyle(
    "inv-self-billed", parent=BODY, fontName=BOLD, fontSize=11, leading=14, alignment=2
)
SELF_BILLED_CODES = ("389", "261")  # drawn up by the buyer in the seller's name


# -- values of the data dict ------------------------------------------------------------
def _cents(value: str) -> int:
    return int((Decimal(value) * 100).to_integral_value())


def _money(value: str) -> str:
    return format_cents(_cents(value))


def _date(value: str) -> str:
    return date.fromisoformat(value).strftime("%d/%m/%Y")


def _qty(value: str) -> str:
    return format(Decimal(value).normalize(), "f").replace(".", ",")


def _price(value: str) -> str:
    """A unit price, to the cent. Prices are typed to the cent; one with more decimals was
    derived (1,2796 € HT from 1,54 € TTC) and is shown rounded: the line amounts and the
    totals are computed from the price as typed, never from this one, so they stay exact
    (the XML carries the four decimals, BT-146). Only a price below the cent (0,0045 €),
    which no one would read as 0,00 €, keeps its decimals."""
    price = Decimal(value)
    rounded = price.quantize(Decimal("0.01"), ROUND_HALF_UP)
    if rounded or not price:
        return format_cents(int(rounded * 100))
    whole, _, decimals = format(price.normalize(), "f").partition(".")
    grouped = f"{int(whole):,}".replace(",", THOUSANDS_SEPARATOR)
    return f"{grouped},{decimals} €"


# The VAT column names an exempt category in words, not by its EN 16931 code; the exact
# legal wording (BT-120) is printed under the table.
CATEGORY_WORDS = {
    "Z": "taux zéro",
    "E": "exonéré",
    "AE": "autoliq.",
    "K": "intracom.",
    "G": "export",
    "O": "hors champ",
}


def _rate(category: str, rate: str | None) -> str:
    if category == "O":
        return CATEGORY_WORDS["O"]
    text = format_rate(int(Decimal(rate or "0") * 100))
    words = CATEGORY_WORDS.get(category)
    return f"{text} {words}" if words else text


def _p(text: str, style: ParagraphStyle = BODY, *, bold: bool = False) -> Paragraph:
    register_fonts()  # the paragraph parser looks the font family up right away
    body = markup(text).replace("\n", "<br/>")
    return Paragraph(f"<b>{body}</b>" if bold else body, style)


# -- blocks ---------------------------------------------------------------------------
def _address_lines(party: dict[str, Any]) -> list[str]:
    lines = [party[key] for key in ("addr_l1", "addr_l2", "addr_l3") if party.get(key)]
    lines.append(f"{party.get('postcode', '')} {party.get('city', '')}".strip())
    country = party.get("country_code", "FR")
    if country != "FR":
        lines.append(f"{COUNTRIES.get(country, country)} ({country})")
    return [line for line in lines if line]


def _identifiers(party: dict[str, Any]) -> list[str]:
    lines = []
    if party.get("legal_identifier"):
        lines.append(f"SIREN {party['legal_identifier']}")
    if siret := (party.get("identifiers") or {}).get("0009"):
        lines.append(f"SIRET {siret}")
    if party.get("vat_identifier"):
        lines.append(f"N° TVA intracommunautaire {party['vat_identifier']}")
    for contact in party.get("contacts") or []:
        if contact.get("phone"):
            lines.append(f"Tél. {contact['phone']}")
        if contact.get("email"):
            lines.append(f"E-mail {contact['email']}")
    if party.get("einvoicing_addr"):
        lines.append(f"Adresse électronique : {party['einvoicing_addr']}")
    return lines


def _header(data: dict[str, Any]) -> Table:
    seller = data["BG-4"]
    left: list[Flowable] = [_p(seller["name"], NAME)]
    lines = [seller.get("legal_info", ""), *_address_lines(seller)]
    left += [_p(line) for line in lines if line]
    left += [_p(line, SMALL) for line in _identifiers(seller)]
    right: list[Flowable] = [
        _p(f"{_title(data)} n° {data['BT-1']}", TITLE),
        _p(f"Date d'émission : {_date(data['BT-2'])}", RIGHT),
    ]
    if data["BT-3"] in SELF_BILLED_CODES:
        right.insert(1, _p("AUTOFACTURATION", SELF_BILLED_STYLE))
    for preceding in data.get("BG-3") or []:
        text = f"se rapportant à la facture {preceding['BT-25']} du {_date(preceding['BT-26'])}"
        right.append(_p(text, RIGHT))
    if data.get("BT-72"):
        right.append(_p(f"Date de livraison : {_date(data['BT-72'])}", RIGHT))
    if data.get("BT-9"):
        right.append(_p(f"Date d'échéance : {_date(data['BT-9'])}", RIGHT))
    if data.get("BT-13"):
        right.append(_p(f"Votre commande : {data['BT-13']}", RIGHT))
    if data.get("BT-10"):
        right.append(_p(f"Code service : {data['BT-10']}", RIGHT))
    table = Table([[left, right]], colWidths=[WIDTH * 0.56, WIDTH * 0.44])
    table.setStyle(TableStyle(_FLUSH))
    return table


def _title(data: dict[str, Any]) -> str:
    """FACTURE, AVOIR; a self-billed invoice (389) or credit note (261) says so."""
    return {"381": "AVOIR", "389": "FACTURE", "261": "AVOIR"}.get(data["BT-3"], "FACTURE")


def _same_place(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("addr_l1", "addr_l2", "addr_l3", "postcode", "city", "country_code")
    return all((a.get(k) or "").strip().lower() == (b.get(k) or "").strip().lower() for k in keys)


def _parties(data: dict[str, Any]) -> Table:
    buyer = data["BG-7"]
    who = "Acheteur, émetteur du document" if data["BT-3"] in SELF_BILLED_CODES else "Client"
    client = [_p(who, HEAD), _p(buyer["name"], bold=True)]
    client += [_p(line) for line in _address_lines(buyer)]
    client += [_p(line, SMALL) for line in _identifiers(buyer)]
    delivery, place = data.get("BG-13"), []
    if delivery and not _same_place(delivery, buyer):
        place = [_p("Adresse de livraison", HEAD), _p(delivery["name"], bold=True)]
        place += [_p(line) for line in _address_lines(delivery)]
    table = Table([[client, place]], colWidths=[WIDTH * 0.5, WIDTH * 0.5])
    style = [
        *_FONTED,
        ("BOX", (0, 0), (0, 0), 0.6, GRID),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
    ]
    if place:
        style.append(("BOX", (1, 0), (1, 0), 0.6, GRID))
    table.setStyle(TableStyle(style))
    return table


def _operation(data: dict[str, Any]) -> list[Flowable]:
    nature = OPERATIONS.get(data["BT-23"][:1], data["BT-23"])
    story: list[Flowable] = [Spacer(0, 3 * mm), _p(f"Nature de l'opération : {nature}")]
    if data.get("BT-8") == "5":
        story.append(_p(VAT_ON_DEBITS, bold=True))
    for note in data.get("BG-1") or []:
        if note.get("BT-21") in (None, "AAI") and note["BT-22"] != TRAINING_WATERMARK:
            story.append(_p(note["BT-22"]))
    return story


def _ruled(rows: list[list[Any]], widths: Sequence[float], bold: Sequence[int] = ()) -> Table:
    """A table with a shaded header row and every column but the first right-aligned."""
    table = Table(rows, colWidths=list(widths), repeatRows=1, hAlign="LEFT")
    style: list[tuple[Any, ...]] = [
        *_FONTED,
        ("FONT", (0, 0), (-1, 0), BOLD, 8.5),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.3, GRID),
        ("BOX", (0, 0), (-1, -1), 0.6, GRID),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    style += [("FONT", (0, row), (-1, row), BOLD, 8.5) for row in bold]
    table.setStyle(TableStyle(style))
    return table


def _lines(data: dict[str, Any]) -> Table:
    rows: list[list[Any]] = [
        ["Désignation", "Qté", "Unité", "PU HT", "Remise", "TVA", "Montant HT"]
    ]
    for line in data["BG-25"]:
        discount = sum(_cents(a["amount"]) for a in line.get("BG-27") or [])
        unit = UNITS.get(line["BT-130"], line["BT-130"])
        label, price = _p(line["BT-153"], CELL), _price(line["BT-146"])
        rate, net = _rate(line["BT-151"], line.get("BT-152")), _money(line["BT-131"])
        remise = format_cents(-discount) if discount else ""
        rows.append([label, _qty(line["BT-129"]), unit, price, remise, rate, net])
    widths = [w * mm for w in (66, 15, 15, 22, 18, 16)]
    return _ruled(rows, [*widths, WIDTH - sum(widths)])


def _allowances_charges(data: dict[str, Any]) -> list[Flowable]:
    rows: list[list[Any]] = [
        ["Remises et frais sur le total", "TVA", "Base HT", "Taux", "Montant HT"]
    ]
    for key, sign in (("BG-20", -1), ("BG-21", 1)):
        for row in data.get(key) or []:
            rate = _rate(row["vat_category_code"], row.get("vat_rate"))
            base = _money(row["base_amount"]) if row.get("base_amount") else ""
            share = f"{_qty(row['rate'])} %" if row.get("rate") else ""
            signed = format_cents(sign * _cents(row["amount"]))
            rows.append([_p(row["reason"], CELL), rate, base, share, signed])
    if len(rows) == 1:
        return []
    widths = [w * mm for w in (96, 16, 22, 18)]
    table = _ruled(rows, [*widths, WIDTH - sum(widths)])
    return [Spacer(0, 3 * mm), KeepTogether([table])]


def _vat_table(data: dict[str, Any]) -> Table:
    rows: list[list[Any]] = [["TVA", "Base HT", "Montant TVA", "Total TTC"]]
    for row in data["BG-23"]:
        base, vat = _cents(row["BT-116"]), _cents(row["BT-117"])
        amounts = (format_cents(base), format_cents(vat), format_cents(base + vat))
        rows.append([_rate(row["BT-118"], row.get("BT-119")), *amounts])
    return _ruled(rows, [26 * mm, 26 * mm, 24 * mm, 26 * mm])


def _totals_table(data: dict[str, Any]) -> Table:
    credit = data["BT-3"] in ("381", "261")
    rows: list[list[Any]] = [["Totaux", ""]]
    if _cents(data["BT-107"]) or _cents(data["BT-108"]):
        rows.append(["Total HT des lignes", _money(data["BT-106"])])
        if _cents(data["BT-107"]):
            rows.append(["Remises", format_cents(-_cents(data["BT-107"]))])
        if _cents(data["BT-108"]):
            rows.append(["Frais", _money(data["BT-108"])])
    rows += [
        ["Total HT", _money(data["BT-109"])],
        ["Total TVA", _money(data["BT-110"])],
        ["Total TTC de l'avoir" if credit else "Total TTC", _money(data["BT-112"])],
    ]
    bold = [len(rows) - 1]
    if _cents(data["BT-113"]):
        rows.append(["Déjà réglé", format_cents(-_cents(data["BT-113"]))])
    rows.append(["À rembourser ou déduire" if credit else "Net à payer", _money(data["BT-115"])])
    bold.append(len(rows) - 1)
    return _ruled(rows, [42 * mm, 30 * mm], bold)


def _summary(data: dict[str, Any]) -> Table:
    table = Table([[_vat_table(data), _totals_table(data)]], colWidths=[WIDTH - 72 * mm, 72 * mm])
    table.setStyle(TableStyle(_FLUSH))
    return table


def _exemptions(data: dict[str, Any]) -> list[Flowable]:
    mentions: list[str] = []
    for row in data["BG-23"]:
        text = row.get("BT-120") or ""
        if row["BT-118"] == "AE" and "autoliquidation" not in text.lower():
            text = f"Autoliquidation — {text}" if text else "Autoliquidation"
        if text and row.get("BT-121"):
            text = f"{text} ({row['BT-121']})"
        if text and text not in mentions:
            mentions.append(text)
    return [_p(text, bold=True) for text in mentions]


def _payment(data: dict[str, Any]) -> list[Flowable]:
    story: list[Flowable] = [_p("Règlement", HEAD)]
    if data.get("BT-9"):
        story.append(_p(f"Date d'échéance : {_date(data['BT-9'])}"))
    if data.get("BT-20"):
        story.append(_p(f"Conditions de paiement : {data['BT-20']}"))
    if data.get("BT-82"):
        iban = data.get("BT-84", "")
        grouped = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
        bic = f" — BIC {data['BT-86']}" if data.get("BT-86") else ""
        story.append(
            _p(
                f"Moyen de paiement : {data['BT-82']}"
                + (f" — IBAN {grouped}{bic}" if grouped else "")
            )
        )
    notes = {note.get("BT-21"): note["BT-22"] for note in data.get("BG-1") or []}
    story += [_p(notes[code], SMALL) for code in LEGAL_NOTES if notes.get(code)]
    return story


def _check(code: str | None, whose: str = "du vendeur") -> list[Flowable]:
    """The record's verification code (``app.ledger.verify.receipt``), text and QR code."""
    if not code:
        return []
    side = 24 * mm
    words = [
        _p(
            f"Code de vérification au journal fiscal {whose} (« comptoir verify --receipt ») :",
            SMALL,
        ),
        _p(code, SMALL, bold=True),
    ]
    table = Table([[qr_drawing(code, side), words]], colWidths=[side + 3 * mm, None])
    table.setStyle(TableStyle([*_FLUSH, ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    return [Spacer(0, 4 * mm), KeepTogether([table])]


# -- document ---------------------------------------------------------------------------
def _canvas_class(footer: str) -> type[Canvas]:
    class NumberedCanvas(Canvas):
        """Defers each page so the footer can say "page 2 / 3"."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                page = f"page {number} / {len(self._pages)}"
                draw_footer(self, footer, page, margin=MARGIN, y=9 * mm)
                super().showPage()
            super().save()

    return NumberedCanvas


def render_invoice_pdf(
    data: dict[str, Any], *, training: bool = False, check: str | None = None
) -> bytes:
    """The visual invoice or credit note (A4, embedded fonts only); ``check`` is the
    verification code of its ledger record, printed under the payment terms."""
    register_fonts()
    title = f"{_title(data).capitalize()} n° {data['BT-1']}"
    if data["BT-3"] in SELF_BILLED_CODES:
        title += " (autofacturation)"
    seller = data["BG-4"]
    footer = f"{seller['name']} — SIREN {seller.get('legal_identifier', '')} — {title}"
    buffer = BytesIO()

    def on_page(canvas: Canvas, doc: BaseDocTemplate) -> None:
        if training:
            draw_watermark(canvas, *A4)

    # The footer drawn by the canvas sits below the frame.
    bottom = MARGIN + 4 * mm
    doc = a4_document(buffer, title, on_page, margin=MARGIN, bottom=bottom, author=seller["name"])
    story: list[Flowable] = [_p(TRAINING_WATERMARK, BANNER)] if training else []
    story += [
        _header(data),
        Spacer(0, 4 * mm),
        _parties(data),
        *_operation(data),
        Spacer(0, 4 * mm),
        _lines(data),
        *_allowances_charges(data),
        Spacer(0, 4 * mm),
        KeepTogether([_summary(data), Spacer(0, 2 * mm), *_exemptions(data)]),
        KeepTogether(_payment(data)),
        *_check(check, "de l'acheteur" if data["BT-3"] in SELF_BILLED_CODES else "du vendeur"),
    ]
    doc.build(story, canvasmaker=_canvas_class(footer))
    return buffer.getvalue()
