"""Fonts embedded in every PDF, and the page furniture all renderers share.

PDFs never use the standard-14 fonts: those are not embedded, and a viewer or printer
substitutes its own, which may lack the euro sign or the narrow no-break space that
``format_cents`` puts between thousands. DejaVu Sans Condensed (Bitstream Vera licence,
see resources/fonts/LICENSE-DejaVu.txt) has every glyph we print and keeps columns
narrow on 58 mm rolls.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

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
