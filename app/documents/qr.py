"""QR codes in PDFs, with ReportLab's own encoder: the verification code of a receipt or
an invoice (``app.ledger.verify.receipt``), scanned by an auditor's phone or scanner."""

from __future__ import annotations

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.pdfgen.canvas import Canvas

# Level M: a fold or a smudge on thermal paper (15 % of the code) does not stop a reading.
LEVEL = "M"


def qr_drawing(text: str, side: float) -> Drawing:
    """A square drawing of ``side`` points, quiet zone included; also a platypus Flowable."""
    widget = QrCodeWidget(text, barLevel=LEVEL)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(side, side, transform=[side / (x1 - x0), 0, 0, side / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def draw_qr(canvas: Canvas, text: str, x: float, y: float, side: float) -> None:
    """Draw the QR code with its lower left corner at (x, y)."""
    renderPDF.draw(qr_drawing(text, side), canvas, x, y)
