"""The Archives screen's questions: files, folders, a year or a period, the purge's
confirmation. Every dialog is window-modal and non-blocking (the rest of the
application keeps running) and only hands the answer on.

``open_file_dialog`` and ``ask_save_path`` are the two places every file question goes
through, so a test can answer them without a file dialog on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

if TYPE_CHECKING:
    from app.ledger.archive.purge import PurgePlan


def documents_dir() -> Path:
    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(found) if found else Path.home()


class ViewerDialogs:
    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    # -- the seams --------------------------------------------------------------------------
    def open_file_dialog(self, dialog: QFileDialog, chosen: Callable[[str], None]) -> None:
        """Window-modal and non-blocking: the rest of the application keeps running."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.fileSelected.connect(chosen)
        dialog.open()

    def ask_save_path(
        self, title: str, name: str, pattern: str, chosen: Callable[[Path], None]
    ) -> None:
        dialog = QFileDialog(self.parent, title, str(documents_dir() / name), pattern)
        dialog.setObjectName("saveDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        self.open_file_dialog(dialog, lambda path: chosen(Path(path)))

    # -- files and folders ------------------------------------------------------------------
    def ask_folder(self, name: str, title: str, chosen: Callable[[Path], None]) -> None:
        dialog = QFileDialog(self.parent, title, str(documents_dir()))
        dialog.setObjectName(name)
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        self.open_file_dialog(dialog, lambda folder: chosen(Path(folder)))

    def ask_archive(
        self, name: str, title: str, folder: Path, chosen: Callable[[Path], None]
    ) -> None:
        dialog = QFileDialog(self.parent, title, str(folder))
        dialog.setObjectName(name)
        dialog.setNameFilter("Archives Comptoir (*.zip)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        self.open_file_dialog(dialog, lambda path: chosen(Path(path)))

    # -- choices ----------------------------------------------------------------------------
    def ask_choice(
        self, name: str, title: str, label: str, items: list[str], chosen: Callable[[str], None]
    ) -> None:
        """One of ``items``, from a list the user cannot edit."""
        dialog = QInputDialog(self.parent)
        dialog.setObjectName(name)
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        dialog.setComboBoxItems(items)
        dialog.setComboBoxEditable(False)
        dialog.textValueSelected.connect(chosen)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.open()

    def confirm_purge(
        self, plan: PurgePlan, purge: Callable[[], None], abandon: Callable[[], None]
    ) -> None:
        """Explicit: nothing is deleted unless the purge button is pressed."""
        count = f"{plan.records:,}".replace(",", "\u202f")
        box = QMessageBox(self.parent)
        box.setObjectName("purgeConfirmDialog")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(f"Purger l'exercice {plan.year}")
        box.setText(f"Supprimer du journal les {count} enregistrements de l'exercice {plan.year} ?")
        box.setInformativeText(plan.describe())
        button = box.addButton(f"Purger l'exercice {plan.year}", QMessageBox.ButtonRole.AcceptRole)
        button.setObjectName("purgeConfirmButton")
        cancel = box.addButton("Annuler", QMessageBox.ButtonRole.RejectRole)
        cancel.setObjectName("purgeCancelButton")
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        button.clicked.connect(purge)
        cancel.clicked.connect(abandon)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
