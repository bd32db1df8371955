"""Write an invoice: customer, lines, discount, charges, terms; then issue it.

In self-billing mode (``self_billing=True``) the same editor writes an autofacture: the
shop is the buyer and draws the invoice up in the name of a supplier chosen among the
mandates in force (``app.einvoice.selfbilling``); everything else is the same.

Issuing asks first (an issued invoice is final: it is corrected only by a credit note) and
validates the Factur-X it would produce (XSD, EN 16931, BR-FR); an invoice with a blocking
finding is not issued and the findings are listed in French. Closing the editor with
something written in it keeps a draft, resumed from Factures › Brouillons.
"""

from __future__ import annotations

from typing import Any

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
from app.einvoice.drafts import delete_draft, save_draft
from app.einvoice.invoices import Charge, InvoiceDraft, compute, excl_vat
from app.einvoice.selfbilling.mandates import list_mandates
from app.errors import ComptoirError, InvalidInput
from app.ledger.closures import today
from app.sales.cart import Discount
from app.ui.context import AppContext
from app.ui.forms import TOUCH_STYLE, error_label, show_form_error
from app.ui.invoices.customer_dialog import CustomerDialog
from app.ui.invoices.lines_model import ChoiceDelegate, DraftLinesModel, new_line
from app.ui.widgets.confirm import ask_confirmation
from app.values.money import format_cents, parse_cents, to_decimal


class InvoiceEditor(QDialog):
    issued = Signal(object)  # the IssuedInvoice returned by the service
    draft_saved = Signal(str)  # what was kept, in French

    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget | None = None,
        *,
        draft_id: int | None = None,
        self_billing: bool = False,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.result_value = None
        self.draft_id = draft_id
        self.self_billing = self_billing
        self.setWindowTitle("Nouvelle autofacture" if self_billing else "Nouvelle facture")
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
        if self_billing:
            banner = QLabel(
                "Autofacturation : la boutique, acheteuse, établit la facture au nom et pour "
                "le compte du fournisseur qui lui en a donné mandat."
            )
            banner.setObjectName("selfBillingBanner")
            banner.setWordWrap(True)
            banner.setStyleSheet("background: #e8f0fe; color: #1a3d7c; padding: 6px;")
            new_customer.hide()
        top.addWidget(QLabel("Fournisseur (mandat)" if self_billing else "Client"))
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
        remove.setProperty("role", "danger")
        remove.clicked.connect(self.remove_line)
        line_bar = QHBoxLayout()
        for widget in (self.product, add_product, add_free, remove):
            line_bar.addWidget(widget)
        line_bar.addStretch(1)
        if self_billing:  # the catalog holds the shop's selling prices, not the supplier's
            self.product.hide()
            add_product.hide()
            add_free.setText("Ajouter une ligne")

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
        if self_billing:
            self.due_days.setValue(30)
        self.due_days.setSuffix(" jours")
        self.purchase_order = QLineEdit()
        self.purchase_order.setObjectName("purchaseOrder")
        self.purchase_order.setPlaceholderText("n° de commande, ou d'engagement (acheteur public)")
        self.service_code = QLineEdit()
        self.service_code.setObjectName("serviceCode")
        self.service_code.setPlaceholderText("code service de l'acheteur public (Chorus Pro)")
        self.terms = QLineEdit()
        self.terms.setObjectName("paymentTerms")
        self.terms.setPlaceholderText("ex. Paiement à 30 jours fin de mois, par virement")
        self.note = QPlainTextEdit()
        self.note.setObjectName("note")
        self.note.setMaximumHeight(52)
        # Two columns of fields: the lines keep most of a 768-pixel screen.
        form = QGridLayout()
        form.addWidget(self.incl_vat, 0, 1)
        fields = [
            ("Remise sur la facture", self.discount),
            ("Frais de port HT (TVA 20 %)", self.shipping),
            ("Échéance", self.due_days),
            ("Conditions de paiement", self.terms),
            ("Bon de commande / engagement", self.purchase_order),
            ("Code service", self.service_code),
            ("Note", self.note),
        ]
        if self_billing:  # no public buyer here: the buyer is the shop
            fields.remove(("Code service", self.service_code))
            self.service_code.hide()
        for i, (label, widget) in enumerate(fields):
            row, column = 1 + i // 2, (i % 2) * 2
            text = QLabel(label)
            text.setWordWrap(True)
            form.addWidget(text, row, column)
            form.addWidget(widget, row, column + 1)
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 1)

        self.totals = QLabel()
        self.totals.setObjectName("totals")
        self.error = error_label("editorError")
        self.findings = QPlainTextEdit()
        self.findings.setObjectName("findings")
        self.findings.setReadOnly(True)
        self.findings.setVisible(False)
        self.findings.setMaximumHeight(140)
        issue = QPushButton("Émettre l'autofacture" if self_billing else "Émettre la facture")
        issue.setObjectName("issueInvoice")
        issue.setProperty("role", "primary")
        issue.clicked.connect(self.issue)
        cancel = QPushButton("Fermer (garder le brouillon)")
        cancel.setObjectName("closeEditor")
        cancel.setToolTip("La facture n'est pas émise ; ce qui est saisi se reprend depuis "
                          "Factures › Brouillons.")  # fmt: skip
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(issue)

        layout = QVBoxLayout(self)
        if self_billing:
            layout.addWidget(banner)
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
        customers, mandates, products = self.ctx.read(
            lambda s: (
                [] if self.self_billing else search_customers(s),
                list_mandates(s, active_on=today(s)) if self.self_billing else [],
                search_products(s, "", limit=500),
            )
        )
        self.customer.blockSignals(True)
        self.customer.clear()
        self._customers = {c.id: c for c in customers}
        for c in customers:
            self.customer.addItem(f"{c.name} — {c.city}", c.id)
        for m in mandates:  # self-billing: the suppliers whose mandate is in force
            self.customer.addItem(f"{m.name} — mandat {m.reference}", m.id)
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
            raise InvalidInput(
                "Choisissez le fournisseur : aucun mandat d'autofacturation n'est en vigueur "
                "aujourd'hui (Factures › Autofacturation…)."
                if self.self_billing
                else "Choisissez le client, ou créez-le."
            )
        if self.self_billing:
            customer_id = 0  # the parties are the mandate's supplier and the shop
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
            service_code=self.service_code.text(),
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

    # -- drafts ----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """What is typed, as typed: a draft resumes exactly where the editor was left."""
        key = "mandate_id" if self.self_billing else "customer_id"
        return {
            key: self.customer.currentData(),
            "lines": [dict(line) for line in self.model.lines],
            "incl_vat": self.incl_vat.isChecked(),
            "discount": self.discount.text(),
            "shipping": self.shipping.text(),
            "due_days": self.due_days.value(),
            "terms": self.terms.text(),
            "purchase_order": self.purchase_order.text(),
            "service_code": self.service_code.text(),
            "note": self.note.toPlainText(),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        index = self.customer.findData(
            state.get("mandate_id" if self.self_billing else "customer_id")
        )
        if index >= 0:
            self.customer.setCurrentIndex(index)
        for line in state.get("lines") or []:
            if isinstance(line, dict):
                self.model.add(new_line(**{k: v for k, v in line.items() if k in new_line()}))
        self.incl_vat.setChecked(bool(state.get("incl_vat")))
        self.discount.setText(str(state.get("discount") or ""))
        self.shipping.setText(str(state.get("shipping") or ""))
        if isinstance(state.get("due_days"), int):
            self.due_days.setValue(state["due_days"])
        self.terms.setText(str(state.get("terms") or ""))
        self.purchase_order.setText(str(state.get("purchase_order") or ""))
        self.service_code.setText(str(state.get("service_code") or ""))
        self.note.setPlainText(str(state.get("note") or ""))
        self.update_totals()

    def has_content(self) -> bool:
        texts = (self.discount, self.shipping, self.terms, self.purchase_order, self.service_code)
        return bool(
            self.model.lines
            or any(w.text().strip() for w in texts)
            or self.note.toPlainText().strip()
        )

    def _draft_label(self) -> str:
        name = self.customer.currentText().split(" — ")[0] or "Sans client"
        if self.self_billing:
            name = f"Autofacture — {name}"
        count = len(self.model.lines)
        label = f"{name} — {count} ligne{'s' if count > 1 else ''}"
        try:
            return f"{label}, {format_cents(compute(self.draft()).totals['total'])} TTC"
        except (ComptoirError, ArithmeticError, ValueError):
            return label

    def reject(self) -> None:
        """Closing (button, Échap, window) never loses what was typed: it is kept as a draft."""
        if self.result_value is None and self.has_content():
            state, label, operator, draft_id = (
                self.state(), self._draft_label(), self.ctx.operator_name, self.draft_id
            )  # fmt: skip
            saved = self.ctx.write(
                self,
                lambda s: save_draft(s, state, operator=operator, label=label, draft_id=draft_id),
            )
            if saved is None:
                return  # not kept (the reason was shown): the editor stays open
            self.draft_id = saved
            self.draft_saved.emit(f"Brouillon enregistré : {label}.")
        super().reject()

    # -- issuing ---------------------------------------------------------------------------
    def issue(self) -> None:
        """Ask first: an issued invoice is final."""
        show_form_error(self.error, "")
        self.findings.setVisible(False)
        try:
            amounts = compute(self.draft())
        except ComptoirError as exc:
            show_form_error(self.error, exc.message)
            return
        name = self.customer.currentText().split(" — ")[0]
        if self.self_billing:
            ask_confirmation(
                self,
                "Émettre l'autofacture",
                f"Au nom et pour le compte de : {self.customer.currentText()}\n"
                f"Total TTC : {format_cents(amounts.totals['total'])}\n\n"
                "L'autofacture est transmise au fournisseur par la plateforme. Elle est "
                "définitive : elle se corrige par un avoir d'autofacturation.",
                yes="Émettre",
                then=self.issue_now,
            )
            return
        ask_confirmation(
            self,
            "Émettre la facture",
            f"Client : {name}\nTotal TTC : {format_cents(amounts.totals['total'])}\n\n"
            "Une facture émise est définitive : elle ne se modifie ni ne se supprime, elle "
            "se corrige par un avoir.",
            yes="Émettre",
            then=self.issue_now,
        )

    def issue_now(self) -> None:
        from app.einvoice.service import issue_and_store, self_bill_and_store

        try:
            draft = self.draft()
            mandate, operator = self.customer.currentData(), self.ctx.operator_name
            with self.ctx.ledger.transaction() as session:
                self.result_value = (
                    self_bill_and_store(session, mandate, draft, operator=operator)
                    if self.self_billing
                    else issue_and_store(session, draft, operator=operator)
                )
                if self.draft_id is not None:
                    delete_draft(session, self.draft_id)
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
