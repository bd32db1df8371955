"""Helpers the back-office forms share: errors shown beside a form, screens loaded lazily."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QWidget
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.ui.context import AppContext

T = TypeVar("T")

# Touch sizes, fonts and the error/status/notice looks of every form come from the
# application's theme (app/ui/theme.py): a screen that sets this style adds nothing to it.
TOUCH_STYLE = ""


@dataclass(frozen=True)
class Done(Generic[T]):
    """What a form action returned (which may itself be None)."""

    value: T


class _Refused(Exception):
    def __init__(self, error: InvalidInput) -> None:
        super().__init__(error.message)
        self.error = error


def show_form_error(label: QLabel, message: str) -> None:
    label.setText(message)
    label.setVisible(bool(message))


def error_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setProperty("role", "error")
    label.setWordWrap(True)
    label.setVisible(False)
    return label


def write_form(
    ctx: AppContext, parent: QWidget, action: Callable[[Session], T], errors: QLabel
) -> Done[T] | None:
    """Run ``action`` through ``ctx.write``; a refusal of the typed data (InvalidInput)
    rolls the transaction back and is shown in ``errors``, next to the form."""

    def guarded(session: Session) -> Done[T]:
        try:
            return Done(action(session))
        except InvalidInput as exc:
            raise _Refused(exc) from exc

    show_form_error(errors, "")
    try:
        return ctx.write(parent, guarded)
    except _Refused as refused:
        show_form_error(errors, refused.error.message)
        return None


class Screen(QWidget):
    """A screen of the main window that shows ledger data. It loads nothing until it is
    first shown (a 20,000-product catalog must not slow the till's start), refreshes at
    once when a change happens while it is shown, otherwise the next time it is shown."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._stale = True
        ctx.ledger_changed.connect(self._on_ledger_changed)
        ctx.operator_changed.connect(self.refresh)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def _on_ledger_changed(self) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def refresh(self) -> None:
        self._stale = False
