"""Operators log in with their PIN."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ledger.operators import OperatorInfo
from app.ledger.store import Ledger
from app.staff.service import attempt_login, list_operators


class LoginDialog(QDialog):
    def __init__(self, ledger: Ledger, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ledger = ledger
        self.operator: OperatorInfo | None = None
        self.setWindowTitle("Comptoir — connexion")
        self.setObjectName("login")
        self.names = QComboBox()
        self.names.setObjectName("operatorName")
        self.names.setMinimumHeight(40)
        with ledger.reader() as session:
            for info in list_operators(session):
                self.names.addItem(f"{info.name} ({info.role.label})", info.name)
        self.pin = QLineEdit()
        self.pin.setObjectName("pin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMinimumHeight(40)
        self.pin.returnPressed.connect(self.try_login)
        self.error = QLabel()
        self.error.setObjectName("loginError")
        self.error.setStyleSheet("color: #b00020;")
        ok = QPushButton("Se connecter")
        ok.setObjectName("loginOk")
        ok.setMinimumHeight(48)
        ok.clicked.connect(self.try_login)
        form = QFormLayout()
        form.addRow("Opérateur", self.names)
        form.addRow("Code PIN", self.pin)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(ok)

    def try_login(self) -> None:
        name, pin = self.names.currentData(), self.pin.text()
        with self.ledger.transaction() as session:
            outcome = attempt_login(session, name, pin)  # failures are journaled too
        self.pin.clear()
        if outcome.operator is None:
            self.error.setText(outcome.error or "Connexion refusée.")
            return
        self.operator = outcome.operator
        self.accept()
