"""The PDF documents of a tax-audit pack: the publisher's attestation on the
administration's model, how Comptoir meets the four conditions, the year's closures and
its technical events journal.

Every page of a pack made from a training or demo ledger carries the watermark, so that
no page of it can be mistaken for a real one once printed or taken out of the folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Paragraph, Spacer, Table, TableStyle

from app.documents.fonts import (
    BOLD,
    PRODUCER,
    a4_document,
    draw_footer,
    markup,
    register_fonts,
)
from app.documents.verification_report import BODY as VR_BODY
from app.documents.verification_report import (
    GRID,
    MARGIN,
    SECTION,
    SHADE,
    SMALL,
    WIDTH,
)
from app.documents.verification_report import TITLE as VR_TITLE
from app.documents.watermark import draw_watermark
from app.ledger.settings import FiscalSettings

BODY = ParagraphStyle("audit-body", parent=VR_BODY, spaceAfter=3)
CELL = ParagraphStyle("audit-cell", parent=VR_BODY, fontSize=7.5, leading=9)
TITLE = ParagraphStyle("audit-title", parent=VR_TITLE, fontSize=14, leading=18, spaceAfter=6)
BANNER = ParagraphStyle(
    "audit-banner",
    parent=BODY,
    fontName=BOLD,
    fontSize=11,
    leading=14,
    textColor=colors.Color(0.55, 0.1, 0.1),
    spaceAfter=6,
)
BLANK = "…………………………………………"


@dataclass(frozen=True)
class Publisher:
    """Who publishes the software and answers for the attestation."""

    software: str
    version: str
    name: str
    address: str
    siren: str
    representative: str


@dataclass(frozen=True)
class Condition:
    """One of the four conditions: what the BOFiP asks, how Comptoir meets it, where the
    evidence lies in the pack."""

    title: str
    paragraphs: str
    points: Sequence[tuple[str, str]]  # (how it is met, where the evidence is)


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    register_fonts()
    return Paragraph(markup(text), style)


def _build(story: list[Flowable], title: str, watermark: str | None) -> bytes:
    buffer = BytesIO()

    def on_page(canvas: Canvas, doc: BaseDocTemplate) -> None:
        if watermark:
            draw_watermark(canvas, *A4, text=watermark)
        draw_footer(canvas, f"{PRODUCER} — {title}", f"page {doc.page}", margin=MARGIN, y=10 * mm)

    doc = a4_document(buffer, title, on_page, margin=MARGIN, bottom=MARGIN + 4 * mm)
    if watermark:
        story = [_p(watermark, BANNER), *story]
    doc.build(story)
    return buffer.getvalue()


def _grid(rows: list[list[str]], widths: Sequence[float], *, header: bool = True) -> Table:
    cells = [[_p(cell, CELL) for cell in row] for row in rows]
    table = Table(cells, colWidths=list(widths), repeatRows=1 if header else 0)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
    table.setStyle(TableStyle(style))
    return table


def _shop_lines(shop: FiscalSettings) -> list[str]:
    return [
        f"Dénomination : {shop.name or BLANK}",
        f"Forme juridique : {shop.legal_form or BLANK}",
        f"SIRET : {shop.siret or BLANK}",
        f"Adresse : {', '.join(p for p in (shop.address, shop.postcode, shop.city) if p) or BLANK}",
    ]


def render_attestation_pdf(
    publisher: Publisher,
    shop: FiscalSettings,
    *,
    first_use: str,
    year: int,
    watermark: str | None = None,
) -> bytes:
    """The individual attestation, in the two parts of the administration's model: the
    publisher's, filled in, and the user's, to complete and sign."""
    title = "Attestation individuelle de l'éditeur"
    story: list[Flowable] = [
        _p(
            "ATTESTATION INDIVIDUELLE RELATIVE À L'UTILISATION D'UN LOGICIEL DE CAISSE "
            "SATISFAISANT AUX CONDITIONS D'INALTÉRABILITÉ, DE SÉCURISATION, DE CONSERVATION "
            "ET D'ARCHIVAGE DES DONNÉES (ARTICLE 286, I-3° BIS DU CODE GÉNÉRAL DES IMPÔTS)",
            TITLE,
        ),
        _p(f"Modèle BOI-LETTRE-000242 — dossier de l'exercice {year}", SMALL),
        _p("1. Partie à remplir par l'éditeur du logiciel", SECTION),
        _p(
            f"Je soussigné(e), {publisher.representative}, représentant(e) légal(e) de "
            f"{publisher.name} (SIREN {publisher.siren}), {publisher.address}, éditeur du "
            f"logiciel de caisse « {publisher.software} », atteste que ce logiciel, dans sa "
            f"version {publisher.version}, dont la version majeure est "
            f"{publisher.version.split('.')[0]}, satisfait aux conditions d'inaltérabilité, "
            "de sécurisation, de conservation et d'archivage des données en vue du contrôle "
            "de l'administration fiscale, prévues au 3° bis du I de l'article 286 du code "
            "général des impôts."
        ),
        _p(
            "La description de la manière dont chaque condition est remplie accompagne la "
            "présente attestation (document 02 du dossier)."
        ),
        _p(f"Fait à {BLANK}, le {BLANK}"),
        _p("Signature et cachet de l'éditeur :"),
        Spacer(0, 18 * mm),
        _p("2. Partie à remplir par l'entreprise utilisatrice", SECTION),
        *[_p(line) for line in _shop_lines(shop)],
        _p(
            f"Je soussigné(e), {BLANK}, représentant(e) légal(e) de l'entreprise désignée "
            f"ci-dessus, atteste utiliser depuis le {first_use} le logiciel de caisse "
            f"« {publisher.software} » dans sa version {publisher.version} décrite ci-dessus, "
            "pour enregistrer les règlements de mes clients."
        ),
        _p(f"Fait à {BLANK}, le {BLANK}"),
        _p("Signature :"),
        Spacer(0, 18 * mm),
        _p(
            "L'établissement d'une fausse attestation ou l'usage d'une fausse attestation "
            "est puni de trois ans d'emprisonnement et de 45 000 € d'amende (article 441-1 "
            "du code pénal).",
            SMALL,
        ),
        _p(
            "Depuis la loi de finances pour 2025 (article 43), l'administration peut exiger "
            "le certificat d'un organisme accrédité au lieu de l'attestation de l'éditeur : "
            "vérifiez auprès de votre conseil quel justificatif est admis à la date du "
            "contrôle. Les pièces de ce dossier (description, vérification, clôtures, "
            "archives) valent dans les deux cas.",
            SMALL,
        ),
    ]
    return _build(story, title, watermark)


def render_conditions_pdf(
    conditions: Sequence[Condition],
    shop: FiscalSettings,
    publisher: Publisher,
    *,
    year: int,
    watermark: str | None = None,
) -> bytes:
    """How Comptoir meets each condition, point by point, tied to the BOFiP paragraphs
    and to the file of the pack that shows it."""
    title = "Description des conditions"
    story: list[Flowable] = [
        _p("Comment Comptoir remplit les quatre conditions", TITLE),
        _p(
            f"{publisher.software} {publisher.version} — {shop.name or 'entreprise'} "
            f"(SIRET {shop.siret or 'non renseigné'}) — exercice {year}. Références : "
            "article 286, I-3° bis du CGI ; BOI-TVA-DECLA-30-10-30.",
            SMALL,
        ),
    ]
    for condition in conditions:
        story += [
            _p(f"{condition.title} (BOFiP {condition.paragraphs})", SECTION),
            _grid(
                [["Comment Comptoir y répond", "Où le vérifier dans ce dossier"]]
                + [[how, where] for how, where in condition.points],
                [WIDTH * 0.64, WIDTH * 0.36],
            ),
        ]
    return _build(story, title, watermark)


def render_table_pdf(
    title: str,
    intro: Sequence[str],
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    shares: Sequence[float],
    *,
    shop: FiscalSettings,
    watermark: str | None = None,
) -> bytes:
    """A titled table over as many pages as it needs (closures, technical events)."""
    story: list[Flowable] = [
        _p(shop.name or "", SECTION) if shop.name else Spacer(0, 0),
        _p(title, TITLE),
        *[_p(line, SMALL) for line in intro],
        Spacer(0, 3 * mm),
    ]
    if rows:
        story.append(_grid([list(header), *[list(r) for r in rows]], [WIDTH * s for s in shares]))
    else:
        story.append(_p("Aucune ligne pour cette période."))
    return _build(story, title, watermark)
