"""Réglages › Facturation électronique: the platform's addresses (kept with the shop's
preferences) and its client id and secret (kept in the OS keyring only)."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.einvoice.pdp.client import HttpFlowClient
from app.einvoice.pdp.config import PlatformSettings, load_settings, save_settings
from app.errors import ComptoirError
from app.staff.service import Permission
from app.ui.background import Background
from app.ui.context import AppContext
from app.ui.forms import error_label, show_form_error


class PlatformTab(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.background = Background(self)
        self.base_url, self.token_url = QLineEdit(), QLineEdit()
        self.client_id, self.secret = QLineEdit(), QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("inchangé")
        for widget, name in (
            (self.base_url, "pdpUrl"),
            (self.token_url, "pdpTokenUrl"),
            (self.client_id, "pdpClientId"),
            (self.secret, "pdpSecret"),
        ):
            widget.setObjectName(name)
        form = QFormLayout()
        form.addRow("Adresse de l'API (Flow Service)", self.base_url)
        form.addRow("Adresse du jeton OAuth2", self.token_url)
        form.addRow("Identifiant client", self.client_id)
        form.addRow("Secret client", self.secret)
        self.error = error_label("platformError")
        self.status = QLabel()
        self.status.setObjectName("platformStatus")
        self.status.setWordWrap(True)
        save = QPushButton("Enregistrer")
        save.setObjectName("savePlatform")
        save.clicked.connect(self.save)
        test = QPushButton("Tester la connexion")
        test.setObjectName("testPlatform")
        test.clicked.connect(self.test)
        self.buttons = (save, test)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Le secret est conservé dans le trousseau du système, "
                "jamais dans la base de données."
            )
        )
        layout.addLayout(form)
        layout.addWidget(save)
        layout.addWidget(test)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def refresh(self) -> None:
        editable = self.ctx.can(Permission.EDIT_SETTINGS)
        for widget in (self.base_url, self.token_url, self.client_id, self.secret, self.buttons[0]):
            widget.setEnabled(editable)
        try:
            current = self.ctx.read(load_settings)
        except ComptoirError as exc:
            show_form_error(self.error, exc.message)
            return
        if current is not None:
            self.base_url.setText(current.base_url)
            self.token_url.setText(current.token_url)
            self.client_id.setText(current.client_id)

    def _typed(self) -> PlatformSettings:
        secret = self.secret.text()
        if not secret:
            current = self.ctx.read(load_settings)
            secret = current.client_secret if current is not None else ""
        return PlatformSettings(
            self.base_url.text().strip(),
            self.token_url.text().strip(),
            self.client_id.text().strip(),
            secret,
        )

    def save(self) -> None:
        show_form_error(self.error, "")
        try:
            settings = self._typed()
            with self.ctx.ledger.transaction() as session:
                save_settings(session, settings)
        except ComptoirError as exc:
            show_form_error(self.error, exc.message)
            return
        self.secret.clear()
        self.status.setText("Réglages de la plateforme enregistrés.")
        self.ctx.ledger_changed.emit()

    def test(self) -> None:
        show_form_error(self.error, "")
        try:
            settings = self._typed()
        except ComptoirError as exc:
            show_form_error(self.error, exc.message)
            return
        self.status.setText("Connexion en cours…")

        def probe() -> bool:
            client = HttpFlowClient(settings)
            try:
                return client.health()
            finally:
                client.close()

        self.background.run(
            probe,
            lambda ok: self.status.setText(
                "La plateforme répond." if ok else "La plateforme ne répond pas."
            ),
            lambda error: show_form_error(
                self.error, error.message if isinstance(error, ComptoirError) else str(error)
            ),
        )
