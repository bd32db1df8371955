"""Credit an issued invoice: all of it, or chosen quantities of chosen lines.

Each line shows what is left to credit after the earlier credit notes; the service
refuses a credit note worth more than what remains of the invoice.
"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.einvoice.corrections import creditable_lines
from app.errors import ComptoirError
from app.ui.context import AppContext
from app.ui.forms import TOUCH_STYLE, error_label, show_form_error
from app.ui.widgets.confirm import ask_confirmation
from app.values.money import format_cents

HEADERS = ("À créditer", "Désignation", "Facturé", "Reste", "Quantité", "Montant HT")


def _qty(value: Decimal) -> str:
    return format(value.normalize(), "f").replace(".", ",")


class CreditNoteDialog(QDialog):
    def __init__(
        self,
        ctx: AppContext,
        invoice: str,
        parent: QWidget | None = None,
        *,
        self_billed: bool = False,  # an autofacture: a self-billed credit note (261)
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.invoice = invoice
        self.self_billed = self_billed
        self.issued = None  # what credit_and_store returned
        self.setWindowTitle(
            f"Avoir d'autofacturation sur {invoice}"
            if self_billed
            else f"Avoir sur la facture {invoice}"
        )
        self.setObjectName("creditNoteDialog")
        self.setStyleSheet(TOUCH_STYLE)
        self.lines = ctx.read(lambda s: creditable_lines(s, invoice))
        self.whole = QCheckBox("Créditer toute la facture (avoir total)")
        self.whole.setObjectName("wholeInvoice")
        self.whole.toggled.connect(self._whole_toggled)
        self.table = QTableWidget(len(self.lines), len(HEADERS))
        self.table.setObjectName("creditLines")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(44)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.checks: list[QCheckBox] = []
        self.quantities: list[QDoubleSpinBox] = []
        for row, line in enumerate(self.lines):
            check = QCheckBox()
            check.setObjectName(f"creditLine{row}")
            check.setEnabled(line.left > 0)
            check.toggled.connect(self.update_total)
            spin = QDoubleSpinBox()
            spin.setObjectName(f"creditQty{row}")
            spin.setDecimals(3)
            spin.setRange(0, float(line.left))
            spin.setValue(float(line.left))
            spin.setEnabled(line.left > 0)
            spin.valueChanged.connect(lambda _value, check=check: check.setChecked(True))
            spin.valueChanged.connect(self.update_total)
            self.table.setCellWidget(row, 0, check)
            self.table.setItem(row, 1, QTableWidgetItem(line.label))
            self.table.setItem(row, 2, QTableWidgetItem(_qty(line.sold)))
            self.table.setItem(row, 3, QTableWidgetItem(_qty(line.left)))
            self.table.setCellWidget(row, 4, spin)
            self.table.setItem(row, 5, QTableWidgetItem(format_cents(line.net)))
            self.checks.append(check)
            self.quantities.append(spin)
        self.reason = QLineEdit()
        self.reason.setObjectName("creditReason")
        self.reason.setPlaceholderText("ex. Article retourné, erreur de prix")
        form = QFormLayout()
        form.addRow("Motif", self.reason)
        self.total = QLabel()
        self.total.setObjectName("creditTotal")
        self.total.setStyleSheet("font-weight: bold;")
        self.error = error_label("creditError")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Émettre l'avoir")
        ok.setObjectName("issueCreditNote")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
        buttons.accepted.connect(self.issue)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.whole)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addWidget(self.total)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(900, 560)
        self.update_total()

    def _whole_toggled(self, whole: bool) -> None:
        self.table.setEnabled(not whole)
        self.update_total()

    def chosen(self) -> list[tuple[int, Decimal]] | None:
        """The lines and quantities to credit; None: the whole invoice."""
        if self.whole.isChecked():
            return None
        return [
            (row, Decimal(str(round(spin.value(), 3))))
            for row, (check, spin) in enumerate(zip(self.checks, self.quantities, strict=True))
            if check.isChecked() and spin.value() > 0
        ]

    def update_total(self) -> None:
        chosen = self.chosen()
        if chosen is None:
            self.total.setText("Avoir total : toute la facture (moins les avoirs déjà émis).")
            return
        net = sum(
            self.lines[row].net_for(qty) for row, qty in chosen
        )  # an estimate: the service prices the credit note exactly
        count = len(chosen)
        self.total.setText(
            f"{count} ligne{'s' if count > 1 else ''} à créditer, environ {format_cents(net)} HT."
            if chosen
            else "Cochez les lignes à créditer et leur quantité."
        )

    def issue(self) -> None:
        """Ask first: a credit note, once issued, cannot be withdrawn."""
        show_form_error(self.error, "")
        lines = self.chosen()
        if lines is not None and not lines:
            show_form_error(self.error, "Choisissez au moins une ligne à créditer.")
            return
        if not self.reason.text().strip():
            show_form_error(self.error, "Indiquez le motif de l'avoir.")
            self.reason.setFocus()
            return
        what = (
            "toute la facture"
            if lines is None
            else f"{len(lines)} ligne{'s' if len(lines) > 1 else ''}"
        )
        ask_confirmation(
            self,
            "Émettre l'avoir",
            f"Émettre un avoir sur la facture {self.invoice} ({what}) ?\n"
            "Un avoir émis est définitif : il ne peut être ni modifié ni supprimé.",
            yes="Émettre l'avoir",
            then=lambda: self._issue(lines),
        )

    def _issue(self, lines: list[tuple[int, Decimal]] | None) -> None:
        from app.einvoice.service import credit_and_store, self_credit_and_store

        reason = self.reason.text()
        invoice, operator = self.invoice, self.ctx.operator_name
        try:
            with self.ctx.ledger.transaction() as session:
                issue = self_credit_and_store if self.self_billed else credit_and_store
                self.issued = issue(session, invoice, operator=operator, reason=reason, lines=lines)
        except ComptoirError as exc:
            show_form_error(self.error, exc.message)
            return
        self.ctx.ledger_changed.emit()
        self.accept()
