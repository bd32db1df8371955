"""What every screen needs: the open ledger, the operator, and a way to run a service."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date, datetime
from types import ModuleType
from typing import TypeVar
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget
from sqlalchemy.orm import Session

from app.errors import ComptoirError
from app.ledger.operators import OperatorInfo, Permission
from app.ledger.store import Ledger
from app.ui.errors import show_error

T = TypeVar("T")


def documents() -> ModuleType:
    """The printing service, imported on first use: ReportLab and python-escpos cost
    half a second at start-up that the till does not need to become usable."""
    return importlib.import_module("app.documents.printing")


class AppContext(QObject):
    """Shared by the screens of one main window."""

    ledger_changed = Signal()  # something was recorded: screens refresh what they show
    operator_changed = Signal()

    def __init__(self, ledger: Ledger, operator: OperatorInfo | None = None) -> None:
        super().__init__()
        self.ledger = ledger
        self.operator = operator

    @property
    def operator_name(self) -> str:
        return self.operator.name if self.operator else "?"

    def shop_now(self) -> datetime:
        """Now, by the ledger's clock, in the shop's time zone (not the computer's): what
        the screens date things with, like the records they show."""
        return self.ledger.clock().astimezone(ZoneInfo(self.ledger.timezone))

    def shop_today(self) -> date:
        return self.shop_now().date()

    def can(self, permission: Permission) -> bool:
        return self.operator is not None and self.operator.can(permission)

    def write(self, parent: QWidget | None, action: Callable[[Session], T]) -> T | None:
        """Run one action in one transaction; a refusal is shown, nothing is half-written."""
        try:
            with self.ledger.transaction() as session:
                result = action(session)
        except ComptoirError as exc:
            show_error(parent, exc)
            return None
        self.ledger_changed.emit()
        return result

    def read(self, action: Callable[[Session], T]) -> T:
        with self.ledger.reader() as session:
            return action(session)
