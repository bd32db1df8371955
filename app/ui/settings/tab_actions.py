"""Plumbing of the settings tabs that save a preference and run one action on it off the
GUI thread (Sauvegarde, Serveur central, Horodatage, Périphériques): their buttons, their
status line, saving with the refusal shown beside the form, and the check made before the
action starts. Kept in one place so that the tabs refuse, save and report the same way."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton
from sqlalchemy.orm import Session

from app.errors import ComptoirError
from app.ledger.operators import Permission
from app.ui.background import Background
from app.ui.context import AppContext
from app.ui.forms import show_form_error

RED, GREEN = "#c62828", "#2e7d32"


def push_button(text: str, name: str, slot: Callable[[], None]) -> QPushButton:
    """A button named for the tests, calling ``slot`` when clicked."""
    button = QPushButton(text)
    button.setObjectName(name)
    button.clicked.connect(slot)
    return button


def buttons_row(*buttons: QPushButton) -> QHBoxLayout:
    """The buttons side by side, on the left of the tab."""
    row = QHBoxLayout()
    for button in buttons:
        row.addWidget(button)
    row.addStretch(1)
    return row


def status_label(name: str) -> QLabel:
    """The line that says how the last action went."""
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    return label


def show_status(label: QLabel, text: str, *, ok: bool) -> None:
    """How the last action went, in green, or in red when it failed."""
    label.setText(text)
    label.setStyleSheet(f"color: {GREEN if ok else RED};")


def save_setting(ctx: AppContext, error: QLabel, write: Callable[[Session], object]) -> bool:
    """Run ``write`` in a ledger transaction; a refusal is shown in ``error`` and gives False."""
    try:
        with ctx.ledger.transaction() as session:
            write(session)
    except ComptoirError as exc:
        show_form_error(error, exc.message)
        return False
    return True


def ready_to_run(
    ctx: AppContext, error: QLabel, background: Background, save: Callable[[], bool]
) -> bool:
    """Whether the action may start: none is running, and what is typed was saved first when
    this operator may change it (an action must not run on a setting that was refused)."""
    show_form_error(error, "")
    if background.busy:
        return False
    return not (ctx.can(Permission.EDIT_SETTINGS) and not save())
