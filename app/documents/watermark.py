"""The training watermark every PDF produced from a training ledger carries.

One function, called by each renderer on every page *before* the page content, so that
the text lies across the background and the document stays readable. The colour is a
light orange without transparency: PDF/A-3 would allow an alpha channel, but a plain
light colour needs no graphics-state tricks, prints as a light grey on a black-and-white
printer, and cannot be mistaken for a real document on screen.
"""

from __future__ import annotations

import math

from reportlab.pdfgen.canvas import Canvas

from app.documents.fonts import BOLD, text_width
from app.ledger.training import TRAINING_NOTICE

TRAINING_WATERMARK = TRAINING_NOTICE
WATERMARK_RGB = (0.99, 0.80, 0.58)
_TEXT_SHARE = 0.82  # of the diagonal the text spans
_MAX_TILE_RATIO = 1.6  # taller pages than this are tiled (receipt rolls)


def draw_watermark(
    canvas: Canvas, width: float, height: float, text: str = TRAINING_WATERMARK
) -> None:
    """Large diagonal text across a page of ``width`` x ``height`` points.

    A receipt roll is much taller than wide: one diagonal across 30 cm of a 58 mm strip
    would be nearly vertical and too small to read, so the roll is cut into square-ish
    tiles and the text repeated in each.
    """
    tile = height if height <= _MAX_TILE_RATIO * width else 1.2 * width
    count = max(1, math.ceil(height / tile - 0.05))
    tile = height / count
    angle = math.degrees(math.atan2(tile, width))
    diagonal = math.hypot(width, tile)
    size = min(_TEXT_SHARE * diagonal / text_width(text, BOLD, 1), 0.16 * min(width, tile) + 8)
    canvas.saveState()
    canvas.setFillColorRGB(*WATERMARK_RGB)
    canvas.setFont(BOLD, size)
    for index in range(count):
        canvas.saveState()
        canvas.translate(width / 2, height - tile * (index + 0.5))
        canvas.rotate(angle)
        canvas.drawCentredString(0, -size / 3, text)
        canvas.restoreState()
    canvas.restoreState()
