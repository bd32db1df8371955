"""A4 closure (Z) and running-totals (X) reports as PDF.

The Z report is the paper anchor of the chain (see app/ledger/README.md): it prints the
range of records a closure covers, the hash of the last one, the closure's own hash and
the perpetual grand totals, so an auditor can compare it with the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from app.documents.fonts import (
    BOLD,
    PRODUCER,
    REGULAR,
    a4_document,
    draw_footer,
    markup,
    register_fonts,
)
from app.documents.receipt import DEFAULT_TIMEZONE, shop_time
from app.documents.text import method_label, period_title
from app.documents.watermark import TRAINING_WATERMARK, draw_watermark
from app.ledger.closures import Closure, PeriodTotals
from app.ledger.records import document_number
from app.ledger.settings import VAT_REGIMES, FiscalSettings
from app.values.money import format_cents
from app.values.vat import format_rate

MARGIN = 18 * mm
CONTENT_WIDTH = A4[0] - 2 * MARGIN
# Amount columns of every table share one right edge.
FOUR_COLUMNS = [CONTENT_WIDTH * f for f in (0.31, 0.23, 0.23, 0.23)]
TWO_COLUMNS = [CONTENT_WIDTH * 0.77, CONTENT_WIDTH * 0.23]
GRID = colors.Color(0.6, 0.6, 0.6)
SHADE = colors.Color(0.93, 0.93, 0.93)

BODY = ParagraphStyle("body", fontName=REGULAR, fontSize=9.5, leading=12.5)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=10)
SHOP = ParagraphStyle("shop", parent=BODY, fontName=BOLD, fontSize=12, leading=15)
TITLE = ParagraphStyle(
    "title", parent=BODY, fontName=BOLD, fontSize=17, leading=21, spaceBefore=8, spaceAfter=4
)
SECTION = ParagraphStyle(
    "section", parent=BODY, fontName=BOLD, fontSize=11, leading=14, spaceBefore=10, spaceAfter=4
)
BANNER = ParagraphStyle(
    "banner",
    parent=BODY,
    fontName=BOLD,
    fontSize=11,
    leading=14,
    textColor=colors.Color(0.55, 0.1, 0.1),
    spaceAfter=4,
)


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    register_fonts()  # the paragraph parser looks the font family up right away
    return Paragraph(markup(text), style)


def _signed(cents: int) -> str:
    return ("+" if cents > 0 else "") + format_cents(cents)


def _identity(shop: FiscalSettings) -> list[Flowable]:
    lines = [
        shop.legal_form,
        shop.address,
        f"{shop.postcode} {shop.city}".strip(),
        f"SIRET {shop.siret}" if shop.siret else "",
        f"TVA intracommunautaire {shop.vat_number}" if shop.vat_number else "",
        VAT_REGIMES.get(shop.vat_regime, "") if shop.vat_regime == "franchise" else "",
    ]
    story: list[Flowable] = [_p(shop.name, SHOP)] if shop.name else []
    story += [_p(line, SMALL) for line in lines if line]
    return story


def _table(
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    *,
    total_row: bool = False,
    left_columns: int = 1,
) -> Table:
    """A ruled table: header row in bold, amounts right-aligned, optional bold last row."""
    table = Table([list(row) for row in rows], colWidths=list(widths), hAlign="LEFT")
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), REGULAR, 9.5),
        ("FONT", (0, 0), (-1, 0), BOLD, 9.5),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("ALIGN", (left_columns, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, GRID),
        ("BOX", (0, 0), (-1, -1), 0.6, GRID),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if total_row:
        style += [
            ("FONT", (0, -1), (-1, -1), BOLD, 9.5),
            ("LINEABOVE", (0, -1), (-1, -1), 0.6, GRID),
        ]
    table.setStyle(TableStyle(style))
    return table


def _vat_table(vat: Iterable[tuple[int, int, int, int]], totals: tuple[int, int, int]) -> Table:
    rows = [["Taux de TVA", "Base HT", "TVA", "Total TTC"]]
    rows += [
        [format_rate(r), format_cents(b), format_cents(v), format_cents(t)] for r, b, v, t in vat
    ]
    rows.append(["Total", *(format_cents(value) for value in totals)])
    return _table(rows, FOUR_COLUMNS, total_row=True)


def _payments_table(payments: Iterable[tuple[str, int]]) -> Table:
    rows = [["Moyen de paiement", "Montant"]]
    rows += [[method_label(method), format_cents(amount)] for method, amount in payments]
    if len(rows) == 1:
        rows.append(["Aucun règlement", format_cents(0)])
    return _table(rows, TWO_COLUMNS)


def _turnover(totals: PeriodTotals) -> list[Flowable]:
    return [
        _p(f"Tickets : {totals.tickets} (dont {totals.refunds} annulation(s) ou remboursement(s))"),
        _p("TVA par taux", SECTION),
        _vat_table(totals.vat, (totals.total_excl, totals.total_vat, totals.total)),
        _p("Règlements par moyen de paiement", SECTION),
        _payments_table(totals.payments),
    ]


def _cash_count(counted: list[dict[str, Any]]) -> list[Flowable]:
    rows = [["Moyen de paiement", "Attendu", "Compté", "Écart"]]
    for count in counted:
        if count["counted"] is None:
            continue
        rows.append(
            [
                method_label(count["method"]),
                format_cents(count["expected"]),
                format_cents(count["counted"]),
                _signed(count["difference"]),
            ]
        )
    if len(rows) == 1:
        return []
    return [_p("Comptage de caisse", SECTION), _table(rows, FOUR_COLUMNS)]


def _grand_totals(body: dict[str, Any]) -> list[Flowable]:
    rows = [
        ["Grand total", "Montant"],
        ["Chiffre d'affaires de la période (TTC)", format_cents(body["grand_total"])],
        ["Total des valeurs absolues de la période", format_cents(body["abs_total"])],
        ["Grand total perpétuel", format_cents(body["perpetual_total"])],
        ["Grand total perpétuel en valeur absolue", format_cents(body["perpetual_abs_total"])],
    ]
    return [
        _p("Grands totaux", SECTION),
        _table(rows, TWO_COLUMNS),
    ]


def _build(story: list[Flowable], title: str, *, training: bool) -> bytes:
    buffer = BytesIO()

    def on_page(canvas: Canvas, doc: BaseDocTemplate) -> None:
        if training:
            draw_watermark(canvas, *A4)
        draw_footer(canvas, f"{PRODUCER} — {title}", f"page {doc.page}", margin=MARGIN, y=10 * mm)

    doc = a4_document(buffer, title, on_page, margin=MARGIN)
    if training:
        story = [_p(TRAINING_WATERMARK, BANNER), *story]
    doc.build(story)
    return buffer.getvalue()


def closure_title(closure: Closure) -> str:
    """'Clôture journalière (Z) n° ZJ000012'."""
    number = document_number(closure.record_type, closure.number)
    return f"{closure.record_type.label} (Z) n° {number}"


def render_closure_pdf(
    closure: Closure,
    shop: FiscalSettings,
    *,
    training: bool = False,
    timezone: str = DEFAULT_TIMEZONE,
    backup: str | None = None,
) -> bytes:
    """The Z report of a day, month or year closure (A4); ``backup`` is the line about the
    ledger's last backup (app.ledger.backup.copies.backup_line), printed at the end when given."""
    body = closure.body
    title = closure_title(closure)
    story: list[Flowable] = [*_identity(shop), _p(title, TITLE)]
    story += [
        _p(period_title(closure), SECTION),
        _p(f"Clôturée le {shop_time(closure.ts, timezone)} par {closure.operator}"),
        _p(f"Enregistrements couverts : n°{body['first_seq']} à n°{body['last_seq']}"),
    ]
    if "parts" in body:
        story.append(_p(f"Clôtures incluses : {len(body['parts'])}"))
    story += _turnover(closure.totals)
    story += _cash_count(body.get("counted") or [])
    story += _grand_totals(body)
    story += [
        _p("Empreintes (SHA-256)", SECTION),
        _p("Dernier enregistrement couvert :", SMALL),
        _p(body["last_hash"], SMALL),
        _p(f"Clôture (enregistrement n°{closure.seq}) :", SMALL),
        _p(closure.hash, SHOP),
        Spacer(0, 4 * mm),
        _p(
            "Cette empreinte chaîne la clôture à tous les enregistrements qui la précèdent : "
            "conservez ce rapport, il permet de vérifier que le journal n'a pas été tronqué.",
            SMALL,
        ),
    ]
    if backup:
        story += [Spacer(0, 2 * mm), _p(backup, SMALL)]
    return _build(story, title, training=training)


def render_x_report_pdf(
    totals: PeriodTotals,
    shop: FiscalSettings,
    when: datetime,
    *,
    training: bool = False,
    timezone: str = DEFAULT_TIMEZONE,
) -> bytes:
    """Running totals since the last day closure (X); nothing is recorded."""
    local = when.astimezone(ZoneInfo(timezone)) if when.tzinfo else when
    title = "Rapport X — totaux en cours, sans clôture"
    story: list[Flowable] = [*_identity(shop), _p(title, TITLE)]
    story += [
        _p(f"Édité le {local:%d/%m/%Y à %H:%M:%S}"),
        _p(
            "Totaux depuis la dernière clôture journalière. Ce rapport n'est pas une "
            "clôture : il n'est pas enregistré dans le journal fiscal.",
            SMALL,
        ),
        Spacer(0, 2 * mm),
        *_turnover(totals),
        _p("Grands totaux", SECTION),
        _table(
            [
                ["Grand total", "Montant"],
                ["Chiffre d'affaires en cours (TTC)", format_cents(totals.total)],
                ["Total des valeurs absolues", format_cents(totals.abs_total)],
            ],
            TWO_COLUMNS,
        ),
    ]
    return _build(story, title, training=training)
