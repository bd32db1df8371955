"""Réglages › Serveur central: where this till sends its ledger (a shop with several tills),
a "send now" that also tests the connection, and how the last upload went.

The address is a shop preference of this till (not fiscal). Sending happens in the
background worker (``app.ledger.central.sync``); the button runs one upload off the GUI thread,
through the main window's worker when there is one, so the banner says the same thing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.errors import ComptoirError
from app.ledger.central.service import UploadResult
from app.ledger.central.sync import (
    CENTRAL_ENV,
    central_url,
    display_target,
    save_central_url,
    upload_once,
)
from app.ledger.operators import Permission
from app.ui.background import Background
from app.ui.context import AppContext
from app.ui.forms import error_label, show_form_error
from app.ui.settings.tab_actions import (
    buttons_row,
    push_button,
    ready_to_run,
    save_setting,
    show_status,
    status_label,
)

INTRO = (
    "Boutique à plusieurs caisses : chaque caisse garde son propre journal et l'envoie au "
    "serveur central, qui tient les clôtures de la boutique. Les ventes ne dépendent pas du "
    "serveur : s'il ne répond pas, la caisse continue et envoie dès qu'il revient. "
    "Chaque envoi est signé par la clé de cette caisse : la clé du serveur central n'a pas "
    "à être copiée sur ce poste. Laissez vide pour une caisse seule."
)


class CentralTab(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.background = Background(self)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.address = QLineEdit()
        self.address.setObjectName("centralUrlEdit")
        self.address.setPlaceholderText(
            "postgresql+psycopg://comptoir@serveur/boutique, ou le chemin d'un fichier"
        )
        self.environment = QLabel()
        self.environment.setObjectName("centralEnvNotice")
        self.environment.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Serveur central", self.address)
        self.save_button = push_button("Enregistrer", "saveCentralButton", self.save)
        self.send_button = push_button(
            "Tester / envoyer maintenant", "centralSendButton", self.send_now
        )
        buttons = buttons_row(self.save_button, self.send_button)
        self.error = error_label("centralError")
        self.status = status_label("centralStatus")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.environment)
        layout.addLayout(buttons)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        real = self.ctx.ledger.kind == "real"
        editable = real and self.ctx.can(Permission.EDIT_SETTINGS)
        self.address.setEnabled(editable)
        self.save_button.setEnabled(editable)
        self.send_button.setEnabled(real and not self.background.busy)
        self.address.setText(self.ctx.read(central_url))
        forced = os.environ.get(CENTRAL_ENV, "").strip()
        self.environment.setText(
            f"La variable d'environnement {CENTRAL_ENV} impose le serveur "
            f"{display_target(forced)} : c'est lui qui reçoit les envois."
            if forced
            else ""
        )
        self.environment.setVisible(bool(forced))
        if not real:
            what = "Le mode formation" if self.ctx.ledger.kind == "training" else "Ce journal"
            self._say(
                f"{what} n'envoie rien au serveur central : seul le journal réel d'une "
                "caisse y est envoyé.",
                ok=True,
            )

    def _say(self, text: str, *, ok: bool) -> None:
        show_status(self.status, text, ok=ok)

    def _save(self) -> bool:
        text = self.address.text()
        return save_setting(
            self.ctx,
            self.error,
            lambda session: save_central_url(session, text, operator=self.ctx.operator_name),
        )

    def save(self) -> None:
        show_form_error(self.error, "")
        if self._save():
            self._say("Adresse du serveur central enregistrée.", ok=True)
            self.ctx.ledger_changed.emit()  # the worker takes the new address at once

    def send_now(self) -> None:
        """Save what is typed (when this operator may), then upload off the GUI thread."""
        if not ready_to_run(self.ctx, self.error, self.background, self._save):
            return
        self.send_button.setEnabled(False)
        self._say("Envoi au serveur central en cours…", ok=True)
        self.background.run(self._work(), self._done, self._failed)

    def _work(self) -> Callable[[], Any]:
        worker = getattr(self.window(), "sync", None)
        if worker is not None:
            return worker.sync_now
        ledger = self.ctx.ledger
        return lambda: upload_once(ledger)

    def _done(self, result: UploadResult | None) -> None:
        self.send_button.setEnabled(True)
        if result is None:
            self._say("Aucun serveur central n'est indiqué pour cette caisse.", ok=False)
        else:
            self._say(result.summary(), ok=True)
        self.ctx.ledger_changed.emit()

    def _failed(self, error: BaseException) -> None:
        self.send_button.setEnabled(True)
        if isinstance(error, ComptoirError):
            message = error.message
        else:
            message = f"Serveur central injoignable : {type(error).__name__}."
        self._say("", ok=False)
        show_form_error(self.error, message)
        self.ctx.ledger_changed.emit()
