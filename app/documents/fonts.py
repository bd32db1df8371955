"""Fonts embedded in every PDF, and the page furniture all renderers share.

PDFs never use the standard-14 fonts: those are not embedded, and a viewer or printer
substitutes its own, which may lack the euro sign or the narrow no-break space that
``format_cents`` puts between thousands. DejaVu Sans Condensed (Bitstream Vera licence,
see resources/fonts/LICENSE-DejaVu.txt) has every glyph we print and keeps columns
narrow on 58 mm rolls.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

import app

FONTS_DIR = Path(app.__file__).resolve().parent.parent / "resources" / "fonts"
REGULAR = "Comptoir"
BOLD = "Comptoir-Bold"
FONT_FILES = {REGULAR: "DejaVuSansCondensed.ttf", BOLD: "DejaVuSansCondensed-Bold.ttf"}

PRODUCER = "Comptoir"


def register_fonts() -> None:
    """Register the embedded font family once per process (idempotent)."""
    if BOLD in pdfmetrics.getRegisteredFontNames():
        return
    for name, filename in FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(FONTS_DIR / filename)))
    # <b> in Paragraphs must map to our bold, never to Helvetica-Bold.
    pdfmetrics.registerFontFamily(
        REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD
    )


def text_width(text: str, font: str, size: float) -> float:
    register_fonts()
    return pdfmetrics.stringWidth(text, font, size)


def markup(text: str) -> str:
    """Text safe to put inside a Paragraph (labels may contain & or <)."""
    return escape(text)


def new_canvas(buffer: BytesIO, width: float, height: float, title: str) -> Canvas:
    """A canvas whose initial font is ours, so Helvetica never lands in the resources."""
    register_fonts()
    canvas = Canvas(
        buffer,
        pagesize=(width, height),
        initialFontName=REGULAR,
        initialFontSize=9,
        pageCompression=1,
    )
    canvas.setTitle(title)
    canvas.setCreator(PRODUCER)
    canvas.setProducer(PRODUCER)
    return canvas


def a4_document(
    buffer: BytesIO,
    title: str,
    on_page: Callable[[Canvas, BaseDocTemplate], None],
    *,
    margin: float,
    bottom: float | None = None,
    author: str | None = None,
) -> BaseDocTemplate:
    """An A4 document flowing into one frame ``margin`` from the edges (``bottom`` from
    the foot when a footer needs room), with our font from the first page and our
    metadata: every A4 renderer starts here so none lets Helvetica in or forgets the
    language."""
    register_fonts()
    bottom = margin if bottom is None else bottom
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=bottom,
        title=title,
        author=author,
        creator=PRODUCER,
        producer=PRODUCER,
        lang="fr-FR",
        initialFontName=REGULAR,
    )
    frame = Frame(
        margin,
        bottom,
        A4[0] - 2 * margin,
        A4[1] - margin - bottom,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates([PageTemplate("page", frames=[frame], onPage=on_page)])
    return doc


def draw_footer(canvas: Canvas, left: str, right: str, *, margin: float, y: float) -> None:
    """The small grey line at the foot of an A4 page: what the document is on the left,
    the page number on the right, both ``margin`` from the edges."""
    canvas.saveState()
    canvas.setFont(REGULAR, 7.5)
    canvas.setFillGray(0.35)
    canvas.drawString(margin, y, left)
    canvas.drawRightString(A4[0] - margin, y, right)
    canvas.restoreState()
