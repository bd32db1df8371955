"""Factures › Autofacturation: suppliers' self-billing mandates (add, end), the
autofactures drawn up under them, a new one in the invoice editor, a self-billed credit
note, the PDF. Autofactures are purchases: they are not in the sales invoices list."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.einvoice.pdp.outbox_status import current_status
from app.einvoice.selfbilling.documents import SelfBilled, list_self_billed
from app.einvoice.selfbilling.mandates import Mandate, end_mandate, list_mandates
from app.errors import ComptoirError
from app.ledger.closures import today
from app.ui.context import AppContext
from app.ui.forms import TOUCH_STYLE, error_label, show_form_error
from app.ui.invoices.credit_note_dialog import CreditNoteDialog
from app.ui.invoices.invoice_editor import InvoiceEditor
from app.ui.invoices.mandate_dialog import MandateDialog, date_edit
from app.ui.models import ListModel
from app.ui.widgets.confirm import ask_confirmation
from app.ui.widgets.pdf_preview import PdfPreviewDialog, show_pdf
from app.values.money import format_cents


def _day(value: date | str | None) -> str:
    if value is None:
        return "—"
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return day.strftime("%d/%m/%Y")


class MandatesModel(ListModel):
    HEADERS = ("Référence", "Fournisseur", "SIREN", "Préfixe", "Début", "Fin", "État")

    def __init__(self, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.today = date.today()

    def display(self, value: Mandate, column: int) -> str:
        return (
            value.reference,
            value.name,
            value.siren,
            value.prefix,
            _day(value.start_date),
            _day(value.end_date),
            value.state_on(self.today),
        )[column]

    def sort_key(self, value: Mandate, column: int) -> Any:
        if column in (4, 5):
            day = value.start_date if column == 4 else value.end_date
            return day.isoformat() if day else "9999"
        return self.display(value, column)


class SelfBilledModel(ListModel):
    HEADERS = (
        "N°",
        "Date",
        "Document",
        "Fournisseur",
        "Mandat",
        "Total TTC",
        "Statut",
        "Plateforme",
    )
    RIGHT_ALIGNED = frozenset({5})

    def __init__(self, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.platform: dict[int, tuple[str, str]] = {}  # by record: label, detail

    def display(self, value: SelfBilled, column: int) -> str:
        if column == 7:
            return self.platform.get(value.status.document.seq, ("—", ""))[0]
        return (
            value.number,
            _day(value.issue_date),
            value.kind,
            value.supplier,
            value.mandate,
            format_cents(value.total),
            value.status.label,
        )[column]

    def sort_key(self, value: SelfBilled, column: int) -> Any:
        if column == 1:
            return value.issue_date
        if column == 5:
            return value.total
        return self.display(value, column)


def _listed(session: Any) -> tuple[list[Mandate], list[SelfBilled], dict, date]:
    """Mandates, self-billed documents and where each stands on the platform, and today."""
    documents = list_self_billed(session)
    platform = {}
    for item in documents:
        seq = item.status.document.seq
        if (found := current_status(session, seq)) is not None:
            platform[seq] = found
    return list_mandates(session), documents, platform, today(session)


def _table(name: str, model: ListModel, stretch: int) -> QTableView:
    table = QTableView()
    table.setObjectName(name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


class SelfBillingDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Autofacturation")
        self.setObjectName("selfBillingDialog")
        self.setStyleSheet(TOUCH_STYLE)
        intro = QLabel(
            "Sous mandat écrit d'un fournisseur, la boutique établit elle-même les factures "
            "de ses achats, au nom et pour le compte de ce fournisseur. Ces autofactures "
            "sont des achats : elles n'entrent ni dans le chiffre d'affaires ni dans les "
            "clôtures."
        )
        intro.setWordWrap(True)
        self.mandates = MandatesModel()
        self.mandate_table = _table("mandateTable", self.mandates, 1)
        self.documents = SelfBilledModel()
        self.document_table = _table("selfBilledTable", self.documents, 3)
        self.document_table.doubleClicked.connect(lambda _: self.open_pdf())
        self.message = QLabel()
        self.message.setObjectName("selfBillingMessage")
        self.message.setWordWrap(True)
        self.buttons: dict[str, QPushButton] = {}
        mandate_bar = self._bar(
            ("newMandate", "Nouveau mandat…", self.new_mandate),
            ("endMandate", "Mettre fin au mandat…", self.end_selected),
            ("newSelfBilled", "Nouvelle autofacture…", self.new_self_billed),
        )
        document_bar = self._bar(
            ("selfCredit", "Avoir d'autofacturation…", self.credit_note),
            ("openSelfBilledPdf", "Ouvrir le PDF", self.open_pdf),
        )
        self.buttons["newSelfBilled"].setProperty("role", "primary")
        close = QPushButton("Fermer")
        close.clicked.connect(self.reject)
        document_bar.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(QLabel("Mandats des fournisseurs"))
        layout.addWidget(self.mandate_table, 2)
        layout.addLayout(mandate_bar)
        layout.addWidget(QLabel("Autofactures et avoirs d'autofacturation émis"))
        layout.addWidget(self.document_table, 3)
        layout.addLayout(document_bar)
        layout.addWidget(self.message)
        self.resize(980, 660)
        ctx.ledger_changed.connect(self.refresh)
        self.refresh()

    def _bar(self, *buttons: tuple[str, str, Any]) -> QHBoxLayout:
        bar = QHBoxLayout()
        for name, label, slot in buttons:
            button = QPushButton(label)
            button.setObjectName(name)
            button.clicked.connect(slot)
            bar.addWidget(button)
            self.buttons[name] = button
        bar.addStretch(1)
        return bar

    def refresh(self) -> None:
        mandates, documents, platform, day = self.ctx.read(_listed)
        self.mandates.today = day
        self.mandates.set_rows(mandates)
        self.documents.platform = platform
        self.documents.set_rows(documents)

    def _selected(self, table: QTableView, model: ListModel) -> Any:
        rows = table.selectionModel().selectedRows()
        return model.row_value(rows[0].row()) if rows else None

    # -- mandates --------------------------------------------------------------------------
    def new_mandate(self) -> MandateDialog:
        dialog = MandateDialog(self.ctx, self.mandates.today, self)
        dialog.accepted.connect(
            lambda: self.message.setText(f"Mandat « {dialog.saved.reference} » enregistré.")
        )
        dialog.open()
        return dialog

    def end_selected(self) -> QDialog | None:
        mandate = self._selected(self.mandate_table, self.mandates)
        if mandate is None:
            self.message.setText("Choisissez le mandat auquel mettre fin.")
            return None
        dialog = EndMandateDialog(self.ctx, mandate, self.mandates.today, self)
        dialog.accepted.connect(lambda: self.message.setText(dialog.said))
        dialog.open()
        return dialog

    def new_self_billed(self) -> InvoiceEditor | None:
        mandates = (self.mandates.row_value(i) for i in range(self.mandates.rowCount()))
        if not any(m.covers(self.mandates.today) for m in mandates):
            self.message.setText(
                "Aucun mandat d'autofacturation n'est en vigueur aujourd'hui : "
                "enregistrez d'abord celui du fournisseur."
            )
            return None
        editor = InvoiceEditor(self.ctx, self, self_billing=True)
        editor.issued.connect(
            lambda issued: self.message.setText(
                f"Autofacture {issued.doc_number} émise : {issued.pdf}"
            )
        )
        editor.open()
        return editor

    # -- documents -------------------------------------------------------------------------
    def credit_note(self) -> CreditNoteDialog | None:
        chosen = self._selected(self.document_table, self.documents)
        if chosen is None or chosen.kind != "Autofacture":
            self.message.setText("Choisissez l'autofacture à corriger.")
            return None
        try:
            dialog = CreditNoteDialog(self.ctx, chosen.number, self, self_billed=True)
        except ComptoirError as exc:
            self.message.setText(exc.message)
            return None

        def done() -> None:
            if dialog.issued is not None:
                self.message.setText(
                    f"Avoir d'autofacturation {dialog.issued.doc_number} émis : {dialog.issued.pdf}"
                )

        dialog.accepted.connect(done)
        dialog.open()
        return dialog

    def open_pdf(self) -> PdfPreviewDialog | None:
        from app.einvoice.service import export_pdf

        chosen = self._selected(self.document_table, self.documents)
        if chosen is None:
            self.message.setText("Choisissez une autofacture.")
            return None
        path = self.ctx.read(lambda s: export_pdf(s, chosen.number))
        return show_pdf(path, f"Autofacture — {path.stem}", said=f"PDF : {path}", parent=self)


class EndMandateDialog(QDialog):
    """The last day a mandate covers, asked and confirmed."""

    def __init__(
        self, ctx: AppContext, mandate: Mandate, today: date, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx, self.mandate, self.said = ctx, mandate, ""
        self.setWindowTitle(f"Fin du mandat « {mandate.reference} »")
        self.setObjectName("endMandateDialog")
        self.setStyleSheet(TOUCH_STYLE)
        self.day = date_edit("mandateEnd", mandate.end_date or today)
        self.error = error_label("endMandateError")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Mettre fin au mandat")
        ok.setObjectName("confirmEndMandate")
        buttons.accepted.connect(self.ask)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(QLabel(f"{mandate.name} — préfixe {mandate.prefix}"))
        form.addRow("Dernier jour couvert", self.day)
        form.addRow(self.error)
        form.addRow(buttons)

    def ask(self) -> None:
        day = self.day.date().toPython()
        ask_confirmation(
            self,
            "Mettre fin au mandat",
            f"Après le {day:%d/%m/%Y}, aucune autofacture ne pourra plus être émise au nom "
            f"de {self.mandate.name} sous ce mandat.",
            yes="Mettre fin",
            then=lambda: self.end(day),
        )

    def end(self, day: date) -> None:
        key, operator = self.mandate.reference, self.ctx.operator_name
        try:
            with self.ctx.ledger.transaction() as session:
                ended = end_mandate(session, key, day, operator=operator)
        except ComptoirError as exc:
            show_form_error(self.error, exc.message)
            return
        self.said = f"Le mandat « {ended.reference} » prend fin le {day:%d/%m/%Y}."
        self.ctx.ledger_changed.emit()
        self.accept()
