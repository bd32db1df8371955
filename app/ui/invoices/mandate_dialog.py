"""Record a supplier's self-billing mandate; each refused field is named right under it."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.customers.service import FieldError
from app.einvoice.selfbilling.mandates import Mandate, add_mandate
from app.errors import ComptoirError
from app.ui.context import AppContext
from app.ui.forms import TOUCH_STYLE, error_label, show_form_error

TEXT_FIELDS = (
    ("reference", "Référence du mandat"),
    ("prefix", "Préfixe de numérotation (ex. AFDUPONT)"),
    ("name", "Fournisseur (raison sociale)"),
    ("siren", "SIREN"),
    ("siret", "SIRET"),
    ("vat_number", "N° TVA intracommunautaire"),
    ("address", "Adresse"),
    ("postcode", "Code postal"),
    ("city", "Ville"),
    ("electronic_address", "Adresse électronique (par défaut : le SIREN)"),
    ("iban", "IBAN du fournisseur (virement)"),
)


def date_edit(name: str, day: date) -> QDateEdit:
    edit = QDateEdit(QDate(day.year, day.month, day.day))
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd/MM/yyyy")
    return edit


class MandateDialog(QDialog):
    def __init__(self, ctx: AppContext, today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.saved: Mandate | None = None
        self.setWindowTitle("Mandat d'autofacturation")
        self.setObjectName("mandateDialog")
        self.setStyleSheet(TOUCH_STYLE)
        form = QFormLayout()
        intro = QLabel(
            "Le fournisseur autorise par écrit la boutique à établir ses factures en son nom "
            "et pour son compte (article 289-I-2 du CGI). Ses autofactures suivent leur "
            "propre numérotation, sous le préfixe convenu."
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        for name, label in TEXT_FIELDS:
            edit = QLineEdit()
            edit.setObjectName(name)
            form.addRow(label, edit)
            self.edits[name] = edit
            self.errors[name] = error_label(f"{name}Error")
            form.addRow("", self.errors[name])
        self.start = date_edit("start_date", today)
        form.addRow("Début du mandat", self.start)
        self.errors["start_date"] = error_label("startError")
        form.addRow("", self.errors["start_date"])
        self.has_end = QCheckBox("Le mandat a une date de fin")
        self.has_end.setObjectName("hasEnd")
        self.end = date_edit("end_date", date(today.year, 12, 31))
        self.end.setEnabled(False)
        self.has_end.toggled.connect(self.end.setEnabled)
        form.addRow("", self.has_end)
        form.addRow("Fin du mandat", self.end)
        self.errors["end_date"] = error_label("endError")
        form.addRow("", self.errors["end_date"])
        self.general = error_label("mandateError")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        save = buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setText("Enregistrer le mandat")
        save.setObjectName("saveMandate")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        fields = QWidget()
        fields.setLayout(form)
        area = QScrollArea()  # scrolls rather than growing past a 768-pixel screen
        area.setWidgetResizable(True)
        area.setWidget(fields)
        layout = QVBoxLayout(self)
        layout.addWidget(area, 1)
        layout.addWidget(self.general)
        layout.addWidget(buttons)
        self.resize(720, 640)

    def typed(self) -> Mandate:
        values = {name: edit.text() for name, edit in self.edits.items()}
        return Mandate(
            start_date=self.start.date().toPython(),
            end_date=self.end.date().toPython() if self.has_end.isChecked() else None,
            **values,
        )

    def save(self) -> None:
        for label in (*self.errors.values(), self.general):
            show_form_error(label, "")
        mandate, operator = self.typed(), self.ctx.operator_name
        try:
            with self.ctx.ledger.transaction() as session:
                self.saved = add_mandate(session, mandate, operator=operator)
        except FieldError as exc:
            show_form_error(self.errors.get(exc.field, self.general), exc.message)
            if exc.field in self.edits:
                self.edits[exc.field].setFocus()
            return
        except ComptoirError as exc:
            show_form_error(self.general, exc.message)
            return
        self.ctx.ledger_changed.emit()
        self.accept()
