"""First run: the shop's identity, a first manager, and the demo catalog if wanted."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.catalog.service import load_demo_catalog
from app.errors import ComptoirError, InvalidInput
from app.ledger.operators import Role
from app.ledger.preferences import save_till_id
from app.ledger.settings import VAT_REGIMES, FiscalSettings, record_fiscal_settings
from app.ledger.store import Ledger
from app.staff.service import add_operator


class FirstRunDialog(QDialog):
    def __init__(self, ledger: Ledger, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ledger = ledger
        self.setWindowTitle("Bienvenue dans Comptoir — votre boutique")
        self.setObjectName("firstRun")
        self.fields: dict[str, QLineEdit] = {}
        form = QFormLayout()
        for name, label in (
            ("name", "Raison sociale"),
            ("legal_form", "Forme juridique"),
            ("siret", "SIRET"),
            ("vat_number", "N° TVA intracommunautaire"),
            ("address", "Adresse"),
            ("postcode", "Code postal"),
            ("city", "Ville"),
            ("phone", "Téléphone"),
        ):
            edit = QLineEdit()
            edit.setObjectName(f"shop_{name}")
            form.addRow(label, edit)
            self.fields[name] = edit
        self.regime = QComboBox()
        for key, label in VAT_REGIMES.items():
            self.regime.addItem(label, key)
        form.addRow("Régime de TVA", self.regime)
        self.till = QLineEdit("CAISSE-1")
        form.addRow("Identifiant de la caisse", self.till)
        self.manager = QLineEdit()
        self.manager.setObjectName("managerName")
        form.addRow("Gérant (nom)", self.manager)
        self.pin = QLineEdit()
        self.pin.setObjectName("managerPin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Code PIN du gérant (4 à 8 chiffres)", self.pin)
        self.demo = QCheckBox("Charger le catalogue de démonstration (30 articles)")
        self.demo.setObjectName("loadDemo")
        self.demo.setChecked(True)
        self.error = QLabel()
        self.error.setObjectName("firstRunError")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Enregistrer")
        buttons.button(QDialogButtonBox.StandardButton.Ok).setObjectName("firstRunOk")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Ces informations figurent sur chaque ticket et chaque facture."))
        layout.addLayout(form)
        layout.addWidget(self.demo)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def settings(self) -> FiscalSettings:
        values = {name: edit.text() for name, edit in self.fields.items()}
        return FiscalSettings(**values, vat_regime=self.regime.currentData())

    def save(self) -> None:
        settings = self.settings()
        manager, pin, demo = self.manager.text(), self.pin.text(), self.demo.isChecked()
        till = self.till.text()
        if not manager.strip():
            self.error.setText("Indiquez le nom du gérant.")
            return

        def action(session: Session) -> None:
            record_fiscal_settings(session, settings, operator=manager.strip() or "Gérant")
            save_till_id(session, till, operator=manager)
            add_operator(session, manager, Role.MANAGER, pin, operator=manager)
            if demo:
                load_demo_catalog(session, operator=manager)

        try:
            with self.ledger.transaction() as session:
                action(session)
        except (InvalidInput, ComptoirError) as exc:
            self.error.setText(exc.message)
            return
        self.accept()
