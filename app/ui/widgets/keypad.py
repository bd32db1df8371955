"""An on-screen keypad that types into one line edit: for a touchscreen without a
keyboard (the PIN at login, a quantity at the till)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLineEdit, QPushButton, QSizePolicy, QWidget

BACKSPACE, CLEAR, ENTER = "←", "C", "Entrée"
TOUCH = 56  # px: above the 48 px a finger needs
DIGITS = (("7", "8", "9"), ("4", "5", "6"), ("1", "2", "3"))
# What a key types when it differs from its caption.
TYPED = {"×": "*"}
NAMES = {BACKSPACE: "backspace", CLEAR: "clear", ENTER: "enter", ",": "comma", "×": "times"}


class Keypad(QWidget):
    """Digits and a few editing keys; its buttons never take the focus away from the field."""

    def __init__(
        self,
        target: QLineEdit,
        rows: tuple[tuple[str, ...], ...],
        *,
        name: str,
        size: int = TOUCH,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.target = target
        self.setObjectName(name)
        self.setProperty("role", "keypad")  # large bold keys (app/ui/theme.py)
        self.buttons: dict[str, QPushButton] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        for r, row in enumerate(rows):
            for c, key in enumerate(row):
                if not key:
                    continue
                button = QPushButton(key)
                button.setObjectName(f"{name}_{NAMES.get(key, key)}")
                button.setMinimumSize(size, size)
                button.setMaximumHeight(size + 16)
                button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                button.clicked.connect(lambda _=False, k=key: self.press(k))
                grid.addWidget(button, r, c)
                self.buttons[key] = button

    def press(self, key: str) -> None:
        field = self.target
        if key == BACKSPACE:
            field.backspace()
        elif key == CLEAR:
            field.clear()
        elif key == ENTER:
            field.returnPressed.emit()
        else:
            field.insert(TYPED.get(key, key))
        if field.isEnabled():
            field.setFocus(Qt.FocusReason.OtherFocusReason)


def pin_rows() -> tuple[tuple[str, ...], ...]:
    return (*DIGITS, (CLEAR, "0", BACKSPACE))


def till_rows() -> tuple[tuple[str, ...], ...]:
    extra = (BACKSPACE, CLEAR, "×")
    return (
        *((*row, key) for row, key in zip(DIGITS, extra, strict=True)),
        (",", "0", "00", ENTER),
    )
