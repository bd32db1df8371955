"""Clients: the customer file — list, search (name, SIREN, city), edit, and each
customer's invoices and credit notes."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.customers.service import CustomerInfo, get_customer, search_customers
from app.einvoice.issuing import InvoiceStatus, customer_history
from app.ui.context import AppContext
from app.ui.forms import TOUCH_STYLE, Screen
from app.ui.invoices.customer_dialog import CustomerDialog
from app.ui.models import ListModel
from app.values.money import format_cents


class CustomerListModel(ListModel):
    HEADERS = ("Nom", "Type", "SIREN", "Ville", "E-mail", "Délai")
    RIGHT_ALIGNED = frozenset({5})

    def display(self, value: CustomerInfo, column: int) -> str:
        kind = "Entreprise" if value.is_company else "Particulier"
        if value.public_sector:
            kind = "Public (Chorus Pro)"
        if not value.active:
            kind += " — inactif"
        return (
            value.name,
            kind,
            value.siren,
            f"{value.postcode} {value.city}".strip(),
            value.email,
            f"{value.payment_terms_days} j",
        )[column]

    def sort_key(self, value: CustomerInfo, column: int) -> Any:
        return (
            value.name.lower(),
            value.kind,
            value.siren,
            value.city.lower(),
            value.email,
            value.payment_terms_days,
        )[column]


class HistoryModel(ListModel):
    HEADERS = ("N°", "Date", "Document", "Total TTC", "Reste dû", "Statut")
    RIGHT_ALIGNED = frozenset({3, 4})

    def display(self, value: InvoiceStatus, column: int) -> str:
        body = value.document.body
        kind = "Avoir" if value.document.is_credit_note else "Facture"
        if body.get("preceding"):
            kind += f" sur {body['preceding']['number']}"
        return (
            body["number"],
            date.fromisoformat(body["issue_date"]).strftime("%d/%m/%Y"),
            kind,
            format_cents(body["total"]),
            format_cents(value.outstanding),
            value.label,
        )[column]

    def sort_key(self, value: InvoiceStatus, column: int) -> Any:
        body = value.document.body
        return (
            value.document.seq,
            body["issue_date"],
            value.document.is_credit_note,
            body["total"],
            value.outstanding,
            value.label,
        )[column]


def _table(name: str, model: ListModel) -> QTableView:
    table = QTableView()
    table.setObjectName(name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(40)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return table


class CustomersScreen(Screen):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("customersScreen")
        self.setStyleSheet(TOUCH_STYLE)
        title = QLabel("Clients")
        title.setObjectName("screenTitle")
        self.search = QLineEdit()
        self.search.setObjectName("customerSearch")
        self.search.setPlaceholderText("Nom, SIREN ou ville…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _: self.refresh())
        self.inactive = QCheckBox("Afficher les clients inactifs")
        self.inactive.setObjectName("showInactive")
        self.inactive.toggled.connect(lambda _: self.refresh())
        self.new_button = QPushButton("Nouveau client")
        self.new_button.setObjectName("newCustomer")
        self.new_button.clicked.connect(self.new_customer)
        self.edit_button = QPushButton("Modifier…")
        self.edit_button.setObjectName("editCustomer")
        self.edit_button.clicked.connect(self.edit_customer)
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.inactive)
        bar.addWidget(self.new_button)
        bar.addWidget(self.edit_button)

        self.model = CustomerListModel(self)
        self.table = _table("customerTable", self.model)
        self.table.doubleClicked.connect(lambda _: self.edit_customer())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self.show_history())
        self.history_title = QLabel("Documents du client")
        self.history_title.setObjectName("historyTitle")
        self.history_title.setWordWrap(True)
        self.history_model = HistoryModel(self)
        self.history = _table("customerHistory", self.history_model)
        self.history.doubleClicked.connect(lambda index: self.open_document(index.row()))
        self.history.setToolTip("Double-cliquez sur un document pour ouvrir son PDF.")
        history_header = self.history.horizontalHeader()
        history_header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        history_header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.history_title)
        lower_layout.addWidget(self.history, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.message = QLabel()
        self.message.setObjectName("customerMessage")
        self.message.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addWidget(self.message)

    # -- data ------------------------------------------------------------------------------
    def refresh(self) -> None:
        super().refresh()
        chosen = self.selected()
        text, inactive = self.search.text(), self.inactive.isChecked()
        rows = self.ctx.read(lambda s: search_customers(s, text, inactive=inactive))
        self.model.set_rows(rows)
        self.message.setText(
            "" if rows else "Aucun client ne correspond à la recherche." if text else ""
        )
        if chosen is not None:
            for row, value in enumerate(rows):
                if value.id == chosen.id:
                    self.table.selectRow(row)
                    break
        self.show_history()

    def selected(self) -> CustomerInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_value(rows[0].row()) if rows else None

    def show_history(self) -> None:
        customer = self.selected()
        if customer is None:
            self.history_model.set_rows([])
            self.history_title.setText("Documents du client : choisissez un client.")
            return
        rows = self.ctx.read(lambda s: customer_history(s, customer.id))
        self.history_model.set_rows(rows)
        invoices = sum(1 for r in rows if not r.document.is_credit_note)
        credits = len(rows) - invoices
        due = sum(r.outstanding for r in rows)
        words = [
            f"{invoices} facture{'s' if invoices > 1 else ''}",
            f"{credits} avoir{'s' if credits > 1 else ''}",
        ]
        self.history_title.setText(
            f"Documents de {customer.name} : {', '.join(words)} ; reste dû {format_cents(due)}."
        )

    # -- actions ---------------------------------------------------------------------------
    def open_document(self, row: int) -> Path | None:
        """The chosen invoice or credit note's Factur-X PDF, opened by the system."""
        from app.einvoice.service import export_pdf

        state = self.history_model.row_value(row)
        if state is None:
            return None
        number = state.document.doc_number
        path = self.ctx.read(lambda s: export_pdf(s, number))
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
        self.message.setText(f"PDF : {path}")
        return path

    def new_customer(self) -> CustomerDialog:
        return self._open(CustomerDialog(self.ctx, parent=self))

    def edit_customer(self) -> CustomerDialog | None:
        customer = self.selected()
        if customer is None:
            self.message.setText("Choisissez le client à modifier.")
            return None
        current = self.ctx.read(lambda s: get_customer(s, customer.id))
        return self._open(CustomerDialog(self.ctx, current, parent=self))

    def _open(self, dialog: CustomerDialog) -> CustomerDialog:
        def saved() -> None:
            if dialog.saved is not None:
                self.refresh()
                for row in range(self.model.rowCount()):
                    if self.model.row_value(row).id == dialog.saved.id:
                        self.table.selectRow(row)
                        break
                self.message.setText(f"Client « {dialog.saved.name} » enregistré.")

        dialog.accepted.connect(saved)
        dialog.open()
        return dialog
