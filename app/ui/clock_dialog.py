"""A clock far ahead of the last record: a manager confirms the date before anything is
written, or the shop corrects the computer's clock."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout

from app.errors import ClockJump
from app.ledger.events import EventCode, log_event
from app.ledger.store import Ledger
from app.staff.service import PermissionDenied, check_manager_pin

# The GUI asks here; the command line's way of confirming is not for the shop's screen.
_CLI_HINT = " : au démarrage de Comptoir, ou en ligne de commande"


class ClockJumpDialog(QDialog):
    """Shows both times and asks a manager's PIN; on acceptance the ledger journals the
    confirmation (both times, the manager) with its next record."""

    def __init__(self, ledger: Ledger, jump: ClockJump) -> None:
        super().__init__()
        self.ledger = ledger
        self.setWindowTitle("Date et heure à confirmer")
        text = jump.message.split(_CLI_HINT)[0]
        explain = QLabel(
            f"{text}.\n\nSi la date est juste, un gérant la confirme avec son code PIN ; "
            "la confirmation est journalisée avec les deux dates."
        )
        explain.setObjectName("clockJumpText")
        explain.setWordWrap(True)
        self.pin = QLineEdit()
        self.pin.setObjectName("clockJumpPin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText("Code PIN d'un gérant")
        self.pin.setMinimumHeight(40)
        self.pin.returnPressed.connect(self.try_accept)
        self.error = QLabel()
        self.error.setObjectName("clockJumpError")
        self.error.setProperty("role", "error")
        confirm = QPushButton("Confirmer la date")
        confirm.setObjectName("clockJumpConfirm")
        confirm.setMinimumHeight(48)
        confirm.clicked.connect(self.try_accept)
        cancel = QPushButton("Quitter pour corriger l'horloge")
        cancel.setObjectName("clockJumpCancel")
        cancel.setMinimumHeight(48)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(cancel)
        buttons.addWidget(confirm)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addWidget(self.pin)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

    def try_accept(self) -> None:
        try:
            with self.ledger.reader() as session:
                manager = check_manager_pin(session, self.pin.text())
        except PermissionDenied as exc:
            self.pin.clear()
            self.error.setText(exc.message)
            return
        self.ledger.clock_confirmed_by = manager.name
        self.accept()


def journal_start(
    ledger: Ledger, version: str, ask: type[ClockJumpDialog] = ClockJumpDialog
) -> bool:
    """Journal the START event, asking a manager to confirm a clock far ahead first;
    False when nobody confirmed (nothing was written)."""
    try:
        _start(ledger, version)
    except ClockJump as jump:
        if ask(ledger, jump).exec() != QDialog.DialogCode.Accepted:
            return False
        _start(ledger, version)
    return True


def _start(ledger: Ledger, version: str) -> None:
    with ledger.transaction() as session:
        log_event(session, EventCode.START, operator="système", software_version=version)
