"""The printable report of an integrity check (ledger or archive), as an A4 PDF.

An auditor keeps it with the archives: what was checked, when, by whom, the verdict in
plain words, and every finding with the record and the file it is about. The findings
come in as plain values so that a ledger verification and an archive verification print
the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

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
from app.documents.watermark import draw_watermark
from app.errors import ComptoirError

MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN
GRID = colors.Color(0.6, 0.6, 0.6)
SHADE = colors.Color(0.93, 0.93, 0.93)
GOOD = colors.Color(0.1, 0.42, 0.16)
BAD = colors.Color(0.6, 0.1, 0.1)
LEDGER_METHOD = (
    "La vérification recalcule l'empreinte de chaque enregistrement, contrôle sa signature "
    "avec la clé publique enregistrée dans la chaîne, la numérotation sans trou et les "
    "totaux de chaque clôture."
)
ARCHIVE_METHOD = (
    "La vérification contrôle la signature du manifeste de l'archive, l'empreinte SHA-256 "
    "de chaque fichier qu'il liste, puis l'empreinte et la signature de chaque "
    "enregistrement de la chaîne archivée."
)
MAX_FINDINGS = 5000  # beyond, the report says how many more there are

BODY = ParagraphStyle("vr-body", fontName=REGULAR, fontSize=9.5, leading=12.5)
SMALL = ParagraphStyle("vr-small", parent=BODY, fontSize=8.5, leading=11)
CELL = ParagraphStyle("vr-cell", parent=BODY, fontSize=8.5, leading=10.5)
TITLE = ParagraphStyle("vr-title", parent=BODY, fontName=BOLD, fontSize=17, leading=21)
SECTION = ParagraphStyle(
    "vr-section", parent=BODY, fontName=BOLD, fontSize=11, leading=14, spaceBefore=10, spaceAfter=4
)


@dataclass(frozen=True)
class ReportFinding:
    seq: int | None
    file: str
    message: str


@dataclass(frozen=True)
class VerificationSummary:
    """What a verification found, in words ready to print."""

    source: str  # "Journal en cours (…/journal.sqlite)", "Archive 2026.zip"
    verdict: str  # the French one-paragraph verdict of the verification
    ok: bool
    cancelled: bool
    records: int
    operator: str
    checked_at: datetime  # shop time
    findings: Sequence[ReportFinding] = ()
    notices: Sequence[str] = ()
    shop_name: str = ""
    details: Sequence[tuple[str, str]] = field(default_factory=tuple)  # extra label/value rows
    method: str = LEDGER_METHOD  # what the check covers, printed at the end
    watermark: str | None = None  # training or demonstration mention on every page


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    register_fonts()
    return Paragraph(markup(text), style)


def _facts(summary: VerificationSummary) -> Table:
    rows = [
        ("Objet vérifié", summary.source),
        ("Vérifié le", f"{summary.checked_at:%d/%m/%Y à %H:%M:%S}"),
        ("Par", summary.operator),
        ("Enregistrements vérifiés", f"{summary.records:,}".replace(",", "\u202f")),
        *summary.details,
    ]
    table = Table(
        [[_p(label, SMALL), _p(value, SMALL)] for label, value in rows],
        colWidths=[WIDTH * 0.3, WIDTH * 0.7],
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), REGULAR, 8.5),  # never the non-embedded default
                ("BOX", (0, 0), (-1, -1), 0.6, GRID),
                ("BACKGROUND", (0, 0), (0, -1), SHADE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _verdict(summary: VerificationSummary) -> list[Flowable]:
    if summary.cancelled:
        head, colour = "Vérification interrompue", BAD
    elif summary.ok:
        head, colour = "Intégrité vérifiée", GOOD
    else:
        head, colour = "Anomalies constatées", BAD
    style = ParagraphStyle("vr-verdict", parent=SECTION, textColor=colour, fontSize=13)
    return [_p(head, style), _p(summary.verdict)]


def _findings(findings: Sequence[ReportFinding]) -> list[Flowable]:
    if not findings:
        return [_p("Aucune anomalie.", BODY)]
    shown = findings[:MAX_FINDINGS]
    rows: list[list[Any]] = [[_p("N°", CELL), _p("Fichier", CELL), _p("Constat", CELL)]]
    rows += [
        [_p("" if f.seq is None else str(f.seq), CELL), _p(f.file, CELL), _p(f.message, CELL)]
        for f in shown
    ]
    table = Table(
        rows, colWidths=[WIDTH * 0.11, WIDTH * 0.22, WIDTH * 0.67], repeatRows=1, hAlign="LEFT"
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), REGULAR, 8.5),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, GRID),
                ("BOX", (0, 0), (-1, -1), 0.6, GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story: list[Flowable] = [table]
    if len(findings) > MAX_FINDINGS:
        story.append(_p(f"… et {len(findings) - MAX_FINDINGS} autre(s) anomalie(s).", SMALL))
    return story


def render_verification_pdf(summary: VerificationSummary) -> bytes:
    title = "Rapport de vérification d'intégrité"
    buffer = BytesIO()

    def on_page(canvas: Canvas, doc: BaseDocTemplate) -> None:
        if summary.watermark:
            draw_watermark(canvas, *A4, text=summary.watermark)
        footer = f"{PRODUCER} — {title} — {summary.source}"[:120]
        draw_footer(canvas, footer, f"page {doc.page}", margin=MARGIN, y=10 * mm)

    doc = a4_document(buffer, title, on_page, margin=MARGIN)
    story: list[Flowable] = []
    if summary.watermark:
        story.append(_p(summary.watermark, SECTION))
    if summary.shop_name:
        story.append(_p(summary.shop_name, SECTION))
    story += [_p(title, TITLE), Spacer(0, 4 * mm), _facts(summary), *_verdict(summary)]
    if summary.notices:
        story.append(_p("Remarques", SECTION))
        story += [_p(f"• {notice}", SMALL) for notice in summary.notices]
    story.append(_p("Constats", SECTION))
    story += _findings(summary.findings)
    story += [
        Spacer(0, 6 * mm),
        _p(summary.method, SMALL),
    ]
    doc.build(story)
    return buffer.getvalue()


def write_verification_pdf(summary: VerificationSummary, path: Path) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(render_verification_pdf(summary))
    except OSError as exc:
        raise ComptoirError(
            f"Le rapport {path} n'a pas pu être écrit : {exc.strerror or exc}."
        ) from exc
    return path
