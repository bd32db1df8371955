"""The customer form's line about the e-invoicing directory (annuaire): what it last said
of the customer, and a button to ask it again, off the GUI thread. Saving a company
customer asks it too (``look_up_after_save``)."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from app.customers.service import CustomerInfo
from app.einvoice.pdp.directory import directory_line, look_up_customer
from app.errors import ComptoirError
from app.ui.background import Background
from app.ui.context import AppContext

log = logging.getLogger(__name__)


class DirectoryField(QWidget):
    def __init__(self, ctx: AppContext, customer_id: int | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.customer_id = ctx, customer_id
        self.label = QLabel()
        self.label.setObjectName("directoryStatus")
        self.label.setWordWrap(True)
        self.button = QPushButton("Vérifier dans l'annuaire")
        self.button.setObjectName("checkDirectory")
        self.button.clicked.connect(self.check)
        self.button.setEnabled(customer_id is not None)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        self.background = Background(self)
        self.refresh()

    def refresh(self) -> None:
        self.label.setText(self.ctx.read(lambda s: directory_line(s, self.customer_id)))

    def check(self) -> None:
        if self.customer_id is None:
            return
        self.button.setEnabled(False)
        self.label.setText("Consultation de l'annuaire…")
        ledger, customer_id = self.ctx.ledger, self.customer_id
        self.background.run(lambda: look_up_customer(ledger, customer_id), self._done, self._failed)

    def _done(self, found: object) -> None:
        self.button.setEnabled(True)
        self.refresh()
        self.ctx.ledger_changed.emit()

    def _failed(self, error: BaseException) -> None:
        self.button.setEnabled(True)
        text = error.message if isinstance(error, ComptoirError) else str(error)
        self.label.setText(f"Annuaire non consulté : {text}")


def look_up_after_save(ctx: AppContext, saved: CustomerInfo) -> None:
    """A company customer just created or edited is looked up in the directory, off the
    GUI thread; without a platform configured nothing is asked."""
    if saved.id is None or not saved.is_company or (saved.country or "FR") != "FR":
        return
    if not saved.siren:
        return
    ledger, customer_id = ctx.ledger, saved.id
    background = Background(ctx)

    def done(_: object) -> None:
        ctx.ledger_changed.emit()
        background.deleteLater()

    def failed(error: BaseException) -> None:
        log.info("directory lookup after saving customer %s: %r", customer_id, error)
        background.deleteLater()

    background.run(lambda: look_up_customer(ledger, customer_id), done, failed)
