"""Archives screen: a manager purges an archived fiscal year after an explicit confirmation."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QPushButton

from app.ledger.operators import Role, has_operators
from app.ledger.preferences import set_preference
from app.ledger.store import Ledger
from app.ledger.verify.engine import verify_ledger
from app.staff.service import add_operator
from app.ui.archive_viewer import ArchiveViewer
from app.ui.context import AppContext
from tests.ledger.old_shop import OldShop, build_old_shop, old_clock


@pytest.fixture
def old(tmp_path: Path) -> Iterator[tuple[Ledger, OldShop]]:
    """The shop of 2018-2019, opened again on the real clock (years later)."""
    path = tmp_path / "shop.sqlite"
    clock = old_clock()
    with Ledger.open(path, clock=clock, operator="test") as ledger:
        built = build_old_shop(ledger, clock, tmp_path / "archives")
    with Ledger.open(path, create=False, operator="Camille") as ledger:
        yield ledger, built


def _viewer(qtbot, ledger: Ledger, role: Role) -> ArchiveViewer:
    with ledger.transaction() as session:
        if not has_operators(session):  # the shop's manager, who adds the others
            add_operator(session, "Camille", Role.MANAGER, "4321", operator="Camille")
        operator = add_operator(session, f"Op {role.value}", role, "1234", operator="Camille")
    viewer = ArchiveViewer(AppContext(ledger, operator))
    qtbot.addWidget(viewer)
    viewer.resize(1110, 770)
    viewer.show()
    qtbot.waitExposed(viewer)
    return viewer


def _answer_file_dialog(viewer: ArchiveViewer, path: Path) -> None:
    """The file dialog answers ``path`` at once; the rest goes through the real widgets."""

    def chosen(dialog, then: Callable[[str], None]) -> None:  # type: ignore[no-untyped-def]
        dialog.deleteLater()
        then(str(path))

    viewer.dialogs.open_file_dialog = chosen  # type: ignore[method-assign]


def _records(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0]


def _confirmation(qtbot, viewer: ArchiveViewer) -> QMessageBox:
    button = viewer.findChild(QPushButton, "purgeButton")
    assert button.isVisible() and button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            (box := viewer.findChild(QMessageBox, "purgeConfirmDialog")) is not None
            and box.isVisible()
        ),
        timeout=60_000,
    )
    return viewer.findChild(QMessageBox, "purgeConfirmDialog")


def test_manager_purges_after_confirming(qtbot, old) -> None:
    ledger, built = old
    viewer = _viewer(qtbot, ledger, Role.MANAGER)
    _answer_file_dialog(viewer, built.archive_2018)
    before = _records(ledger.path)

    box = _confirmation(qtbot, viewer)
    assert box.windowModality() == Qt.WindowModality.WindowModal
    assert "l'exercice 2018" in box.text() and "6 enregistrements" in box.text()
    assert "définitive" in box.informativeText()
    qtbot.mouseClick(box.findChild(QPushButton, "purgeCancelButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: viewer.findChild(QMessageBox, "purgeConfirmDialog") is None)
    assert "Purge abandonnée" in viewer.findChild(QLabel, "viewerMessage").text()
    assert _records(ledger.path) == before

    box = _confirmation(qtbot, viewer)
    qtbot.mouseClick(box.findChild(QPushButton, "purgeConfirmButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: "purgé" in viewer.findChild(QLabel, "viewerMessage").text(), timeout=60_000
    )
    message = viewer.findChild(QLabel, "viewerMessage").text()
    assert message.startswith("Exercice 2018 purgé : 6 enregistrements supprimés")
    assert _records(ledger.path) == before - 6 + 1  # and the PURGE event
    report = verify_ledger(ledger.path)
    assert report.ok, report.findings


def test_refusal_is_shown_and_nothing_deleted(qtbot, old) -> None:
    ledger, built = old
    viewer = _viewer(qtbot, ledger, Role.MANAGER)
    assert built.archive_2019 is not None
    with ledger.transaction() as session:
        set_preference(session, "retention_years", "10")
    _answer_file_dialog(viewer, built.archive_2019)
    before = _records(ledger.path)
    qtbot.mouseClick(viewer.findChild(QPushButton, "purgeButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: viewer.findChild(QMessageBox, "errorDialog") is not None, timeout=60_000
    )
    assert "doit être conservé" in viewer.findChild(QMessageBox, "errorDialog").text()
    assert viewer.findChild(QMessageBox, "purgeConfirmDialog") is None
    assert _records(ledger.path) == before


def test_only_a_manager_sees_the_purge(qtbot, old) -> None:
    ledger, _built = old
    for role in (Role.CASHIER, Role.ACCOUNTANT):
        viewer = _viewer(qtbot, ledger, role)
        assert not viewer.findChild(QPushButton, "purgeButton").isVisible()
