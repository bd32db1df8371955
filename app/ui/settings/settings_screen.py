"""Réglages: fiscal identity (journaled), operators, receipt texts and printer."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

from PySide6.QtCore import QRegularExpression, Signal
from PySide6.QtGui import QFont, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.documents.preferences import (
    BAUDRATES,
    RECEIPT_WIDTH,
    check_printer_config,
    parse_usb_id,
    printer_config,
    receipt_texts,
    save_printer_config,
    save_receipt_texts,
)
from app.errors import InvalidInput
from app.ledger.journal import Recorded
from app.ledger.operators import Permission, Role
from app.ledger.settings import VAT_REGIMES, FiscalSettings, fiscal_settings, record_fiscal_settings
from app.staff.service import add_operator, list_operators
from app.ui.context import AppContext
from app.ui.forms import TOUCH_STYLE, Screen, error_label, show_form_error, write_form
from app.ui.models import OperatorTableModel
from app.ui.settings.backup_tab import BackupTab
from app.ui.settings.central_tab import CentralTab
from app.ui.settings.devices_tab import DevicesTab
from app.ui.settings.platform_tab import PlatformTab
from app.ui.settings.tsa_tab import TsaTab
from app.values.money import EURO_SUFFIX, format_cents, group_thousands, parse_cents

T = TypeVar("T")

PRINTER_KINDS = {
    "none": "Aucune",
    "network": "Réseau",
    "usb": "USB",
    "serial": "Série",
    "file": "Fichier",
}
READ_ONLY = "Lecture seule : seul un gérant peut modifier les réglages."


# -- the screen ------------------------------------------------------------------------
FISCAL_FIELDS = (
    ("name", "Raison sociale"),
    ("legal_form", "Forme juridique"),
    ("siret", "SIRET"),
    ("vat_number", "N° de TVA intracommunautaire"),
    ("address", "Adresse"),
    ("postcode", "Code postal"),
    ("city", "Ville"),
    ("country", "Pays (code)"),
    ("phone", "Téléphone"),
    ("registration", "Immatriculation (RCS ou RM)"),
    ("iban", "IBAN (virements)"),
    ("bic", "BIC"),
)
PLACEHOLDERS = {
    "legal_form": "ex. SARL, SAS, EI",
    "registration": "ex. RCS Lyon ou RM 69",
    "iban": "FR76 …",
    "bic": "ex. AGRIFRPP882",
}


class SettingsScreen(Screen):
    """Réglages. Emits ``test_print_requested(config)`` for the "Page de test" button."""

    test_print_requested = Signal(dict)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._loaded_fiscal: FiscalSettings | None = None
        self.setObjectName("settingsScreen")
        self.setStyleSheet(TOUCH_STYLE)
        layout = QVBoxLayout(self)
        title = QLabel("Réglages")
        title.setObjectName("screenTitle")
        self.notice = QLabel(READ_ONLY)
        self.notice.setObjectName("settingsReadOnly")
        self.notice.setProperty("role", "notice")
        self.tabs = QTabWidget()
        self.tabs.setObjectName("settingsTabs")
        self.tabs.addTab(self._fiscal_tab(), "Identité fiscale")
        self.tabs.addTab(self._operators_tab(), "Opérateurs")
        self.tabs.addTab(self._receipt_tab(), "Ticket")
        self.tabs.addTab(self._printer_tab(), "Imprimante")
        self.platform_tab = PlatformTab(ctx)
        self.tabs.addTab(self.platform_tab, "Facturation électronique")
        self.tabs.addTab(BackupTab(ctx), "Sauvegarde")
        self.tabs.addTab(CentralTab(ctx), "Serveur central")
        self.devices_tab = DevicesTab(ctx)
        self.tabs.addTab(self.devices_tab, "Périphériques")
        self.tabs.addTab(TsaTab(ctx), "Horodatage")
        layout.addWidget(title)
        layout.addWidget(self.notice)
        layout.addWidget(self.tabs, 1)

    # -- building ----------------------------------------------------------------------
    def _fiscal_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.fiscal_edits: dict[str, QLineEdit] = {}
        for name, label in FISCAL_FIELDS:
            edit = QLineEdit()
            edit.setObjectName(f"fiscal_{name}")
            edit.setPlaceholderText(PLACEHOLDERS.get(name, ""))
            self.fiscal_edits[name] = edit
            form.addRow(label, edit)
            if name == "legal_form":
                self.capital_edit = QLineEdit()
                self.capital_edit.setObjectName("fiscal_share_capital")
                self.capital_edit.setPlaceholderText("ex. 10 000 (vide : pas de capital)")
                form.addRow("Capital social (€)", self.capital_edit)
        self.regime_combo = QComboBox()
        self.regime_combo.setObjectName("vatRegimeCombo")
        for key, label in VAT_REGIMES.items():
            self.regime_combo.addItem(label, key)
        form.addRow("Régime de TVA", self.regime_combo)
        self.debits_check = QCheckBox("TVA exigible d'après les débits (option)")
        self.debits_check.setObjectName("vatOnDebitsCheck")
        form.addRow("", self.debits_check)
        self.save_fiscal_button = QPushButton("Enregistrer l'identité fiscale")
        self.save_fiscal_button.setObjectName("saveFiscalButton")
        self.save_fiscal_button.clicked.connect(self.save_fiscal)
        self.fiscal_error = error_label("fiscalError")
        self.fiscal_status = _status_label("fiscalStatus")
        form.addRow("", self.save_fiscal_button)
        form.addRow("", self.fiscal_error)
        form.addRow("", self.fiscal_status)
        return page

    def _operators_tab(self) -> QWidget:
        page = QWidget()
        layout = QHBoxLayout(page)
        self.operator_model = OperatorTableModel(self)
        self.operator_table = QTableView()
        self.operator_table.setObjectName("operatorTable")
        self.operator_table.setModel(self.operator_model)
        self.operator_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.operator_table.verticalHeader().setVisible(False)
        self.operator_table.verticalHeader().setDefaultSectionSize(40)
        layout.addWidget(self.operator_table, 1)
        form_box = QWidget()
        form = QFormLayout(form_box)
        self.operator_name = QLineEdit()
        self.operator_name.setObjectName("operatorNameEdit")
        self.role_combo = QComboBox()
        self.role_combo.setObjectName("roleCombo")
        for role in (Role.CASHIER, Role.MANAGER, Role.ACCOUNTANT):
            self.role_combo.addItem(role.label, role.value)
        digits = QRegularExpressionValidator(QRegularExpression("[0-9]{0,8}"), self)
        self.pin_edit, self.pin_confirm = QLineEdit(), QLineEdit()
        for edit, name in ((self.pin_edit, "pinEdit"), (self.pin_confirm, "pinConfirmEdit")):
            edit.setObjectName(name)
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setValidator(digits)
        self.add_operator_button = QPushButton("Ajouter l'opérateur")
        self.add_operator_button.setObjectName("addOperatorButton")
        self.add_operator_button.clicked.connect(self.create_operator)
        self.operator_error = error_label("operatorError")
        self.operator_status = _status_label("operatorStatus")
        form.addRow("Nom", self.operator_name)
        form.addRow("Rôle", self.role_combo)
        form.addRow("Code PIN (4 à 8 chiffres)", self.pin_edit)
        form.addRow("Code PIN (confirmation)", self.pin_confirm)
        form.addRow("", self.add_operator_button)
        form.addRow("", self.operator_error)
        form.addRow("", self.operator_status)
        layout.addWidget(form_box, 1)
        return page

    def _receipt_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        mono = QFont("Monospace")
        mono.setStyleHint(QFont.StyleHint.TypeWriter)
        self.header_edit, self.footer_edit = QPlainTextEdit(), QPlainTextEdit()
        for edit, name, label in (
            (self.header_edit, "receiptHeaderEdit", "En-tête du ticket (après l'identité)"),
            (self.footer_edit, "receiptFooterEdit", "Pied du ticket"),
        ):
            edit.setObjectName(name)
            edit.setFont(mono)
            edit.setPlaceholderText(f"{RECEIPT_WIDTH} caractères par ligne au plus")
            layout.addWidget(QLabel(label))
            layout.addWidget(edit, 1)
        self.save_receipt_button = QPushButton("Enregistrer les textes du ticket")
        self.save_receipt_button.setObjectName("saveReceiptButton")
        self.save_receipt_button.clicked.connect(self.save_receipt)
        self.receipt_error = error_label("receiptError")
        self.receipt_status = _status_label("receiptStatus")
        layout.addWidget(self.save_receipt_button)
        layout.addWidget(self.receipt_error)
        layout.addWidget(self.receipt_status)
        return page

    def _printer_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        top = QFormLayout()
        self.printer_kind = QComboBox()
        self.printer_kind.setObjectName("printerKindCombo")
        for key, label in PRINTER_KINDS.items():
            self.printer_kind.addItem(label, key)
        top.addRow("Imprimante de tickets", self.printer_kind)
        layout.addLayout(top)
        self.printer_pages = QStackedWidget()
        self.printer_pages.addWidget(
            QLabel("Aucune imprimante : les tickets ne sont pas imprimés.")
        )
        self.printer_host, self.printer_port = QLineEdit(), QSpinBox()
        self.printer_host.setObjectName("printerHostEdit")
        self.printer_host.setPlaceholderText("192.168.1.50")
        self.printer_port.setObjectName("printerPortSpin")
        self.printer_port.setRange(1, 65535)
        self.printer_port.setValue(9100)
        self.printer_pages.addWidget(
            _form_page(("Adresse IP ou nom", self.printer_host), ("Port", self.printer_port))
        )
        self.usb_vendor, self.usb_product = QLineEdit(), QLineEdit()
        self.usb_vendor.setObjectName("usbVendorEdit")
        self.usb_vendor.setPlaceholderText("04b8")
        self.usb_product.setObjectName("usbProductEdit")
        self.usb_product.setPlaceholderText("0202")
        self.printer_pages.addWidget(
            _form_page(
                ("Id. fabricant (hexa)", self.usb_vendor), ("Id. produit (hexa)", self.usb_product)
            )
        )
        self.serial_device, self.serial_baud = QLineEdit(), QComboBox()
        self.serial_device.setObjectName("serialDeviceEdit")
        self.serial_device.setPlaceholderText("COM1 ou /dev/ttyUSB0")
        self.serial_baud.setObjectName("serialBaudCombo")
        for rate in BAUDRATES:
            self.serial_baud.addItem(f"{rate} bauds", rate)
        self.printer_pages.addWidget(
            _form_page(("Port série", self.serial_device), ("Vitesse", self.serial_baud))
        )
        self.printer_path = QLineEdit()
        self.printer_path.setObjectName("printerPathEdit")
        browse = QPushButton("Parcourir…")
        browse.setObjectName("printerBrowseButton")
        browse.clicked.connect(self._browse_printer_file)
        path_row = QWidget()
        row = QHBoxLayout(path_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.printer_path, 1)
        row.addWidget(browse)
        self.printer_pages.addWidget(_form_page(("Fichier", path_row)))
        self.printer_kind.currentIndexChanged.connect(self.printer_pages.setCurrentIndex)
        layout.addWidget(self.printer_pages)
        buttons = QHBoxLayout()
        self.save_printer_button = QPushButton("Enregistrer")
        self.save_printer_button.setObjectName("savePrinterButton")
        self.save_printer_button.clicked.connect(self.save_printer)
        self.test_print_button = QPushButton("Page de test")
        self.test_print_button.setObjectName("testPrintButton")
        self.test_print_button.clicked.connect(self.request_test_print)
        buttons.addWidget(self.save_printer_button)
        buttons.addWidget(self.test_print_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.printer_error = error_label("printerError")
        self.printer_status = _status_label("printerStatus")
        layout.addWidget(self.printer_error)
        layout.addWidget(self.printer_status)
        layout.addStretch(1)
        return page

    # -- showing -----------------------------------------------------------------------

    def refresh(self) -> None:
        super().refresh()
        self.platform_tab.refresh()
        editable = self.ctx.can(Permission.EDIT_SETTINGS)
        self.notice.setVisible(not editable)
        for widget in (
            *self.fiscal_edits.values(),
            self.capital_edit,
            self.regime_combo,
            self.debits_check,
            self.save_fiscal_button,
            self.operator_name,
            self.role_combo,
            self.pin_edit,
            self.pin_confirm,
            self.add_operator_button,
            self.header_edit,
            self.footer_edit,
            self.save_receipt_button,
            self.printer_kind,
            self.printer_pages,
            self.save_printer_button,
        ):
            widget.setEnabled(editable)

        def load(session: Session) -> tuple:
            return (
                fiscal_settings(session),
                list_operators(session),
                receipt_texts(session),
                printer_config(session),
            )

        shop, operators, (header, footer), printer = self.ctx.read(load)
        # Keep what is being typed in the form; reload it only if it was not touched.
        if self._loaded_fiscal is None or self._fiscal_untouched():
            self._show_fiscal(shop)
        self.operator_model.set_rows(operators)
        self.header_edit.setPlainText(header)
        self.footer_edit.setPlainText(footer)
        self._show_printer(printer)

    def _show_fiscal(self, shop: FiscalSettings) -> None:
        for name, edit in self.fiscal_edits.items():
            edit.setText(getattr(shop, name))
        self.capital_edit.setText(_euros(shop.share_capital))
        self.regime_combo.setCurrentIndex(max(0, self.regime_combo.findData(shop.vat_regime)))
        self.debits_check.setChecked(shop.vat_on_debits)
        self._loaded_fiscal = self._fiscal_from_form()

    def _fiscal_untouched(self) -> bool:
        try:
            return self._fiscal_from_form() == self._loaded_fiscal
        except InvalidInput:  # being typed
            return False

    def _fiscal_from_form(self) -> FiscalSettings:
        """The identity typed in the form; raises InvalidInput on a capital not in euros."""
        values: dict[str, Any] = {n: e.text() for n, e in self.fiscal_edits.items()}
        capital = self.capital_edit.text().strip()
        values["share_capital"] = parse_cents(capital, "Capital social") if capital else 0
        values["vat_regime"] = self.regime_combo.currentData()
        values["vat_on_debits"] = self.debits_check.isChecked()
        known = {f.name for f in fields(FiscalSettings)}
        return FiscalSettings(**{k: v for k, v in values.items() if k in known})

    def _show_printer(self, config: dict[str, Any]) -> None:
        self.printer_kind.setCurrentIndex(max(0, self.printer_kind.findData(config["kind"])))
        self.printer_host.setText(config.get("host", ""))
        self.printer_port.setValue(config.get("port", 9100))
        self.usb_vendor.setText(f"{config['vendor_id']:04x}" if "vendor_id" in config else "")
        self.usb_product.setText(f"{config['product_id']:04x}" if "product_id" in config else "")
        self.serial_device.setText(config.get("device", ""))
        self.serial_baud.setCurrentIndex(max(0, self.serial_baud.findData(config.get("baudrate"))))
        self.printer_path.setText(config.get("path", ""))

    # -- actions -----------------------------------------------------------------------
    def save_fiscal(self) -> None:
        self.fiscal_status.clear()
        try:
            settings = self._fiscal_from_form()
        except InvalidInput as exc:
            show_form_error(self.fiscal_error, exc.message)
            self.capital_edit.setFocus()
            return
        operator = self.ctx.operator_name

        def record(session: Session) -> Recorded | None:
            return record_fiscal_settings(session, settings, operator=operator)

        done = write_form(self.ctx, self, record, self.fiscal_error)
        if done is None:
            return
        self._loaded_fiscal = None  # show the normalised values that were recorded
        self.refresh()
        if done.value is None:
            self.fiscal_status.setText("Aucun changement à enregistrer.")
        else:
            self.fiscal_status.setText(
                f"Identité fiscale enregistrée dans le journal ({done.value.doc_number})."
            )

    def create_operator(self) -> None:
        self.operator_status.clear()
        if self.pin_edit.text() != self.pin_confirm.text():
            show_form_error(self.operator_error, "Les deux codes PIN ne correspondent pas.")
            return
        name, role, pin = (
            self.operator_name.text(),
            self.role_combo.currentData(),
            self.pin_edit.text(),
        )
        done = write_form(
            self.ctx,
            self,
            lambda s: add_operator(s, name, role, pin, operator=self.ctx.operator_name),
            self.operator_error,
        )
        if done is None:
            return
        for edit in (self.operator_name, self.pin_edit, self.pin_confirm):
            edit.clear()
        self.operator_status.setText(
            f"{done.value.name} ({done.value.role.label.lower()}) peut maintenant se connecter."
        )

    def save_receipt(self) -> None:
        self.receipt_status.clear()
        header, footer = self.header_edit.toPlainText(), self.footer_edit.toPlainText()
        done = write_form(
            self.ctx,
            self,
            lambda s: save_receipt_texts(s, header, footer, operator=self.ctx.operator_name),
            self.receipt_error,
        )
        if done is not None:
            self.receipt_status.setText("Textes du ticket enregistrés.")

    def printer_from_form(self) -> dict[str, Any]:
        """The printer setup typed in the form, checked; raises InvalidInput."""
        kind = self.printer_kind.currentData()
        config: dict[str, Any] = {"kind": kind}
        if kind == "network":
            config |= {"host": self.printer_host.text(), "port": self.printer_port.value()}
        elif kind == "usb":
            config |= {
                "vendor_id": parse_usb_id(self.usb_vendor.text(), "Id. fabricant"),
                "product_id": parse_usb_id(self.usb_product.text(), "Id. produit"),
            }
        elif kind == "serial":
            config |= {
                "device": self.serial_device.text(),
                "baudrate": self.serial_baud.currentData(),
            }
        elif kind == "file":
            config["path"] = self.printer_path.text()
        return check_printer_config(config)

    def save_printer(self) -> None:
        self.printer_status.clear()
        try:
            config = self.printer_from_form()
        except InvalidInput as exc:
            show_form_error(self.printer_error, exc.message)
            return
        done = write_form(
            self.ctx,
            self,
            lambda s: save_printer_config(s, config, operator=self.ctx.operator_name),
            self.printer_error,
        )
        if done is not None:
            self.printer_status.setText("Imprimante enregistrée.")

    def request_test_print(self) -> None:
        """Print a test page with the setup shown (saved or not)."""
        self.printer_status.clear()
        try:
            config = self.printer_from_form()
        except InvalidInput as exc:
            show_form_error(self.printer_error, exc.message)
            return
        show_form_error(self.printer_error, "")
        self.test_print_requested.emit(config)

    def _browse_printer_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Fichier de sortie des tickets")
        if path:
            self.printer_path.setText(path)


def _euros(cents: int) -> str:
    """A share capital as typed: « 10 000 », or « 7 500,50 » with its cents; blank: none."""
    if not cents:
        return ""
    if cents % 100:
        return format_cents(cents).removesuffix(EURO_SUFFIX)
    return group_thousands(cents // 100)


def _status_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setProperty("role", "status")
    label.setWordWrap(True)
    return label


def _form_page(*rows: tuple[str, QWidget]) -> QWidget:
    page = QWidget()
    form = QFormLayout(page)
    form.setContentsMargins(0, 0, 0, 0)
    for label, widget in rows:
        form.addRow(label, widget)
    return page
