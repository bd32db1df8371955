"""Réglages › Périphériques: the card terminal (Caisse-AP over IP) and the customer display
(a second window, a pole display), each with a test button that runs off the GUI thread."""

from __future__ import annotations

import importlib
from typing import Any

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.documents.display_settings import display_config, save_display_config
from app.documents.preferences import BAUDRATES, parse_usb_id
from app.errors import ComptoirError, InvalidInput
from app.ledger.operators import Permission
from app.sales.terminal.protocol import DEFAULT_PORT, check_reachable
from app.sales.terminal.settings import save_terminal_config, terminal_config
from app.ui.background import Background
from app.ui.context import AppContext
from app.ui.forms import error_label, show_form_error
from app.ui.settings.tab_actions import (
    buttons_row,
    push_button,
    save_setting,
    show_status,
    status_label,
)

POLE_KINDS = {"none": "Aucun", "serial": "Port série", "usb": "USB"}
TEST_LINES = ("Comptoir : essai", "12345678901234567890")


class DevicesTab(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.background = Background(self)

        self.host = QLineEdit()
        self.host.setObjectName("terminalHost")
        self.host.setPlaceholderText("192.168.1.30 (vide : carte saisie sur le terminal)")
        self.port = QSpinBox()
        self.port.setObjectName("terminalPort")
        self.port.setRange(1, 65535)
        self.port.setValue(DEFAULT_PORT)
        self.terminal_id = QLineEdit("1")
        self.terminal_id.setObjectName("terminalId")
        self.till_number = QLineEdit("01")
        self.till_number.setObjectName("terminalTill")
        terminal_form = QFormLayout()
        terminal_form.addRow("Adresse du terminal", self.host)
        terminal_form.addRow("Port", self.port)
        terminal_form.addRow("Identifiant du terminal", self.terminal_id)
        terminal_form.addRow("Numéro de caisse", self.till_number)
        self.terminal_error = error_label("terminalError")
        self.terminal_status = status_label("terminalStatus")
        self.save_terminal_button = push_button(
            "Enregistrer", "saveTerminalButton", self.save_terminal
        )
        self.test_terminal_button = push_button(
            "Tester le terminal", "testTerminalButton", self.test_terminal
        )
        terminal_box = QGroupBox("Terminal de paiement (Caisse-AP sur IP)")
        terminal_layout = QVBoxLayout(terminal_box)
        intro = QLabel(
            "« Carte » envoie le montant au terminal : plus de double saisie. Le test ouvre "
            "une connexion sans rien encaisser."
        )
        intro.setWordWrap(True)
        terminal_layout.addWidget(intro)
        terminal_layout.addLayout(terminal_form)
        terminal_layout.addLayout(buttons_row(self.save_terminal_button, self.test_terminal_button))
        terminal_layout.addWidget(self.terminal_error)
        terminal_layout.addWidget(self.terminal_status)

        self.window_check = QCheckBox("Écran client (fenêtre sur le second écran)")
        self.window_check.setObjectName("customerWindow")
        self.pole_kind = QComboBox()
        self.pole_kind.setObjectName("poleKind")
        for kind, label in POLE_KINDS.items():
            self.pole_kind.addItem(label, kind)
        self.pole_device = QLineEdit()
        self.pole_device.setObjectName("poleDevice")
        self.pole_device.setPlaceholderText("COM3, /dev/ttyUSB0 — ou, en USB : 0416:f012")
        self.pole_baudrate = QComboBox()
        self.pole_baudrate.setObjectName("poleBaudrate")
        for rate in BAUDRATES:
            self.pole_baudrate.addItem(str(rate), rate)
        display_form = QFormLayout()
        display_form.addRow(self.window_check)
        display_form.addRow("Afficheur client 2×20", self.pole_kind)
        display_form.addRow("Port ou identifiants USB", self.pole_device)
        display_form.addRow("Vitesse (série)", self.pole_baudrate)
        self.display_error = error_label("displayError")
        self.display_status = status_label("displayStatus")
        self.save_display_button = push_button(
            "Enregistrer", "saveDisplayButton", self.save_display
        )
        self.test_display_button = push_button(
            "Tester l'afficheur", "testDisplayButton", self.test_display
        )
        display_box = QGroupBox("Affichage client")
        display_layout = QVBoxLayout(display_box)
        display_layout.addLayout(display_form)
        display_layout.addLayout(buttons_row(self.save_display_button, self.test_display_button))
        display_layout.addWidget(self.display_error)
        display_layout.addWidget(self.display_status)

        layout = QVBoxLayout(self)
        layout.addWidget(terminal_box)
        layout.addWidget(display_box)
        layout.addStretch(1)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        editable = self.ctx.can(Permission.EDIT_SETTINGS)
        for widget in (
            self.host, self.port, self.terminal_id, self.till_number, self.window_check,
            self.pole_kind, self.pole_device, self.pole_baudrate,
            self.save_terminal_button, self.save_display_button,
        ):  # fmt: skip
            widget.setEnabled(editable)
        config, display = self.ctx.read(lambda s: (terminal_config(s), display_config(s)))
        if config is not None:
            self.host.setText(config.host)
            self.port.setValue(config.port)
            self.terminal_id.setText(config.terminal_id)
            self.till_number.setText(config.till_number)
        self.window_check.setChecked(display["window"])
        pole = display["pole"]
        self.pole_kind.setCurrentIndex(list(POLE_KINDS).index(pole["kind"]))
        if pole["kind"] == "serial":
            self.pole_device.setText(pole["device"])
            self.pole_baudrate.setCurrentIndex(BAUDRATES.index(pole["baudrate"]))
        elif pole["kind"] == "usb":
            self.pole_device.setText(f"{pole['vendor_id']:04x}:{pole['product_id']:04x}")

    @staticmethod
    def _say(label: QLabel, text: str, *, ok: bool) -> None:
        show_status(label, text, ok=ok)

    # -- the card terminal ---------------------------------------------------------------
    def _save_terminal(self) -> bool:
        host, port = self.host.text(), self.port.value()
        terminal_id, till = self.terminal_id.text(), self.till_number.text()
        return save_setting(
            self.ctx,
            self.terminal_error,
            lambda s: save_terminal_config(
                s, host=host, port=port, terminal_id=terminal_id, till_number=till,
                operator=self.ctx.operator_name,
            ),
        )  # fmt: skip

    def save_terminal(self) -> None:
        show_form_error(self.terminal_error, "")
        if self._save_terminal():
            self._say(self.terminal_status, "Terminal de paiement enregistré.", ok=True)
            self.ctx.ledger_changed.emit()

    def test_terminal(self) -> None:
        show_form_error(self.terminal_error, "")
        if self.background.busy:
            return
        if self.ctx.can(Permission.EDIT_SETTINGS) and not self._save_terminal():
            return
        config = self.ctx.read(terminal_config)
        if config is None:
            self._say(self.terminal_status, "Indiquez d'abord l'adresse du terminal.", ok=False)
            return
        self._say(self.terminal_status, f"Connexion à {config.address}…", ok=True)
        self.background.run(
            lambda: check_reachable(config),
            lambda _none: self._say(
                self.terminal_status, f"Terminal de paiement joignable à {config.address}.",
                ok=True,
            ),
            lambda error: self._failed(self.terminal_status, error),
        )  # fmt: skip

    def _failed(self, label: QLabel, error: BaseException) -> None:
        message = error.message if isinstance(error, ComptoirError) else repr(error)
        self._say(label, message, ok=False)

    # -- the customer display ------------------------------------------------------------
    def display_settings(self) -> dict[str, Any]:
        kind = self.pole_kind.currentData()
        pole: dict[str, Any] = {"kind": kind}
        text = self.pole_device.text().strip()
        if kind == "serial":
            pole |= {"device": text, "baudrate": self.pole_baudrate.currentData()}
        elif kind == "usb":
            vendor, _, product = text.partition(":")
            if not product:
                raise InvalidInput(
                    "Afficheur USB : identifiants « fabricant:produit » (0416:f012)."
                )
            pole |= {
                "vendor_id": parse_usb_id(vendor, "Fabricant"),
                "product_id": parse_usb_id(product, "Produit"),
            }
        return {"window": self.window_check.isChecked(), "pole": pole}

    def _save_display(self) -> bool:
        try:
            settings = self.display_settings()
        except InvalidInput as error:
            show_form_error(self.display_error, error.message)
            return False
        return save_setting(
            self.ctx,
            self.display_error,
            lambda s: save_display_config(s, settings, operator=self.ctx.operator_name),
        )

    def save_display(self) -> None:
        show_form_error(self.display_error, "")
        if self._save_display():
            self._say(self.display_status, "Affichage client enregistré.", ok=True)
            self.ctx.ledger_changed.emit()  # the till opens or closes the customer's window

    def test_display(self) -> None:
        show_form_error(self.display_error, "")
        if self.background.busy:
            return
        if self.ctx.can(Permission.EDIT_SETTINGS) and not self._save_display():
            return
        display = self.ctx.read(display_config)
        self.ctx.ledger_changed.emit()
        shown = getattr(self.window(), "customer_display", None)
        if shown is not None and shown.window is not None:
            shown.window.show_test(*TEST_LINES)
        pole = display["pole"]
        if pole["kind"] == "none":
            said = "Écran client : un essai est affiché." if display["window"] else ""
            self._say(self.display_status, said or "Aucun affichage client n'est réglé.",
                      ok=bool(said))  # fmt: skip
            return
        self._say(self.display_status, "Essai de l'afficheur client…", ok=True)
        self.background.run(
            lambda: _show_test(pole),
            lambda _none: self._say(
                self.display_status,
                f"L'afficheur doit montrer « {TEST_LINES[0]} » et les chiffres 1 à 0 sur "
                "toute la deuxième ligne.",
                ok=True,
            ),
            lambda error: self._failed(self.display_status, error),
        )


def _show_test(pole: dict[str, Any]) -> None:
    module = importlib.import_module("app.documents.pole_display")
    display = module.PoleDisplay.from_config(pole)
    try:
        display.show(*TEST_LINES)
    finally:
        display.close()
