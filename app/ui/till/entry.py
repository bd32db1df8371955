"""What the cashier types at the till: « 24* » (a quantity for the next item), a code,
or both (« 24*3760123450010 »); and the scanner, recognised wherever the focus is."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit

from app.errors import InvalidInput
from app.values.money import to_decimal

TIMES = "*xX×"
_ENTRY = re.compile(r"^\s*(?:(?P<qty>\d+(?:[.,]\d+)?)\s*[*xX×])?\s*(?P<code>\d*)\s*$")
# A scanner types a whole code in a few milliseconds; a person needs far more than this
# between two keys.
SCANNER_GAP_S = 0.05
MIN_CODE, MAX_CODE = 8, 14


@dataclass(frozen=True)
class Entry:
    quantity: Decimal | None
    code: str


def parse_entry(text: str) -> Entry:
    """« 24* » → quantity 24, no code; « 2*376… » → both; « 376… » → the code alone."""
    match = _ENTRY.match(text)
    if match is None:
        raise InvalidInput(
            f"Saisie non reconnue : « {text.strip()} » (ex. « 24* » puis l'article)."
        )
    quantity = None
    if match["qty"] is not None:
        quantity = to_decimal(match["qty"].replace(",", "."), "Quantité")
        if quantity <= 0:
            raise InvalidInput("La quantité doit être strictement positive.")
    return Entry(quantity, match["code"])


def is_code(text: str) -> bool:
    """A barcode as a scanner sends it, possibly after a typed quantity."""
    match = _ENTRY.match(text)
    return match is not None and MIN_CODE <= len(match["code"]) <= MAX_CODE


def ends_with_times(text: str) -> bool:
    return bool(text) and text[-1] in TIMES and _ENTRY.match(text) is not None


class ScanCatcher(QObject):
    """Watches a text field that is not the scanner field (the product search): a code
    typed there at scanner speed and ended by Enter, or a whole code then Enter, is taken
    out of the field and handed over as ``scanned``."""

    scanned = Signal(str)

    def __init__(self, field: QLineEdit) -> None:
        super().__init__(field)
        self.field = field
        self._burst = ""
        self._last = 0.0
        field.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is not self.field or event.type() != QEvent.Type.KeyPress:
            return False
        assert isinstance(event, QKeyEvent)
        now = time.monotonic()
        fast = now - self._last <= SCANNER_GAP_S
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            burst, self._burst = (self._burst if fast else ""), ""
            text = self.field.text()
            if is_code(burst) and text.endswith(burst):
                self.field.setText(text[: len(text) - len(burst)])
                self.scanned.emit(burst.strip())
                return True
            if is_code(text):
                self.field.clear()
                self.scanned.emit(text.strip())
                return True
            return False
        typed = event.text()
        if typed and typed.isprintable():
            self._burst = self._burst + typed if fast else typed
            self._last = now
        return False
