"""The one place where an operational error becomes a dialog."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from app.errors import ClosureRequired, ComptoirError

log = logging.getLogger(__name__)


def show_error(parent: QWidget | None, exc: ComptoirError) -> QMessageBox:
    """Show the French message; window-modal, so the till's event loop keeps running."""
    if exc.detail:
        log.info("%s (%s)", exc.message, exc.detail)
    title = "Clôture nécessaire" if isinstance(exc, ClosureRequired) else "Opération refusée"
    box = QMessageBox(QMessageBox.Icon.Warning, title, exc.message, parent=parent)
    box.setObjectName("errorDialog")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if parent is None:
        box.exec()
    else:
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
    return box
