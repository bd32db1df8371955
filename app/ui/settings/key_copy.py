"""The signing key's copy (Réglages › Sauvegarde, and at start when the key is missing):
exported under a passphrase to keep with the backups, imported on a new computer."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QInputDialog,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.errors import ComptoirError, InvalidInput
from app.ledger.service import export_key, import_key
from app.staff.service import Permission
from app.ui.context import AppContext
from app.ui.forms import error_label, show_form_error
from app.ui.settings.tab_actions import buttons_row, push_button, status_label

GREEN = "#2e7d32"


def ask_passphrase(parent: QWidget | None, *, twice: bool) -> str | None:
    """The passphrase typed without echo (twice for a new copy); None when cancelled."""
    first, ok = QInputDialog.getText(
        parent, "Clé de signature", "Phrase de passe de la copie :", QLineEdit.EchoMode.Password
    )
    if not ok:
        return None
    if twice:
        again, ok = QInputDialog.getText(
            parent, "Clé de signature", "La même, une seconde fois :", QLineEdit.EchoMode.Password
        )
        if not ok:
            return None
        if again != first:
            raise InvalidInput("Les deux phrases de passe diffèrent : rien n'a été écrit.")
    return first


def ask_key_file(parent: QWidget | None, *, saving: bool) -> Path | None:
    if saving:
        name, _ = QFileDialog.getSaveFileName(parent, "Copie de la clé", "cle-comptoir.cle")
    else:
        name, _ = QFileDialog.getOpenFileName(parent, "Copie de la clé")
    return Path(name) if name else None


class KeyCopyBox(QGroupBox):
    """Two buttons for a manager: copy the key out, put a copy back."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Clé de signature du journal", parent)
        self.setObjectName("keyCopyBox")
        self.ctx = ctx
        explain = QLabel(
            "Sans sa clé, un nouvel ordinateur ne peut pas continuer ce journal. Exportez-en "
            "une copie protégée par une phrase de passe et gardez-la avec les sauvegardes."
        )
        explain.setWordWrap(True)
        self.export_button = push_button("Exporter la clé…", "exportKeyButton", self.export)
        self.import_button = push_button("Importer la clé…", "importKeyButton", self.import_)
        self.error = error_label("keyCopyError")
        self.status = status_label("keyCopyStatus")
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addLayout(buttons_row(self.export_button, self.import_button))
        layout.addWidget(self.error)
        layout.addWidget(self.status)

    def refresh(self) -> None:
        allowed = self.ctx.can(Permission.EDIT_SETTINGS)
        self.export_button.setEnabled(allowed)
        self.import_button.setEnabled(allowed)

    def export(self) -> None:
        show_form_error(self.error, "")
        try:
            path = ask_key_file(self, saving=True)
            passphrase = None if path is None else ask_passphrase(self, twice=True)
            if path is None or passphrase is None:
                return
            key_id = export_key(
                self.ctx.ledger.target,
                path,
                passphrase,
                operator=self.ctx.operator_name,
                clock=self.ctx.ledger.clock,
            )
        except ComptoirError as exc:
            show_form_error(self.error, exc.message)
            return
        self._done(f"Clé {key_id} copiée dans {path}. Gardez la phrase de passe ailleurs.")

    def import_(self) -> None:
        show_form_error(self.error, "")
        try:
            path = ask_key_file(self, saving=False)
            passphrase = None if path is None else ask_passphrase(self, twice=False)
            if path is None or passphrase is None:
                return
            key_id = import_key(
                self.ctx.ledger.target,
                path,
                passphrase,
                operator=self.ctx.operator_name,
                clock=self.ctx.ledger.clock,
            )
        except ComptoirError as exc:
            show_form_error(self.error, exc.message)
            return
        self._done(f"Clé {key_id} installée sur cet ordinateur.")

    def _done(self, text: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {GREEN};")
        self.ctx.ledger_changed.emit()


def import_at_start(path: Path, refusal: str) -> bool:
    """The ledger cannot be opened without its key: say so, and offer to import a copy.
    True when a key was installed (the caller opens the ledger again)."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Warning, "Clé de signature", refusal)
    box.setObjectName("keyMissingDialog")
    load = box.addButton("Importer la clé…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Quitter", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    if box.clickedButton() is not load:
        return False
    try:
        source = ask_key_file(None, saving=False)
        passphrase = None if source is None else ask_passphrase(None, twice=False)
        if source is None or passphrase is None:
            return False
        import_key(path, source, passphrase, operator="système")
    except ComptoirError as exc:
        QMessageBox.critical(None, "Clé de signature", exc.message)
        return False
    return True
