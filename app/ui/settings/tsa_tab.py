"""Réglages › Horodatage: the RFC 3161 time-stamping authority that dates each closure and
archive (date certaine), a « Tester » button, and « Horodater maintenant » for what waits.

Choosing the authority is journaled (``app.ledger.timestamps.queue``); the round trips run
off the GUI thread (``app.timestamping.service``), with a short timeout.
"""

from __future__ import annotations

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.errors import ComptoirError
from app.ledger.operators import Permission
from app.ledger.timestamps.queue import (
    StampOutcome,
    pending,
    set_tsa_url,
    stamped_count,
    tsa_url,
)
from app.ledger.timestamps.token import Stamp
from app.timestamping.service import stamp_pending, try_authority
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

INTRO = (
    "Chaque clôture (Z) et chaque archive peut être horodatée par une autorité "
    "d'horodatage (RFC 3161) : son jeton signé prouve que la clôture existait à cette date, "
    "sans que le commerçant puisse la refaire après coup. Sans réseau, la demande attend et "
    "part à la clôture suivante, au démarrage ou avec « Horodater maintenant ». "
    "Laissez vide pour ne pas horodater."
)


class TsaTab(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.background = Background(self)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.address = QLineEdit()
        self.address.setObjectName("tsaUrlEdit")
        self.address.setPlaceholderText("https://freetsa.org/tsr")
        form = QFormLayout()
        form.addRow("Autorité d'horodatage", self.address)
        self.save_button = push_button("Enregistrer", "saveTsaButton", self.save)
        self.test_button = push_button("Tester", "tsaTestButton", self.try_it)
        self.stamp_button = push_button("Horodater maintenant", "tsaStampButton", self.stamp_now)
        self.error = error_label("tsaError")
        self.queue = status_label("tsaQueue")
        self.status = status_label("tsaStatus")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addLayout(buttons_row(self.save_button, self.test_button, self.stamp_button))
        layout.addWidget(self.error)
        layout.addWidget(self.queue)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        editable = self.ctx.ledger.kind == "real" and self.ctx.can(Permission.EDIT_SETTINGS)
        self.address.setEnabled(editable)
        self.save_button.setEnabled(editable)
        idle = not self.background.busy
        self.test_button.setEnabled(idle)
        self.stamp_button.setEnabled(idle)
        self.address.setText(self.ctx.read(tsa_url))
        waiting = len(self.ctx.read(pending))
        kept = self.ctx.read(stamped_count)
        self.queue.setText(
            f"Jetons d'horodatage gardés : {kept} ; en attente : {waiting}."
            if self.address.text() or kept
            else "Aucune autorité d'horodatage : les clôtures ne sont pas horodatées."
        )

    def _say(self, text: str, *, ok: bool) -> None:
        show_status(self.status, text, ok=ok)

    def save(self) -> bool:
        show_form_error(self.error, "")
        text = self.address.text()
        saved = save_setting(
            self.ctx,
            self.error,
            lambda session: set_tsa_url(session, text, operator=self.ctx.operator_name),
        )
        if saved:
            self._say("Autorité d'horodatage enregistrée.", ok=True)
            self.refresh()
            self.ctx.ledger_changed.emit()
        return saved

    def try_it(self) -> None:
        """Stamp a throwaway digest with the address typed (saved or not)."""
        show_form_error(self.error, "")
        if self.background.busy:
            return
        url = self.address.text()
        self._busy("Demande d'un jeton d'essai…")
        self.background.run(lambda: try_authority(url), self._tried, self._failed)

    def stamp_now(self) -> None:
        show_form_error(self.error, "")
        if self.background.busy:
            return
        may_edit = self.ctx.can(Permission.EDIT_SETTINGS)
        if may_edit and self.address.isModified() and not self.save():
            return
        ledger = self.ctx.ledger
        self._busy("Horodatage en cours…")
        self.background.run(lambda: stamp_pending(ledger), self._stamped, self._failed)

    def _busy(self, text: str) -> None:
        self.test_button.setEnabled(False)
        self.stamp_button.setEnabled(False)
        self._say(text, ok=True)

    def _tried(self, stamp: Stamp) -> None:
        self.refresh()
        self._say(
            f"L'autorité répond : jeton valide, daté du {stamp.gen_time:%d/%m/%Y à %H:%M:%S} "
            f"UTC, signé par {stamp.tsa}.",
            ok=True,
        )

    def _stamped(self, outcome: StampOutcome) -> None:
        self.refresh()
        self._say(outcome.summary(), ok=outcome.error is None)
        for warning in outcome.archive_warnings:
            show_form_error(self.error, warning)
        self.ctx.ledger_changed.emit()

    def _failed(self, error: BaseException) -> None:
        self.refresh()
        message = error.message if isinstance(error, ComptoirError) else repr(error)
        self._say("", ok=False)
        show_form_error(self.error, f"Échec : {message[:1].upper()}{message[1:]}")
