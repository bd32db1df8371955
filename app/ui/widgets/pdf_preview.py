"""A document on screen before paper: the PDF's pages drawn as they will print, then
printed to any printer of the system (Qt print support) or opened in the PDF reader.

Pages are drawn with PDFium (pypdfium2) from the very file kept on disk, so what is seen
and what is printed is what was recorded."""

from __future__ import annotations

import logging
from pathlib import Path

import pypdfium2 as pdfium
from PySide6.QtCore import QRect, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QImage, QPainter, QPixmap
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.ui.forms import TOUCH_STYLE

log = logging.getLogger(__name__)

SCREEN_DPI = 110  # sharp enough to read a receipt's small print, light enough to be quick
PRINT_DPI = 300
MAX_PAGES = 50  # a preview of a very long document shows its beginning


class PreviewError(Exception):
    """The PDF could not be read (missing, truncated or not a PDF)."""


def render_pages(
    path: Path, *, dpi: int = SCREEN_DPI, limit: int = MAX_PAGES, max_width: int | None = None
) -> list[QImage]:
    """The first ``limit`` pages of the PDF as images at ``dpi``, or narrower so that each
    fits ``max_width`` pixels."""
    try:
        document = pdfium.PdfDocument(str(path))
    except (pdfium.PdfiumError, OSError) as exc:
        raise PreviewError(f"Le document « {path.name} » ne peut pas être lu ({exc}).") from None
    try:
        images = []
        for index in range(min(len(document), limit)):
            page = document[index]
            scale = dpi / 72
            if max_width is not None:
                scale = min(scale, max_width / max(page.get_width(), 1.0))
            bitmap = page.render(scale=scale)
            pil = bitmap.to_pil().convert("RGB")
            data = pil.tobytes("raw", "RGB")
            image = QImage(data, pil.width, pil.height, 3 * pil.width, QImage.Format.Format_RGB888)
            images.append(image.copy())  # own the pixels: ``data`` goes away
            page.close()
        return images
    finally:
        document.close()


def print_pdf(path: Path, printer: QPrinter) -> int:
    """Every page of the PDF on ``printer``, each fitted to the printable area; the number
    of pages sent."""
    pages = render_pages(path, dpi=PRINT_DPI, limit=10_000)
    painter = QPainter()
    if not painter.begin(printer):
        raise PreviewError("L'imprimante n'a pas pu être ouverte.")
    try:
        for index, image in enumerate(pages):
            if index:
                printer.newPage()
            area = painter.viewport()
            size = image.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            painter.drawImage(QRect(area.x(), area.y(), size.width(), size.height()), image)
    finally:
        painter.end()
    return len(pages)


class PdfPreviewDialog(QDialog):
    """The pages, a line saying what happened (recorded, printed…), and what to do next."""

    def __init__(
        self, path: Path, title: str, *, said: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.path = path
        self.setWindowTitle(title)
        self.setObjectName("documentPreview")
        self.setStyleSheet(TOUCH_STYLE)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.said = QLabel(said)
        self.said.setObjectName("previewSaid")
        self.said.setWordWrap(True)
        self.said.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pages = QWidget()
        column = QVBoxLayout(self.pages)
        column.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.page_labels: list[QLabel] = []
        available = self._available()
        try:
            images = render_pages(path, max_width=available.width() - 140)
        except PreviewError as exc:
            images = []
            self.said.setText(f"{said}\n{exc}".strip())
        for image in images:
            label = QLabel()
            label.setPixmap(QPixmap.fromImage(image))
            label.setStyleSheet("background: white; border: 1px solid #9a9a9a;")
            column.addWidget(label)
            self.page_labels.append(label)
        scroll = QScrollArea()
        scroll.setObjectName("previewPages")
        scroll.setWidget(self.pages)
        scroll.setWidgetResizable(True)
        scroll.setStyleSheet("QScrollArea { background: #5f6368; }")
        self.print_button = QPushButton("Imprimer…")
        self.print_button.setObjectName("printDocument")
        self.print_button.setEnabled(bool(images))
        self.print_button.clicked.connect(self.print_document)
        open_file = QPushButton("Ouvrir le fichier")
        open_file.setObjectName("openDocument")
        open_file.clicked.connect(self.open_file)
        close = QPushButton("Fermer")
        close.setObjectName("closePreview")
        close.setDefault(True)
        close.clicked.connect(self.accept)
        bar = QHBoxLayout()
        bar.addWidget(open_file)
        bar.addStretch(1)
        bar.addWidget(self.print_button)
        bar.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.said)
        layout.addWidget(scroll, 1)
        layout.addLayout(bar)
        self._fit()

    def _available(self) -> QRect:
        screen = self.screen()
        return screen.availableGeometry() if screen is not None else QRect(0, 0, 1024, 768)

    def _fit(self) -> None:
        """As large as the pages, never larger than the screen."""
        width = max((label.pixmap().width() for label in self.page_labels), default=600)
        available = self._available()
        self.resize(min(width + 100, available.width() - 40), available.height() - 80)

    def printer(self) -> QPrinter:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.path.name)
        return printer

    def print_document(self) -> None:
        printer = self.printer()
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("Imprimer")
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.print_to(printer)

    def print_to(self, printer: QPrinter) -> None:
        try:
            count = print_pdf(self.path, printer)
        except PreviewError as exc:
            self.said.setText(str(exc))
            return
        pages = f"{count} page{'s' if count > 1 else ''}"
        self.said.setText(f"{self.said.text()}\nEnvoyé à l'imprimante ({pages}).".strip())

    def open_file(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path)))


def show_pdf(
    path: Path, title: str, *, said: str = "", parent: QWidget | None = None
) -> PdfPreviewDialog:
    """Open the preview, window-modal (the event loop keeps running); returns the dialog."""
    dialog = PdfPreviewDialog(path, title, said=said, parent=parent)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.open()
    return dialog
