"""Factures fournisseurs: invoices received through the platform, and the shop's answer
(taken over, approved, partly approved, disputed, suspended, refused, payment sent; a
reason from the official list where the rules ask one). Answers travel off the GUI
thread."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.einvoice.pdp.cdar import REASON_LABELS, REASONS_FOR
from app.einvoice.pdp.inbox import IncomingSummary, answer_incoming, list_incoming
from app.einvoice.pdp.worker import configured_client
from app.errors import ComptoirError
from app.ui.background import Background
from app.ui.context import AppContext
from app.ui.forms import TOUCH_STYLE
from app.ui.models import ListModel
from app.values.money import format_cents

STATUS_LABELS = {
    "received": "Reçue",
    "approved": "Approuvée",
    "disputed": "En litige",
    "refused": "Refusée",
    "taken": "Prise en charge",
    "part_approved": "Approuvée partiellement",
    "suspended": "Suspendue",
    "payment_sent": "Paiement transmis",
}
ANSWER_BUTTONS = (
    ("204", "Prendre en charge"),
    ("205", "Approuver"),
    ("206", "Approuver en partie…"),
    ("207", "Contester…"),
    ("208", "Suspendre…"),
    ("210", "Refuser…"),
    ("211", "Paiement transmis"),
)


class IncomingModel(ListModel):
    HEADERS = ("Reçue le", "Émise par", "Type", "N°", "Date", "Total TTC", "Contrôle", "Statut")
    RIGHT_ALIGNED = frozenset({5})

    def display(self, value: IncomingSummary, column: int) -> str:
        total = "" if value.total_cents is None else format_cents(value.total_cents)
        # A self-billed invoice is drawn up by the buyer (the shop's customer) in the
        # shop's name: the one who sent it is the buyer, not the seller.
        issuer = value.buyer_name if value.self_billed else value.supplier_name
        kind = f"{value.kind} (établie par votre client)" if value.self_billed else value.kind
        return (
            value.received_at[:10],
            issuer,
            kind,
            value.number,
            value.issue_date,
            total,
            "Valide" if value.valid else value.validation,
            STATUS_LABELS.get(value.status, value.status),
        )[column]

    def sort_key(self, value: IncomingSummary, column: int) -> Any:
        return self.display(value, column)


class InboxDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Factures fournisseurs")
        self.setObjectName("inboxDialog")
        self.setStyleSheet(TOUCH_STYLE)
        self.resize(1000, 520)
        self.model = IncomingModel()
        self.table = QTableView()
        self.table.setObjectName("incomingTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.message = QLabel()
        self.message.setObjectName("inboxMessage")
        self.message.setWordWrap(True)
        bar = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for code, label in ANSWER_BUTTONS:
            button = QPushButton(label)
            button.setObjectName(f"answer{code}")
            button.clicked.connect(lambda _=False, c=code: self.answer(c))
            bar.addWidget(button)
            self.buttons[code] = button
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        self.background = Background(self)
        self.refresh()

    def refresh(self) -> None:
        self.model.set_rows(self.ctx.read(list_incoming))

    def selected(self) -> IncomingSummary | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_value(rows[0].row()) if rows else None

    def answer(self, code: str, reason: str | None = None, reason_code: str | None = None) -> None:
        incoming = self.selected()
        if incoming is None:
            self.message.setText("Choisissez une facture.")
            return
        if code in REASONS_FOR and reason_code is None:
            choices = [f"{REASON_LABELS[c]} ({c})" for c in REASONS_FOR[code]]
            choice, ok = QInputDialog.getItem(
                self, "Motif", "Motif (liste officielle) :", choices, 0, False
            )
            if not ok:
                return
            reason_code = REASONS_FOR[code][choices.index(choice)]
        if code in REASONS_FOR and reason is None:
            reason, ok = QInputDialog.getText(self, "Précision", "Précisez le motif (facultatif) :")
            if not ok:
                return
        ledger, reason = self.ctx.ledger, reason or ""
        for button in self.buttons.values():
            button.setEnabled(False)
        self.message.setText("Envoi de la réponse à la plateforme…")

        def send() -> None:
            client = configured_client(ledger)
            if client is None:
                raise ComptoirError(
                    "Aucune plateforme de facturation électronique n'est configurée."
                )
            try:
                with ledger.transaction() as session:
                    answer_incoming(
                        session, client, incoming.id, code, reason, reason_code=reason_code
                    )
            finally:
                client.close()

        self.background.run(send, self._answered, self._failed)

    def _enable(self) -> None:
        for button in self.buttons.values():
            button.setEnabled(True)

    def _answered(self, _result: object) -> None:
        self._enable()
        self.message.setText("Réponse transmise à la plateforme.")
        self.refresh()
        self.ctx.ledger_changed.emit()

    def _failed(self, error: BaseException) -> None:
        self._enable()
        text = error.message if isinstance(error, ComptoirError) else str(error)
        self.message.setText(f"La réponse n'a pas été transmise : {text}")
