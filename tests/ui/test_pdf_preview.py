"""Documents on screen before paper, and on any system printer."""

from __future__ import annotations

from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QPushButton

from app.ui.widgets.pdf_preview import PdfPreviewDialog
from tests.ui.dialogs import shown_document


def _file_printer(path) -> QPrinter:
    """A system printer stand-in: Qt's own PDF output."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def test_the_x_report_is_shown_and_printed_on_a_system_printer(
    qtbot, window, shop, tmp_path
) -> None:
    window.output_x_report()
    assert "Rapport X enregistré" in (shown_document(window) or "")
    preview = window.findChild(PdfPreviewDialog, "documentPreview")
    assert preview.windowTitle() == "Rapport X"
    assert len(preview.page_labels) == 1
    assert preview.page_labels[0].pixmap().width() > 300  # drawn, not an empty frame
    assert preview.findChild(QPushButton, "printDocument").text() == "Imprimer…"
    out = tmp_path / "imprimante.pdf"
    preview.print_to(_file_printer(out))
    assert len(PdfReader(out).pages) == 1
    assert "Envoyé à l'imprimante (1 page)." in preview.said.text()


def test_a_damaged_pdf_is_said_in_french_and_not_printed(qtbot, tmp_path) -> None:
    broken = tmp_path / "Z-2026-03-02.pdf"
    broken.write_bytes(b"%PDF-1.7\n truncated")
    preview = PdfPreviewDialog(broken, "Rapport Z", said="Rapport Z enregistré.")
    qtbot.addWidget(preview)
    assert "ne peut pas être lu" in preview.said.text()
    assert preview.page_labels == [] and not preview.print_button.isEnabled()
