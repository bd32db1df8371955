"""Answering the window-modal questions the screens ask, as a user would: by a click."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton


def open_confirmations() -> list[QMessageBox]:
    return [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.objectName() == "confirmDialog" and w.isVisible()
    ]


def answer_confirmation(qtbot, *, yes: bool = True) -> str:
    """Wait for the confirmation box, click « yes » (or « no »); returns what it said."""
    qtbot.waitUntil(lambda: bool(open_confirmations()))
    [box] = open_confirmations()
    text = box.text()
    button = box.findChild(QPushButton, "confirmYes" if yes else "confirmNo")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not open_confirmations())
    return text


def shown_document(parent) -> str | None:
    """What the document preview shown over ``parent`` says (recorded, printed…), or None."""
    from app.ui.widgets.pdf_preview import PdfPreviewDialog

    preview = parent.findChild(PdfPreviewDialog, "documentPreview")
    return preview.said.text() if preview is not None else None
