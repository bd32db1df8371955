"""Archives › « Contrôle fiscal… »: the pack of a year, from the real buttons."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QInputDialog, QPushButton

from app.audit.pack import verify_pack
from app.ledger.store import Ledger
from app.staff.service import Role
from tests.ui.test_archive_viewer import click, demo, label, last_event, make_viewer, wait_task

__all__ = ["demo"]


def test_pack_of_a_year_from_the_archives_screen(qtbot, demo: Ledger, tmp_path: Path) -> None:
    viewer = make_viewer(qtbot, demo, Role.ACCOUNTANT)
    out = tmp_path / "controle"
    out.mkdir()
    viewer.dialogs.open_file_dialog = lambda dialog, chosen: chosen(str(out))  # type: ignore[method-assign]
    click(qtbot, viewer, "auditButton")
    dialog = viewer.findChild(QInputDialog, "auditYearDialog")
    assert dialog.comboBoxItems() == ["2026"]
    dialog.setTextValue("2026")
    dialog.accept()
    wait_task(qtbot, viewer)
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert len(folders) == 1, label(viewer, "viewerMessage")
    assert verify_pack(folders[0]) == []
    message = label(viewer, "viewerMessage")
    assert message.startswith("Dossier de contrôle 2026 écrit (journal intègre)")
    assert last_event(demo.path)["code"] == "AUDIT_PACK"
    viewer.grab().save(str(tmp_path / "audit.png"))


def test_a_cashier_cannot_prepare_a_pack(qtbot, demo: Ledger) -> None:
    viewer = make_viewer(qtbot, demo, Role.CASHIER)
    assert not viewer.findChild(QPushButton, "auditButton").isEnabled()
