"""Write an invoice: customer, lines, discount, charges, terms; then issue it.

Issuing validates the Factur-X it would produce (XSD, EN 16931, BR-FR); an invoice with
a blocking finding is not issued and the findings are listed in French.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.catalog.service import search_products
from app.customers.service import search_customers
from app.einvoice.invoices import Charge, InvoiceDraft, compute, excl_vat
from app.errors import ComptoirError, InvalidInput
from app.sales.cart import Discount
from app.ui.context import AppContext
from app.ui.forms import TOUCH_STYLE, error_label, show_form_error
from app.ui.invoices.customer_dialog import CustomerDialog
from app.ui.invoices.lines_model import ChoiceDelegate, DraftLinesModel, new_line
from app.values.money import format_cents, parse_cents, to_decimal


class InvoiceEditor(QDialog):
    issued = Signal(object)  # the IssuedInvoice returned by the service

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.result_value = None
        self.setWindowTitle("Nouvelle facture")
        self.setObjectName("invoiceEditor")
        self.setStyleSheet(TOUCH_STYLE)
        self.resize(1100, 760)

        self.customer = QComboBox()
        self.customer.setObjectName("customer")
        self.customer.currentIndexChanged.connect(self._customer_changed)
        new_customer = QPushButton("Nouveau client…")
        new_customer.setObjectName("newCustomer")
        new_customer.clicked.connect(self.create_customer)
        top = QHBoxLayout()
        top.addWidget(QLabel("Client"))
        top.addWidget(self.customer, 1)
        top.addWidget(new_customer)

        self.model = DraftLinesModel()
        self.model.changed.connect(self.update_totals)
        self.model.refused.connect(lambda message: show_form_error(self.error, message))
        self.table = QTableView()
        self.table.setObjectName("lines")
        self.table.setModel(self.model)
        self.table.setItemDelegate(ChoiceDelegate(self.table))
        self.table.verticalHeader().setDefaultSectionSize(44)
        self.table.setMinimumHeight(180)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

        self.product = QComboBox()
        self.product.setObjectName("product")
        self.product.setEditable(True)
        self.product.setMinimumWidth(320)
        add_product = QPushButton("Ajouter l'article")
        add_product.setObjectName("addProduct")
        add_product.clicked.connect(self.add_product)
        add_free = QPushButton("Ligne libre")
        add_free.setObjectName("addFree")
        add_free.clicked.connect(lambda: self._add(new_line(label="Prestation")))
        remove = QPushButton("Supprimer la ligne")
        remove.setObjectName("removeLine")
        remove.clicked.connect(self.remove_line)
        line_bar = QHBoxLayout()
        for widget in (self.product, add_product, add_free, remove):
            line_bar.addWidget(widget)
        line_bar.addStretch(1)

        self.incl_vat = QCheckBox("Prix saisis TTC")
        self.incl_vat.setObjectName("inclVat")
        self.incl_vat.toggled.connect(self.update_totals)
        self.discount = QLineEdit()
        self.discount.setObjectName("documentDiscount")
        self.discount.setPlaceholderText("10 % ou 15,00")
        self.discount.textChanged.connect(self.update_totals)
        self.shipping = QLineEdit()
        self.shipping.setObjectName("shipping")
        self.shipping.setPlaceholderText("0,00")
        self.shipping.textChanged.connect(self.update_totals)
        self.due_days = QSpinBox()
        self.due_days.setObjectName("dueDays")
        self.due_days.setRange(0, 120)
        self.due_days.setSuffix(" jours")
        self.purchase_order = QLineEdit()
        self.terms = QLineEdit()
        self.terms.setObjectName("paymentTerms")
        self.terms.setPlaceholderText("ex. Paiement à 30 jours fin de mois, par virement")
        self.note = QPlainTextEdit()
        self.note.setObjectName("note")
        self.note.setMaximumHeight(52)
        # Two columns of fields: the lines keep most of a 768-pixel screen.
        form = QGridLayout()
        form.addWidget(self.incl_vat, 0, 1)
        for i, (label, widget) in enumerate(
            (
                ("Remise sur la facture", self.discount),
                ("Frais de port HT (TVA 20 %)", self.shipping),
                ("Échéance", self.due_days),
                ("Conditions de paiement", self.terms),
                ("Bon de commande", self.purchase_order),
                ("Note", self.note),
            )
        ):
            row, column = 1 + i // 2, (i % 2) * 2
            text = QLabel(label)
            text.setWordWrap(True)
            form.addWidget(text, row, column)
            form.addWidget(widget, row, column + 1)
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 1)

        self.totals = QLabel()
        self.totals.setObjectName("totals")
        self.totals.setStyleSheet("font-size: 18px; font-weight: bold;")
        self.error = error_label("editorError")
        self.findings = QPlainTextEdit()
        self.findings.setObjectName("findings")
        self.findings.setReadOnly(True)
        self.findings.setVisible(False)
        self.findings.setMaximumHeight(140)
        issue = QPushButton("Émettre la facture")
        issue.setObjectName("issueInvoice")
        issue.setStyleSheet("font-weight: bold;")
        issue.clicked.connect(self.issue)
        cancel = QPushButton("Fermer sans émettre")
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(issue)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(line_bar)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addWidget(self.totals)
        layout.addWidget(self.error)
        layout.addWidget(self.findings)
        layout.addLayout(buttons)
        self._load_choices()
        self.update_totals()

    # -- choices ---------------------------------------------------------------------------
    def _load_choices(self, select_id: int | None = None) -> None:
        customers, products = self.ctx.read(
            lambda s: (search_customers(s), search_products(s, "", limit=500))
        )
        self.customer.blockSignals(True)
        self.customer.clear()
        self._customers = {c.id: c for c in customers}
        for c in customers:
            self.customer.addItem(f"{c.name} — {c.city}", c.id)
        self.customer.blockSignals(False)
        if select_id is not None:
            self.customer.setCurrentIndex(self.customer.findData(select_id))
        self._customer_changed()
        self.product.clear()
        for p in products:
            self.product.addItem(f"{p.name} — {format_cents(p.price_cents)} TTC", p)

    def _customer_changed(self) -> None:
        customer = self._customers.get(self.customer.currentData())
        if customer is not None:
            self.due_days.setValue(customer.payment_terms_days)

    def create_customer(self) -> None:
        dialog = CustomerDialog(self.ctx, parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.saved is not None:
            self._load_choices(select_id=dialog.saved.id)

    # -- lines -----------------------------------------------------------------------------
    def _add(self, line: dict) -> None:
        row = self.model.add(line)
        self.table.selectRow(row)
        self.table.edit(self.model.index(row, 0))

    def add_product(self) -> None:
        product = self.product.currentData()
        if product is None:
            show_form_error(self.error, "Choisissez un article du catalogue.")
            return
        if not self.incl_vat.isChecked() and not self.model.lines:
            self.incl_vat.setChecked(True)  # catalog prices are VAT-inclusive
        price = product.price_cents
        if not self.incl_vat.isChecked():
            price = excl_vat(price, product.vat_rate_bp)
        self.model.add(
            new_line(
                label=product.name,
                price=price,
                rate=product.vat_rate_bp,
                unit="KGM" if product.weighed else "C62",
                product_id=product.id,
                category="S" if product.vat_rate_bp else "E",
            )
        )

    def remove_line(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.model.remove(rows[0].row())

    # -- the draft -------------------------------------------------------------------------
    def draft(self) -> InvoiceDraft:
        customer_id = self.customer.currentData()
        if customer_id is None:
            raise InvalidInput("Choisissez le client, ou créez-le.")
        text = self.discount.text().strip()
        discount = None
        if text.endswith("%"):
            discount = Discount.percent_of(to_decimal(text[:-1].strip(), "Remise"))
        elif text:
            discount = Discount.amount(parse_cents(text, "Remise"))
        shipping = self.shipping.text().strip()
        charges = (
            (Charge("Frais de port", parse_cents(shipping, "Frais de port"), 2000),)
            if shipping and parse_cents(shipping, "Frais de port")
            else ()
        )
        return InvoiceDraft(
            customer_id=customer_id,
            lines=self.model.inputs(),
            prices_include_vat=self.incl_vat.isChecked(),
            document_discount=discount,
            charges=charges,
            due_days=self.due_days.value(),
            purchase_order=self.purchase_order.text(),
            payment_terms=self.terms.text().strip(),
            note=self.note.toPlainText(),
        )

    def update_totals(self) -> None:
        show_form_error(self.error, "")
        if not self.model.lines:
            self.totals.setText("Ajoutez au moins une ligne.")
            return
        try:
            amounts = compute(self.draft())
        except InvalidInput as exc:
            self.totals.setText("—")
            show_form_error(self.error, exc.message)
            return
        t = amounts.totals
        self.totals.setText(
            f"Total HT : {format_cents(t['total_excl'])}    TVA : {format_cents(t['total_vat'])}"
            f"    Total TTC : {format_cents(t['total'])}"
        )

    def issue(self) -> None:
        from app.einvoice.service import issue_and_store

        show_form_error(self.error, "")
        self.findings.setVisible(False)
        try:
            draft = self.draft()
            with self.ctx.ledger.transaction() as session:
                self.result_value = issue_and_store(session, draft, operator=self.ctx.operator_name)
        except ComptoirError as exc:
            show_form_error(self.error, exc.message)
            findings = getattr(exc, "findings", ())
            if findings:
                self.findings.setPlainText("\n".join(f"{f.rule} — {f.message}" for f in findings))
                self.findings.setVisible(True)
            return
        self.ctx.ledger_changed.emit()
        self.issued.emit(self.result_value)
        self.accept()
