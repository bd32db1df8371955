"""Factures: the list of invoices and credit notes, with search and filters, and the
actions on them (new invoice, invoice a ticket, credit note, payment, open the PDF)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.customers.service import search_customers
from app.einvoice.corrections import record_payment
from app.einvoice.drafts import load_draft
from app.einvoice.issuing import InvoiceStatus, list_documents
from app.einvoice.pdp.outbox_status import current_status, unlisted_notice
from app.errors import ComptoirError
from app.sales.payments import PaymentMethod
from app.ui.context import AppContext
from app.ui.errors import show_error
from app.ui.forms import TOUCH_STYLE, Screen
from app.ui.invoices.credit_note_dialog import CreditNoteDialog
from app.ui.invoices.customer_dialog import CustomerDialog
from app.ui.invoices.drafts_dialog import DraftsDialog
from app.ui.invoices.invoice_editor import InvoiceEditor
from app.ui.models import ListModel
from app.ui.widgets.pdf_preview import PdfPreviewDialog, show_pdf
from app.values.money import format_cents, parse_cents

STATUSES = ("À payer", "Partiellement payée", "En retard", "Payée", "Annulée par avoir", "Avoir")


def _date(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


class InvoiceListModel(ListModel):
    HEADERS = ("N°", "Date", "Client", "Total TTC", "Reste dû", "Échéance", "Statut", "Plateforme")
    RIGHT_ALIGNED = frozenset({3, 4})

    def __init__(self, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.platform: dict[int, tuple[str, str]] = {}

    def set_platform(self, statuses: dict[int, tuple[str, str]]) -> None:
        self.platform = statuses

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        if role == Qt.ItemDataRole.ToolTipRole and index.isValid() and index.column() == 7:
            value = self.row_value(index.row())
            return self.platform.get(value.document.seq, ("", ""))[1] or None
        return super().data(index, role)

    def display(self, value: InvoiceStatus, column: int) -> str:
        body = value.document.body
        if column == 7:
            return self.platform.get(value.document.seq, ("—", ""))[0]
        return (
            body["number"],
            _date(body["issue_date"]),
            body["buyer"]["name"],
            format_cents(body["total"]),
            format_cents(value.outstanding),
            _date(body["due_date"]),
            value.label,
        )[column]

    def sort_key(self, value: InvoiceStatus, column: int) -> Any:
        body = value.document.body
        return (
            value.document.seq,
            body["issue_date"],
            body["buyer"]["name"],
            body["total"],
            value.outstanding,
            body["due_date"],
            value.label,
        )[column]


def _with_platform(session, rows):  # type: ignore[no-untyped-def]
    """Each invoice's status on the e-invoicing platform, when it is sent there."""
    statuses = {}
    for row in rows:
        found = current_status(session, row.document.seq)
        if found is not None:
            statuses[row.document.seq] = found
    return rows, statuses


class InvoicesScreen(Screen):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setStyleSheet(TOUCH_STYLE)
        title = QLabel("Factures")
        title.setObjectName("screenTitle")
        self.search = QLineEdit()
        self.search.setObjectName("invoiceSearch")
        self.search.setPlaceholderText("N° de facture ou client…")
        self.search.textChanged.connect(lambda _: self.refresh())
        self.status = QComboBox()
        self.status.setObjectName("statusFilter")
        self.status.addItem("Tous les statuts", None)
        for label in STATUSES:
            self.status.addItem(label, label)
        self.status.currentIndexChanged.connect(lambda _: self.refresh())
        self.customer = QComboBox()
        self.customer.setObjectName("customerFilter")
        self.customer.currentIndexChanged.connect(lambda _: self.refresh())
        self.period = QCheckBox("Période")
        self.period.setObjectName("periodFilter")
        self.start, self.end = QDateEdit(), QDateEdit()
        shop_today = ctx.shop_today()
        today = QDate(shop_today.year, shop_today.month, shop_today.day)
        self.start.setDate(QDate(today.year(), 1, 1))
        self.end.setDate(today)
        for widget in (self.start, self.end):
            widget.setCalendarPopup(True)
            widget.setDisplayFormat("dd/MM/yyyy")
            widget.dateChanged.connect(lambda _: self.refresh())
        self.period.toggled.connect(lambda _: self.refresh())
        filters = QHBoxLayout()
        for widget in (self.search, self.status, self.customer, self.period, self.start, self.end):
            filters.addWidget(widget)

        self.model = InvoiceListModel()
        self.table = QTableView()
        self.table.setObjectName("invoiceTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _: self.open_pdf())

        self.buttons: dict[str, QPushButton] = {}
        bar = QGridLayout()  # rows of four: the screen fits 1024 px
        for i, (name, label, slot) in enumerate(
            (
                ("newInvoice", "Nouvelle facture", self.new_invoice),
                ("invoiceTicket", "Facturer un ticket", self.invoice_ticket),
                ("customers", "Nouveau client", self.new_customer),
                ("creditNote", "Avoir…", self.credit_note),
                ("payment", "Règlement…", self.payment),
                ("openPdf", "Ouvrir le PDF", self.open_pdf),
                ("cashed", "Déclarer l'encaissement", self.report_cashed),
                ("inbox", "Factures fournisseurs…", self.open_inbox),
                ("drafts", "Brouillons…", self.open_drafts),
                ("selfBilling", "Autofacturation…", self.open_self_billing),
            )
        ):
            button = QPushButton(label)
            button.setObjectName(name)
            button.clicked.connect(slot)
            bar.addWidget(button, i // 4, i % 4)
            self.buttons[name] = button
        self.message = QLabel()
        self.message.setObjectName("invoiceMessage")
        self.message.setWordWrap(True)

        self.unlisted = QLabel()  # invoices waiting for the directory to know their buyer
        self.unlisted.setObjectName("unlistedBanner")
        self.unlisted.setWordWrap(True)
        self.unlisted.setStyleSheet("background: #fff3cd; color: #6d4c00; padding: 6px;")
        self.unlisted.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.unlisted)
        layout.addLayout(filters)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        self._loading = False

    # -- data ------------------------------------------------------------------------------
    def refresh(self) -> None:
        if self._loading:
            return
        super().refresh()
        self._loading = True
        try:
            self._fill_customers()
            text, status, customer = (
                self.search.text(),
                self.status.currentData(),
                self.customer.currentData(),
            )
            start = self.start.date().toPython() if self.period.isChecked() else None
            end = self.end.date().toPython() if self.period.isChecked() else None
            rows, platform = self.ctx.read(
                lambda s: _with_platform(
                    s,
                    list_documents(
                        s, text=text, status=status, customer_id=customer, start=start, end=end
                    ),
                )
            )
            self.model.set_platform(platform)
            self.model.set_rows(rows)
            notice = self.ctx.read(unlisted_notice)
            self.unlisted.setText(notice or "")
            self.unlisted.setVisible(bool(notice))
        finally:
            self._loading = False

    def _fill_customers(self) -> None:
        current = self.customer.currentData()
        customers = self.ctx.read(search_customers)
        self.customer.blockSignals(True)
        self.customer.clear()
        self.customer.addItem("Tous les clients", None)
        for c in customers:
            self.customer.addItem(c.name, c.id)
        index = self.customer.findData(current)
        self.customer.setCurrentIndex(max(index, 0))
        self.customer.blockSignals(False)

    def selected(self) -> InvoiceStatus | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_value(rows[0].row()) if rows else None

    def _say(self, text: str) -> None:
        self.message.setText(text)

    # -- actions ---------------------------------------------------------------------------
    def new_invoice(
        self, draft_id: int | None = None, *, self_billing: bool = False
    ) -> InvoiceEditor:
        state = None
        if draft_id is not None:
            try:
                state = self.ctx.read(lambda s: load_draft(s, draft_id))
            except ComptoirError as exc:
                show_error(self, exc)
            else:
                self_billing = "mandate_id" in state  # an autofacture's draft
        editor = InvoiceEditor(self.ctx, self, draft_id=draft_id, self_billing=self_billing)
        what = "Autofacture" if self_billing else "Facture"
        editor.issued.connect(
            lambda issued: self._say(f"{what} {issued.doc_number} émise : {issued.pdf}")
        )
        editor.draft_saved.connect(
            lambda text: self._say(f"{text} Il se reprend depuis « Brouillons… ».")
        )
        if draft_id is not None:
            if state is None:
                return editor
            editor.load_state(state)
        editor.open()
        return editor

    def open_self_billing(self) -> QDialog:
        """Mandates of suppliers, and the autofactures drawn up under them."""
        from app.ui.invoices.self_billing_dialog import SelfBillingDialog

        dialog = SelfBillingDialog(self.ctx, self)
        dialog.open()
        return dialog

    def open_drafts(self) -> DraftsDialog:
        dialog = DraftsDialog(self.ctx, self)
        dialog.resume.connect(self.new_invoice)
        dialog.open()
        return dialog

    def new_customer(self) -> None:
        CustomerDialog(self.ctx, parent=self).open()

    def invoice_ticket(self) -> None:
        from app.einvoice.issuing import draft_from_ticket
        from app.einvoice.service import issue_and_store

        number, ok = QInputDialog.getInt(
            self, "Facturer un ticket", "Numéro du ticket :", 1, 1, 10**9
        )
        if not ok:
            return
        customer = self.customer.currentData()
        if customer is None:
            customers = self.ctx.read(search_customers)
            if not customers:
                self._say("Créez d'abord le client (« Nouveau client »).")
                return
            names = [f"{c.name} — {c.city}" for c in customers]
            chosen, ok = QInputDialog.getItem(
                self, "Facturer un ticket", "Client :", names, 0, False
            )
            if not ok:
                return
            customer = customers[names.index(chosen)].id
        operator = self.ctx.operator_name
        issued = self.ctx.write(
            self,
            lambda s: issue_and_store(s, draft_from_ticket(s, number, customer), operator=operator),
        )
        if issued is not None:
            self._say(f"Facture {issued.doc_number} émise pour le ticket n°{number}.")

    def credit_note(self) -> CreditNoteDialog | None:
        """Credit the chosen invoice, wholly or line by line (quantities chosen)."""
        state = self.selected()
        if state is None or state.document.is_credit_note:
            self._say("Choisissez la facture à créditer.")
            return None
        dialog = CreditNoteDialog(self.ctx, state.document.doc_number, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def done() -> None:
            if dialog.issued is not None:
                self._say(f"Avoir {dialog.issued.doc_number} émis : {dialog.issued.pdf}")

        dialog.accepted.connect(done)
        dialog.open()
        return dialog

    def payment(self) -> None:
        state = self.selected()
        if state is None or state.document.is_credit_note:
            self._say("Choisissez la facture réglée.")
            return
        text, ok = QInputDialog.getText(
            self,
            "Règlement",
            f"Montant reçu (reste dû {format_cents(state.outstanding)}) :",
            text=format_cents(state.outstanding).replace(" €", ""),
        )
        if not ok:
            return
        number, operator = state.document.doc_number, self.ctx.operator_name
        try:
            amount = parse_cents(text, "Règlement")
        except ComptoirError as exc:
            show_error(self, exc)
            return
        if self.ctx.write(
            self,
            lambda s: record_payment(
                s, number, amount, method=PaymentMethod.CARD, operator=operator
            ),
        ):
            self._say(f"Règlement de {format_cents(amount)} enregistré sur {number}.")

    def report_cashed(self) -> None:
        """Queue the 212 "Encaissée" status, for services paid in full whose VAT falls due
        on payment. It is stored with the click, so a platform down at that moment loses
        nothing: the background sender delivers it, once, as it does invoices."""
        from app.einvoice.pdp.inbox import vat_due_on_payment
        from app.einvoice.pdp.outbox import queue_cashed

        state = self.selected()
        if state is None or state.document.is_credit_note:
            self._say("Choisissez la facture encaissée.")
            return
        if not vat_due_on_payment(state.document.body):
            self._say(
                "Cette facture relève de la TVA sur les débits (ou de livraisons de "
                "biens) : l'encaissement n'est pas à déclarer."
            )
            return
        number = state.document.doc_number
        if self.ctx.write(self, lambda s: queue_cashed(s, number)) is not None:
            self._say(
                f"Encaissement de {number} enregistré : 212 Encaissée en attente d'envoi "
                "à la plateforme."
            )

    def open_inbox(self) -> QDialog:
        from app.ui.invoices.inbox_dialog import InboxDialog

        dialog = InboxDialog(self.ctx, self)
        dialog.open()
        return dialog

    def pdf_path(self) -> Path | None:
        from app.einvoice.service import export_pdf

        state = self.selected()
        if state is None:
            self._say("Choisissez une facture.")
            return None
        number = state.document.doc_number
        return self.ctx.read(lambda s: export_pdf(s, number))

    def open_pdf(self) -> PdfPreviewDialog | None:
        """The invoice on screen, to print or open in the PDF reader."""
        path = self.pdf_path()
        if path is None:
            return None
        self._say(f"PDF : {path}")
        return show_pdf(path, f"Facture — {path.stem}", said=f"PDF : {path}", parent=self)
