"""Draw Comptoir's icon: a white till on the shop's blue, as PNG and Windows ICO.

The icon is drawn from code rather than kept only as a binary so that a colour or a shape
can be changed and every size rebuilt the same way. Run it after a change and commit the
files it writes (the build uses them, it does not redraw them)::

    QT_QPA_PLATFORM=offscreen .venv/bin/python installer/make_icon.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPolygonF

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
BLUE = QColor("#1f6feb")
WHITE = QColor("#ffffff")
GRID = 256.0  # the drawing's own units; the painter scales them to the image
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]


def _rect(painter: QPainter, x: float, y: float, w: float, h: float, radius: float) -> None:
    painter.drawRoundedRect(QRectF(x, y, w, h), radius, radius)


def draw(size: int) -> QImage:
    """The icon at ``size`` pixels square, on a transparent background."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(size / GRID, size / GRID)
    painter.setPen(Qt.PenStyle.NoPen)

    painter.setBrush(BLUE)
    _rect(painter, 8, 8, 240, 240, 52)

    painter.setBrush(WHITE)
    _rect(painter, 90, 40, 76, 42, 8)  # customer display
    painter.drawRect(QRectF(121, 80, 14, 18))  # its stand
    body = QPolygonF([QPointF(80, 96), QPointF(176, 96), QPointF(194, 176), QPointF(62, 176)])
    painter.drawPolygon(body)
    _rect(painter, 48, 184, 160, 32, 7)  # cash drawer

    painter.setBrush(BLUE)
    _rect(painter, 99, 49, 58, 24, 4)  # the display's screen
    for row, top in enumerate((110.0, 138.0)):
        inset = 4.0 * row  # the keys follow the slope of the body
        for col in range(3):
            _rect(painter, 90 - inset + col * (28 + inset), top, 20 + inset, 16, 3)
    _rect(painter, 106, 196, 44, 8, 4)  # the drawer's handle
    painter.end()
    return image


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv)
    ICONS.mkdir(parents=True, exist_ok=True)
    png = ICONS / "comptoir.png"
    if not draw(256).save(str(png)):
        print(f"cannot write {png}", file=sys.stderr)
        return 1
    draw(1024).save(str(ICONS / "comptoir-1024.png"))  # macOS .icns source
    try:
        from PIL import Image
    except ImportError:
        print("Pillow is needed for the .ico", file=sys.stderr)
        return 1
    with Image.open(ICONS / "comptoir-1024.png") as big:
        big.save(ICONS / "comptoir.ico", sizes=ICO_SIZES)
    del app
    print(f"written: {png}, comptoir-1024.png, comptoir.ico in {ICONS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
