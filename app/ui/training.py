"""Mode formation in the GUI: the switch, its manager PIN, and the look of a training window.

Switching never happens under a live window. The window only asks (ticket in progress?
files what they claim to be? manager PIN?) and then emits ``switch_requested``; ``run``
closes the window, switches ledgers through ``app.training`` and builds a new window over
the other ledger, so that no screen can keep a handle on the ledger just closed.

Parked tickets do not block a switch: they are stored in the file they were parked in,
nothing fiscal is pending about them, and they are there again on the way back. Refusing
would force a manager to throw away a customer's basket just to start a lesson.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import config
from app.errors import ComptoirError, LedgerError
from app.ledger.operators import OperatorInfo, PermissionDenied, Role
from app.ledger.store import Ledger
from app.ledger.training import TRAINING, TRAINING_NOTICE
from app.sales.parking import parked_tickets
from app.staff.service import check_manager_pin
from app.training import enter_training, find_operator, leave_training, training_sibling
from app.ui.errors import show_error

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

TRAINING_BACKGROUND = "#ffe3bd"
BANNER_STYLE = (
    "background: #e65100; color: white; font-size: 30px; font-weight: bold; "
    "padding: 12px; border-radius: 4px;"
)
BUSY_TICKET = (
    "Un ticket est en cours : encaissez-le, mettez-le en attente ou videz-le avant de "
    "changer de mode."
)


@dataclass(frozen=True)
class SwitchRequest:
    """What a manager authorised: going into training (or out of it)."""

    to_training: bool
    supervisor: str


# -- the look ---------------------------------------------------------------------------
def training_banner(ledger: Ledger) -> QLabel:
    """The large banner every screen of a training window sits under (hidden otherwise)."""
    label = QLabel(TRAINING_NOTICE)
    label.setObjectName("trainingBanner")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setMinimumHeight(64)
    label.setStyleSheet(BANNER_STYLE)
    label.setVisible(ledger.kind == TRAINING)
    return label


def switch_button(ledger: Ledger) -> QPushButton:
    """Where a manager looks for it: under the navigation, on every screen."""
    training = ledger.kind == TRAINING
    button = QPushButton("Quitter la\nformation" if training else "Mode\nformation")
    button.setObjectName("trainingButton")
    button.setMinimumHeight(56)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    button.setToolTip(
        "Revenir au journal réel (code PIN d'un gérant)"
        if training
        else "S'exercer sans toucher au journal fiscal (code PIN d'un gérant)"
    )
    button.setVisible(ledger.kind in ("real", TRAINING))  # a demo shop has nothing to protect
    return button


def dress_for_training(window: MainWindow, central: QWidget) -> None:
    """A training window looks different at a glance: title, background colour."""
    if window.ctx.ledger.kind != TRAINING:
        return
    window.setWindowTitle(f"{window.windowTitle()} — FORMATION (sans valeur fiscale)")
    central.setObjectName("central")
    central.setStyleSheet(f"QWidget#central {{ background: {TRAINING_BACKGROUND}; }}")


# -- asking -------------------------------------------------------------------------------
class ManagerPinDialog(QDialog):
    """A manager authorises the switch with their PIN (as for refunds and cancellations)."""

    def __init__(self, ledger: Ledger, *, entering: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ledger = ledger
        self.supervisor: OperatorInfo | None = None
        self.setObjectName("trainingDialog")
        self.setWindowTitle("Mode formation")
        text = (
            "Passer en mode formation : ventes, clôtures et factures seront enregistrées "
            "dans le journal de formation, sans valeur fiscale. Le journal réel est fermé "
            "pendant la formation. Le gérant qui valide en est responsable."
            if entering
            else "Quitter le mode formation et revenir au journal réel de la boutique."
        )
        waiting = self._parked_note()
        explain = QLabel(f"{text}{waiting}")
        explain.setWordWrap(True)
        self.pin = QLineEdit()
        self.pin.setObjectName("trainingPin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText("Code PIN d'un gérant")
        self.pin.setMinimumHeight(40)
        self.pin.returnPressed.connect(self.try_accept)
        self.error = QLabel()
        self.error.setObjectName("trainingPinError")
        self.error.setProperty("role", "error")
        self.ok_button = QPushButton("Valider")
        self.ok_button.setObjectName("trainingPinOk")
        self.ok_button.setProperty("role", "primary")
        self.ok_button.setMinimumHeight(48)
        self.ok_button.clicked.connect(self.try_accept)
        cancel = QPushButton("Annuler")
        cancel.setObjectName("trainingPinCancel")
        cancel.setMinimumHeight(48)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(cancel)
        buttons.addWidget(self.ok_button)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addWidget(self.pin)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

    def _parked_note(self) -> str:
        with self.ledger.reader() as session:
            count = len(parked_tickets(session))
        if not count:
            return ""
        what = "1 ticket en attente reste" if count == 1 else f"{count} tickets en attente restent"
        return f"\n\n{what} dans ce journal et sera repris au retour."

    def try_accept(self) -> None:
        try:
            with self.ledger.reader() as session:
                self.supervisor = check_manager_pin(session, self.pin.text())
        except PermissionDenied as exc:
            self.pin.clear()
            self.error.setText(exc.message)
            return
        self.accept()


def switch_refusal(window: MainWindow) -> ComptoirError | None:
    """Why the switch cannot happen now, checked before any PIN is asked."""
    if not window.till.model.cart.is_empty:
        return ComptoirError(BUSY_TICKET)
    ledger = window.ctx.ledger
    try:
        if ledger.kind == TRAINING:
            real = config.real_path(ledger.path)
            if real is None or not real.exists():
                raise LedgerError(
                    "Le journal réel de la boutique est introuvable à côté du journal de "
                    "formation : le mode formation ne peut pas être quitté depuis ce fichier."
                )
        else:
            training_sibling(ledger.path)
    except ComptoirError as exc:
        return exc
    return None


def ask_switch(window: MainWindow) -> ManagerPinDialog | None:
    """The switch button: check, ask a manager's PIN (window-modal), then request."""
    refusal = switch_refusal(window)
    if refusal is not None:
        show_error(window, refusal)
        return None
    entering = window.ctx.ledger.kind != TRAINING
    dialog = ManagerPinDialog(window.ctx.ledger, entering=entering, parent=window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)

    def authorised() -> None:
        if dialog.supervisor is None:
            return
        if not window.till.model.cart.is_empty:  # a scan while the dialog was open
            show_error(window, ComptoirError(BUSY_TICKET))
            return
        window.switch_requested.emit(SwitchRequest(entering, dialog.supervisor.name))

    dialog.accepted.connect(authorised)
    dialog.open()
    return dialog


def ask_supervisor_at_start(ledger: Ledger, operator: OperatorInfo) -> str | None:
    """A GUI opened straight on a training ledger (``comptoir --training``): a manager who
    logged in answers for it; anyone else needs a manager's PIN. None: refused."""
    if operator.role is Role.MANAGER:
        return operator.name
    dialog = ManagerPinDialog(ledger, entering=True)
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.supervisor is None:
        return None
    return dialog.supervisor.name


# -- switching (between two windows) ------------------------------------------------------
def perform_switch(
    ledger: Ledger, operator: OperatorInfo, request: SwitchRequest
) -> tuple[Ledger, OperatorInfo | None]:
    """Switch ledgers; returns the other ledger, open, and the same operator in it (None
    when they do not exist there: they log in again)."""
    if request.to_training:
        other = enter_training(ledger, operator=operator.name, supervisor=request.supervisor)
    else:
        other = leave_training(ledger, operator=operator.name, authorised_by=request.supervisor)
    return other, find_operator(other, operator.name)


def switch_or_stay(
    ledger: Ledger, operator: OperatorInfo, request: SwitchRequest
) -> tuple[Ledger, OperatorInfo | None]:
    """``perform_switch``, or — when it is refused — the same ledger and operator after
    saying why (the switch changes nothing until it has fully succeeded)."""
    try:
        return perform_switch(ledger, operator, request)
    except ComptoirError as exc:
        box = QMessageBox(QMessageBox.Icon.Warning, "Mode formation", exc.message)
        box.setObjectName("errorDialog")
        box.exec()  # between two windows: nothing else is on screen
        return ledger, operator
