"""Réglages › Sauvegarde: where copies of the ledger go, how many are kept, a backup on
demand (off the GUI thread) and how the last one went; a copy of the signing key."""

from __future__ import annotations

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.errors import ComptoirError
from app.ledger.backup.copies import (
    MAX_KEEP,
    BackupFailed,
    BackupResult,
    backup_now,
    backup_settings,
    default_folder,
    describe_backup,
    last_backup,
    last_good_backup,
    save_backup_settings,
)
from app.ledger.operators import Permission
from app.ui.background import Background
from app.ui.context import AppContext
from app.ui.forms import error_label, show_form_error
from app.ui.settings.key_copy import KeyCopyBox
from app.ui.settings.tab_actions import (
    GREEN,
    RED,
    buttons_row,
    push_button,
    ready_to_run,
    save_setting,
    status_label,
)


class BackupTab(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.background = Background(self)
        self.folder = QLineEdit()
        self.folder.setObjectName("backupFolderEdit")
        self.folder.setPlaceholderText(str(default_folder(ctx.ledger.path)))
        self.browse = QPushButton("Parcourir…")
        self.browse.setObjectName("backupBrowseButton")
        self.browse.clicked.connect(self.choose_folder)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse)
        self.keep = QSpinBox()
        self.keep.setObjectName("backupKeepSpin")
        self.keep.setRange(1, MAX_KEEP)
        form = QFormLayout()
        form.addRow("Dossier (clé USB, dossier synchronisé)", row)
        form.addRow("Sauvegardes conservées", self.keep)
        self.save_button = push_button("Enregistrer", "saveBackupButton", self.save)
        self.now_button = push_button("Sauvegarder maintenant", "backupNowButton", self.backup_now)
        buttons = buttons_row(self.save_button, self.now_button)
        self.error = error_label("backupError")
        self.status = status_label("backupStatus")
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Une copie du journal est faite après chaque clôture journalière. "
            "Laissez le dossier vide pour sauvegarder à côté du journal."
        )
        intro.setWordWrap(True)  # one line of it would widen Réglages past a 1024-px screen
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        self.key_copy = KeyCopyBox(ctx)
        layout.addWidget(self.key_copy)
        layout.addStretch(1)
        ctx.ledger_changed.connect(self._on_ledger_changed)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    def _on_ledger_changed(self) -> None:
        if self.isVisible():  # the form keeps what is being typed
            self.show_status()

    def refresh(self) -> None:
        editable = self.ctx.can(Permission.EDIT_SETTINGS)
        for widget in (self.folder, self.browse, self.keep, self.save_button):
            widget.setEnabled(editable)
        self.key_copy.refresh()
        settings = self.ctx.read(backup_settings)
        self.folder.setText("" if settings.is_default else str(settings.folder))
        self.keep.setValue(settings.keep)
        self.show_status()

    def show_status(self) -> None:
        last, good = self.ctx.read(last_backup), self.ctx.read(last_good_backup)
        self.status.setText(describe_backup(last, good, self.ctx.ledger.timezone))
        failed = last is not None and not last.ok
        self.status.setStyleSheet(f"color: {RED if failed else GREEN};")

    def choose_folder(self) -> None:
        """Window-modal, so the till's event loop keeps running behind it."""
        dialog = QFileDialog(self, "Dossier de sauvegarde", self.folder.text())
        dialog.setObjectName("backupFolderDialog")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.folder.setText)
        dialog.open()

    def _save(self) -> bool:
        folder, keep = self.folder.text(), self.keep.value()
        return save_setting(
            self.ctx,
            self.error,
            lambda session: save_backup_settings(
                session, folder, keep, operator=self.ctx.operator_name
            ),
        )

    def save(self) -> None:
        show_form_error(self.error, "")
        if self._save():
            self.status.setText("Réglages de sauvegarde enregistrés.")
            self.status.setStyleSheet(f"color: {GREEN};")

    def backup_now(self) -> None:
        """Back up to the folder shown (saved first when this operator may change it)."""
        if not ready_to_run(self.ctx, self.error, self.background, self._save):
            return
        ledger, operator = self.ctx.ledger, self.ctx.operator_name
        self.now_button.setEnabled(False)
        self.status.setText("Sauvegarde en cours…")
        self.background.run(lambda: backup_now(ledger, operator=operator), self._done, self._failed)

    def _done(self, _result: BackupResult) -> None:
        self.now_button.setEnabled(True)
        self.show_status()
        self.ctx.ledger_changed.emit()  # the BACKUP event, and the banner

    def _failed(self, error: BaseException) -> None:
        self.now_button.setEnabled(True)
        self.show_status()
        if isinstance(error, BackupFailed):  # recorded: the status line says why
            pass
        elif isinstance(error, ComptoirError):
            show_form_error(self.error, error.message)
        else:
            show_form_error(self.error, f"La sauvegarde n'a pas pu aboutir : {error}")
        self.ctx.ledger_changed.emit()
