"""Réglages › Facturation électronique: the plateforme agréée (private customers) and
Chorus Pro (public-sector customers). Addresses are kept with the shop's preferences;
client ids, secrets and the Chorus Pro technical account in the OS keyring, unless the
environment gives them."""

from __future__ import annotations

from functools import partial
from typing import Generic, TypeVar

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.einvoice.pdp import chorus_api
from app.einvoice.pdp.chorus import ChorusProClient
from app.einvoice.pdp.client import HttpFlowClient
from app.einvoice.pdp.config import (
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    ChorusSettings,
    PlatformSettings,
    credentials_from_environment,
    load_chorus_settings,
    load_settings,
    save_addresses,
    save_chorus_settings,
    store_credentials,
)
from app.einvoice.pdp.demo_platform import attached
from app.einvoice.pdp.ereporting.report import PREF_MATRICULE, set_platform_matricule
from app.einvoice.pdp.sync_now import SyncReport, sync_now
from app.errors import ComptoirError
from app.ledger.operators import Permission
from app.ledger.preferences import get_preference
from app.ui.background import Background
from app.ui.context import AppContext
from app.ui.forms import error_label, show_form_error

# Chorus Pro's two environments, as PISTE publishes them; "Autre adresse" keeps the fields.
CHORUS_ENVIRONMENTS = (
    ("Qualification (bac à sable PISTE)", chorus_api.QUALIF_API_URL, chorus_api.QUALIF_TOKEN_URL),
    ("Production", chorus_api.API_URL, chorus_api.TOKEN_URL),
    ("Autre adresse", "", ""),
)
OTHER = len(CHORUS_ENVIRONMENTS) - 1
S = TypeVar("S")


def _password(name: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setPlaceholderText("inchangé")
    return edit


def _wrapped(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


def _named(name: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    return edit


class _PlatformForm(Generic[S]):
    """What saving and testing mean for any platform form, so that the plateforme agréée
    and Chorus Pro behave alike: errors beside the form, secrets wiped once stored, the
    connection probed off the GUI thread.

    A form supplies ``_typed`` (its fields as settings, stored secrets filling the blank
    ones), ``_store``, ``_probe`` (run in the background), the password fields to clear
    and its messages."""

    ctx: AppContext
    background: Background
    error: QLabel
    status: QLabel
    saved_message: str
    connecting_message: str
    answers_message: str
    silent_message: str

    def _typed(self) -> S:
        raise NotImplementedError

    def _store(self, session: Session, settings: S) -> None:
        raise NotImplementedError

    def _probe(self, settings: S) -> bool:
        raise NotImplementedError

    def _secrets(self) -> tuple[QLineEdit, ...]:
        raise NotImplementedError

    def save(self) -> None:
        show_form_error(self.error, "")
        try:
            settings = self._typed()
            with self.ctx.ledger.transaction() as session:
                self._store(session, settings)
        except ComptoirError as exc:
            show_form_error(self.error, exc.message)
            return
        for edit in self._secrets():
            edit.clear()
        self.status.setText(self.saved_message)
        self.ctx.ledger_changed.emit()

    def test(self) -> None:
        show_form_error(self.error, "")
        try:
            settings = self._typed()
        except ComptoirError as exc:
            show_form_error(self.error, exc.message)
            return
        self.status.setText(self.connecting_message)
        self.background.run(
            partial(self._probe, settings),
            lambda ok: self.status.setText(self.answers_message if ok else self.silent_message),
            lambda error: show_form_error(
                self.error, error.message if isinstance(error, ComptoirError) else str(error)
            ),
        )


class PlatformTab(QWidget, _PlatformForm[PlatformSettings]):
    saved_message = "Réglages de la plateforme enregistrés."
    connecting_message = "Connexion en cours…"
    answers_message = "La plateforme répond."
    silent_message = "La plateforme ne répond pas."

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.background = Background(self)
        self.base_url, self.token_url = _named("pdpUrl"), _named("pdpTokenUrl")
        self.client_id, self.secret = _named("pdpClientId"), _password("pdpSecret")
        self.matricule = _named("pdpMatricule")
        self.matricule.setPlaceholderText("4 caractères, donné par la plateforme")
        form = QFormLayout()
        form.addRow("Adresse de l'API (Flow Service)", self.base_url)
        form.addRow("Adresse du jeton OAuth2", self.token_url)
        form.addRow("Identifiant client", self.client_id)
        form.addRow("Secret client", self.secret)
        form.addRow("Matricule (e-reporting)", self.matricule)
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
        self.sync_button = QPushButton("Synchroniser maintenant")
        self.sync_button.setObjectName("syncPlatform")
        self.sync_button.setToolTip(
            "Envoie les factures en attente, puis reçoit les statuts et les factures "
            "fournisseurs, sur chaque plateforme configurée."
        )
        self.sync_button.clicked.connect(self.sync_now)
        self.buttons = (save, test, self.sync_button)
        platform = QGroupBox("Plateforme agréée (clients privés)")
        platform.setObjectName("platformGroup")
        box = QVBoxLayout(platform)
        box.addLayout(form)
        self.environment_note = QLabel()
        self.environment_note.setObjectName("platformEnvironment")
        self.environment_note.setWordWrap(True)
        for widget in (self.environment_note, save, test, self.sync_button):
            box.addWidget(widget)
        for widget in (self.error, self.status):
            box.addWidget(widget)
        self.chorus = ChorusGroup(ctx, self.background)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(
            _wrapped(
                "Les adresses sont enregistrées avec les réglages de la boutique. Les "
                "identifiants, secrets et mots de passe sont conservés dans le trousseau du "
                "système ou lus dans les variables d'environnement, jamais dans la base de "
                "données."
            )
        )
        layout.addWidget(platform)
        layout.addWidget(self.chorus)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    def refresh(self) -> None:
        editable = self.ctx.can(Permission.EDIT_SETTINGS)
        fields = (self.base_url, self.token_url, self.client_id, self.secret, self.matricule)
        for widget in (*fields, self.buttons[0]):
            widget.setEnabled(editable)
        self.matricule.setText(
            self.ctx.read(lambda session: get_preference(session, PREF_MATRICULE))
        )
        self.chorus.refresh(editable and self.ctx.ledger.kind != "demo")
        if self._show_demo_platform():
            return
        try:
            current = self.ctx.read(load_settings)
        except ComptoirError as exc:
            show_form_error(self.error, exc.message)
            return
        if current is not None:
            self.base_url.setText(current.base_url)
            self.token_url.setText(current.token_url)
            self.client_id.setText(current.client_id)
        from_environment = credentials_from_environment()
        for edit in (self.client_id, self.secret):
            edit.setEnabled(editable and not from_environment)
        self.environment_note.setText(
            f"L'identifiant et le secret client viennent des variables d'environnement "
            f"{ENV_CLIENT_ID} et {ENV_CLIENT_SECRET} : aucun trousseau n'est nécessaire."
            if from_environment
            else ""
        )
        self.environment_note.setVisible(from_environment)

    def _show_demo_platform(self) -> bool:
        """A demo ledger's window shows the plateforme de démonstration it runs, read-only:
        nothing typed here could reach a real platform, nor the shop's keyring."""
        platform = attached(self.ctx.ledger) if self.ctx.ledger.kind == "demo" else None
        if platform is None:
            return False
        self.base_url.setText(platform.url)
        self.token_url.setText(platform.token_url)
        self.client_id.setText(platform.client_id)
        self.secret.setText(platform.client_secret)
        for widget in (self.base_url, self.token_url, self.client_id, self.secret):
            widget.setEnabled(False)
        self.buttons[0].setEnabled(False)
        self.environment_note.setText(
            f"Boutique de démonstration : la {platform.label}, lancée par Comptoir sur ce "
            "poste, reçoit les factures et l'e-reporting ; rien n'est envoyé à une "
            "plateforme réelle."
        )
        self.environment_note.setVisible(True)
        return True

    def save(self) -> None:
        """The addresses are saved in any case (no keyring needed); the id and secret go
        to the keyring, unless the environment gives them; without a keyring, the message
        says where they can go."""
        show_form_error(self.error, "")
        self.status.clear()
        base_url, token_url = self.base_url.text().strip(), self.token_url.text().strip()
        client_id, secret = self.client_id.text().strip(), self.secret.text()
        matricule, operator = self.matricule.text().strip(), self.ctx.operator_name
        try:
            with self.ctx.ledger.transaction() as session:
                save_addresses(session, base_url, token_url, operator=operator)
                if matricule:
                    set_platform_matricule(session, matricule)
        except ComptoirError as exc:
            show_form_error(self.error, exc.message)
            return
        self.ctx.ledger_changed.emit()
        self.secret.clear()
        if credentials_from_environment():
            self.status.setText(
                "Adresses enregistrées ; les identifiants sont lus dans l'environnement."
            )
            return
        try:
            store_credentials(client_id, secret)
        except ComptoirError as exc:
            self.status.setText("Adresses enregistrées.")
            show_form_error(self.error, exc.message)
            return
        self.status.setText(self.saved_message if secret else "Adresses enregistrées.")

    def sync_now(self) -> None:
        """Send what waits and fetch what is new, off the GUI thread."""
        from app.einvoice.pdp.worker import training_client

        show_form_error(self.error, "")
        ledger = self.ctx.ledger
        self.sync_button.setEnabled(False)
        self.status.setText("Synchronisation en cours…")

        def work() -> SyncReport:
            if ledger.kind == "training":  # a sandbox at most, never Chorus Pro
                return sync_now(ledger, training_client, lambda _ledger: None)
            return sync_now(ledger)

        def done(report: SyncReport) -> None:
            self.sync_button.setEnabled(True)
            self.status.setText(report.summary())
            if report.channels:
                self.ctx.ledger_changed.emit()

        def failed(error: BaseException) -> None:
            self.sync_button.setEnabled(True)
            self.status.setText("")
            show_form_error(
                self.error,
                error.message
                if isinstance(error, ComptoirError)
                else f"La synchronisation a échoué : {error}",
            )

        self.background.run(work, done, failed)

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

    def _probe(self, settings: PlatformSettings) -> bool:
        client = HttpFlowClient(settings)
        try:
            return client.health()
        finally:
            client.close()

    def _secrets(self) -> tuple[QLineEdit, ...]:
        return (self.secret,)


class ChorusGroup(QGroupBox, _PlatformForm[ChorusSettings]):
    """Chorus Pro: the API and PISTE token addresses (qualification or production), the
    PISTE application's client id and secret, the Chorus Pro technical account."""

    saved_message = "Réglages Chorus Pro enregistrés."
    connecting_message = "Connexion à Chorus Pro en cours…"
    answers_message = "Chorus Pro répond et accepte le compte technique."
    silent_message = "Chorus Pro ne répond pas ou refuse les identifiants."

    def __init__(self, ctx: AppContext, background: Background) -> None:
        super().__init__("Chorus Pro (clients publics)")
        self.setObjectName("chorusGroup")
        self.ctx, self.background = ctx, background
        self.environment = QComboBox()
        self.environment.setObjectName("chorusEnvironment")
        for label, _api, _token in CHORUS_ENVIRONMENTS:
            self.environment.addItem(label)
        self.environment.setCurrentIndex(OTHER)
        self.base_url, self.token_url = _named("chorusUrl"), _named("chorusTokenUrl")
        self.client_id, self.secret = _named("chorusClientId"), _password("chorusSecret")
        self.login, self.password = _named("chorusLogin"), _password("chorusPassword")
        self.environment.activated.connect(self._environment_chosen)
        for edit in (self.base_url, self.token_url):
            edit.textEdited.connect(self._match_environment)
        form = QFormLayout()
        form.addRow("Environnement", self.environment)
        form.addRow("Adresse de l'API Chorus Pro", self.base_url)
        form.addRow("Adresse du jeton PISTE (OAuth2)", self.token_url)
        form.addRow("Identifiant client PISTE", self.client_id)
        form.addRow("Secret client PISTE", self.secret)
        form.addRow("Compte technique Chorus Pro", self.login)
        form.addRow("Mot de passe du compte technique", self.password)
        self.error = error_label("chorusError")
        self.status = QLabel()
        self.status.setObjectName("chorusStatus")
        self.status.setWordWrap(True)
        self.save_button = QPushButton("Enregistrer")
        self.save_button.setObjectName("saveChorus")
        self.save_button.clicked.connect(self.save)
        self.test_button = QPushButton("Tester la connexion")
        self.test_button.setObjectName("testChorus")
        self.test_button.clicked.connect(self.test)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Les factures des clients marqués « Client public » sont déposées sur "
                "Chorus Pro, avec l'application créée sur PISTE et le compte technique "
                "déclaré dans Chorus Pro."
            )
        )
        layout.addLayout(form)
        for widget in (self.save_button, self.test_button, self.error, self.status):
            layout.addWidget(widget)

    def _edits(self) -> tuple[QLineEdit, ...]:
        return (
            self.base_url, self.token_url, self.client_id, self.secret, self.login,
            self.password,
        )  # fmt: skip

    def refresh(self, editable: bool) -> None:
        for widget in (*self._edits(), self.environment, self.save_button):
            widget.setEnabled(editable)
        show_form_error(self.error, "")
        try:
            current = self.ctx.read(load_chorus_settings)
        except ComptoirError as exc:
            show_form_error(self.error, exc.message)
            return
        if current is not None:
            self.base_url.setText(current.base_url)
            self.token_url.setText(current.token_url)
            self.client_id.setText(current.client_id)
            self.login.setText(current.account_login)
        self._match_environment()

    def _environment_chosen(self, index: int) -> None:
        _label, api, token = CHORUS_ENVIRONMENTS[index]
        if api:
            self.base_url.setText(api)
            self.token_url.setText(token)

    def _match_environment(self, *_: object) -> None:
        typed = (self.base_url.text().strip(), self.token_url.text().strip())
        for index, (_label, api, token) in enumerate(CHORUS_ENVIRONMENTS):
            if typed == (api, token) and api:
                self.environment.setCurrentIndex(index)
                return
        self.environment.setCurrentIndex(OTHER)

    def _typed(self) -> ChorusSettings:
        secret, password = self.secret.text(), self.password.text()
        if not (secret and password):
            try:
                current = self.ctx.read(load_chorus_settings)
            except ComptoirError:
                current = None  # nothing usable stored: what was typed must be complete
            if current is not None:
                secret = secret or current.client_secret
                password = password or current.account_password
        return ChorusSettings(
            self.token_url.text().strip(),
            self.base_url.text().strip(),
            self.client_id.text().strip(),
            secret,
            self.login.text().strip(),
            password,
        )

    def _store(self, session: Session, settings: ChorusSettings) -> None:
        save_chorus_settings(session, settings, operator=self.ctx.operator_name)

    def _probe(self, settings: ChorusSettings) -> bool:
        with ChorusProClient(settings) as client:
            return client.health()

    def _secrets(self) -> tuple[QLineEdit, ...]:
        return (self.secret, self.password)
