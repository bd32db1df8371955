"""Create or edit a customer; each refused field is named right under it."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.customers.service import COMPANY, PERSON, CustomerInfo, FieldError, save_customer
from app.errors import ComptoirError
from app.ui.context import AppContext
from app.ui.forms import TOUCH_STYLE, error_label, show_form_error
from app.ui.invoices.directory_field import DirectoryField, look_up_after_save

TEXT_FIELDS = (
    ("name", "Nom ou raison sociale"),
    ("siren", "SIREN"),
    ("siret", "SIRET"),
    ("vat_number", "N° TVA intracommunautaire"),
    ("electronic_address", "Adresse électronique (facturation électronique)"),
    ("email", "E-mail"),
    ("address", "Adresse de facturation"),
    ("postcode", "Code postal"),
    ("city", "Ville"),
    ("country", "Pays (code)"),
    ("delivery_address", "Adresse de livraison (si différente)"),
    ("delivery_postcode", "Code postal de livraison"),
    ("delivery_city", "Ville de livraison"),
    ("delivery_country", "Pays de livraison"),
)


class CustomerDialog(QDialog):
    def __init__(
        self, ctx: AppContext, info: CustomerInfo | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.info = info or CustomerInfo()
        self.saved: CustomerInfo | None = None
        self.setWindowTitle("Client" if info is None else f"Client — {info.name}")
        self.setObjectName("customerDialog")
        self.setStyleSheet(TOUCH_STYLE)
        form = QFormLayout()
        self.kind = QComboBox()
        self.kind.setObjectName("kind")
        self.kind.addItem("Entreprise", COMPANY)
        self.kind.addItem("Particulier", PERSON)
        self.kind.setCurrentIndex(0 if self.info.kind == COMPANY else 1)
        form.addRow("Type", self.kind)
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        for name, label in TEXT_FIELDS:
            edit = QLineEdit(str(getattr(self.info, name)))
            edit.setObjectName(name)
            form.addRow(label, edit)
            error = error_label(f"{name}Error")
            form.addRow("", error)
            self.edits[name], self.errors[name] = edit, error
        self.public = QCheckBox("Client public (Chorus Pro)")
        self.public.setObjectName("public_sector")
        self.public.setToolTip(
            "État, collectivité, hôpital, établissement public : ses factures sont déposées "
            "sur Chorus Pro (SIRET obligatoire), pas sur la plateforme agréée."
        )
        self.public.setChecked(self.info.public_sector)
        form.addRow("", self.public)
        self.errors["public_sector"] = error_label("publicSectorError")
        form.addRow("", self.errors["public_sector"])
        self.terms = QSpinBox()
        self.terms.setObjectName("payment_terms_days")
        self.terms.setRange(0, 120)
        self.terms.setSuffix(" jours")
        self.terms.setValue(self.info.payment_terms_days)
        form.addRow("Délai de paiement", self.terms)
        self.errors["payment_terms_days"] = error_label("termsError")
        self.errors["kind"] = error_label("kindError")
        form.addRow("", self.errors["payment_terms_days"])
        self.directory = DirectoryField(ctx, self.info.id)
        form.addRow("Annuaire", self.directory)
        self.general = error_label("customerError")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("Enregistrer")
        buttons.button(QDialogButtonBox.StandardButton.Save).setObjectName("saveCustomer")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.general)
        layout.addWidget(buttons)

    def typed(self) -> CustomerInfo:
        values = {name: edit.text() for name, edit in self.edits.items()}
        return replace(
            self.info,
            kind=self.kind.currentData(),
            payment_terms_days=self.terms.value(),
            public_sector=self.public.isChecked(),
            **values,
        )

    def save(self) -> None:
        for label in self.errors.values():
            show_form_error(label, "")
        show_form_error(self.general, "")
        info = self.typed()
        try:
            with self.ctx.ledger.transaction() as session:
                self.saved = save_customer(session, info)
        except FieldError as exc:
            show_form_error(self.errors.get(exc.field, self.general), exc.message)
            if exc.field in self.edits:
                self.edits[exc.field].setFocus()
            return
        except ComptoirError as exc:
            show_form_error(self.general, exc.message)
            return
        self.ctx.ledger_changed.emit()
        look_up_after_save(self.ctx, self.saved)
        self.accept()
