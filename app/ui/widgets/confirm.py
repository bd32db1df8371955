"""Ask before an act that cannot be undone or that looks like a slip."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QMessageBox, QSizePolicy, QSpacerItem, QWidget


def ask_confirmation(
    parent: QWidget,
    title: str,
    text: str,
    *,
    yes: str,
    no: str = "Annuler",
    then: Callable[[], None],
    otherwise: Callable[[], None] | None = None,
    width: int = 520,
) -> QMessageBox:
    """A window-modal question (the event loop keeps running); ``then`` runs on « yes ».
    The safe answer is the default, so a stray Enter never confirms."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    box.setObjectName("confirmDialog")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.setTextFormat(Qt.TextFormat.PlainText)
    accept = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
    accept.setObjectName("confirmYes")
    reject = box.addButton(no, QMessageBox.ButtonRole.RejectRole)
    reject.setObjectName("confirmNo")
    for button in (accept, reject):
        button.setMinimumSize(140, 48)
    # QMessageBox sizes itself to its text's first guess: give the lines room to breathe.
    layout = box.layout()
    if isinstance(layout, QGridLayout):
        spacer = QSpacerItem(width, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Expanding)
        layout.addItem(spacer, layout.rowCount(), 0, 1, layout.columnCount())
    box.setDefaultButton(reject)
    box.setEscapeButton(reject)

    def answered(_result: int) -> None:
        if box.clickedButton() is accept:
            then()
        elif otherwise is not None:
            otherwise()

    box.finished.connect(answered)
    box.open()
    return box
