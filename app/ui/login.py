"""Operators log in with their PIN: typed, or on the on-screen pad of a touchscreen.

The same dialog changes the operator and unlocks a locked till from the main window.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ledger.operators import OperatorInfo
from app.ledger.store import Ledger
from app.staff.service import attempt_login, list_operators
from app.ui.widgets.keypad import Keypad, pin_rows

TOUCH = 56
EMPTY_PIN = "Saisissez votre code PIN."


class LoginDialog(QDialog):
    """``locked_by``: the till is locked by that operator; the dialog cannot be dismissed,
    only answered with a PIN (anyone's: the one who unlocks takes over)."""

    def __init__(
        self,
        ledger: Ledger,
        parent: QWidget | None = None,
        *,
        current: str | None = None,
        locked_by: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.ledger = ledger
        self.operator: OperatorInfo | None = None
        self.locked = locked_by is not None
        if self.locked:
            self.setWindowTitle("Comptoir — caisse verrouillée")
        elif current is not None:
            self.setWindowTitle("Comptoir — changer d'opérateur")
        else:
            self.setWindowTitle("Comptoir — connexion")
        self.setObjectName("login")
        self.names = QComboBox()
        self.names.setObjectName("operatorName")
        self.names.setMinimumHeight(TOUCH)
        self.names.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # the PIN has the keyboard
        with ledger.reader() as session:
            for info in list_operators(session):
                self.names.addItem(f"{info.name} ({info.role.label})", info.name)
        chosen = self.names.findData(locked_by or current)
        if chosen >= 0:
            self.names.setCurrentIndex(chosen)
        self.pin = QLineEdit()
        self.pin.setObjectName("pin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMinimumHeight(TOUCH)
        self.pin.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pin.returnPressed.connect(self.try_login)
        self.pad = Keypad(self.pin, pin_rows(), name="pinPad", size=64)
        self.error = QLabel()
        self.error.setObjectName("loginError")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        ok = QPushButton("Déverrouiller" if self.locked else "Se connecter")
        ok.setObjectName("loginOk")
        ok.setMinimumHeight(TOUCH)
        ok.setAutoDefault(False)  # Enter belongs to the PIN field
        ok.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        ok.setProperty("role", "primary")
        ok.clicked.connect(self.try_login)
        form = QFormLayout()
        form.addRow("Opérateur", self.names)
        form.addRow("Code PIN", self.pin)
        layout = QVBoxLayout(self)
        if self.locked:
            notice = QLabel(
                f"Caisse verrouillée par {locked_by}. Le ticket en cours est conservé : "
                "saisissez un code PIN pour reprendre."
            )
            notice.setObjectName("lockNotice")
            notice.setWordWrap(True)
            layout.addWidget(notice)
        layout.addLayout(form)
        layout.addWidget(self.pad)
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        if current is not None and not self.locked:
            cancel = QPushButton("Annuler")
            cancel.setObjectName("loginCancel")
            cancel.setMinimumHeight(TOUCH)
            cancel.setAutoDefault(False)
            cancel.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            cancel.clicked.connect(self.reject)
            buttons.addWidget(cancel)
        buttons.addWidget(ok, 1)
        layout.addLayout(buttons)
        self.setMinimumWidth(380)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.pin.setFocus(Qt.FocusReason.OtherFocusReason)

    def try_login(self) -> None:
        name, pin = self.names.currentData(), self.pin.text()
        if not pin:  # a stray Enter is not a wrong PIN: it does not count towards a lockout
            self.error.setText(EMPTY_PIN)
            self.pin.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        with self.ledger.transaction() as session:
            outcome = attempt_login(session, name, pin)  # failures are journaled too
        self.pin.clear()
        self.pin.setFocus(Qt.FocusReason.OtherFocusReason)
        if outcome.operator is None:
            self.error.setText(outcome.error or "Connexion refusée.")
            return
        self.operator = outcome.operator
        self.accept()

    # A locked till stays locked until a PIN is given: neither Échap nor closing.
    def reject(self) -> None:
        if not self.locked:
            super().reject()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.locked and event.key() == Qt.Key.Key_Escape:
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.locked and self.result() != QDialog.DialogCode.Accepted:
            event.ignore()
            return
        super().closeEvent(event)
