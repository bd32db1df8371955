"""« Vérifier un ticket » on the Archives screen, over the live ledger and an archive, and the
verification code on the receipt shown in the detail pane."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton

from app.ledger.closures import close_month
from app.ledger.store import Ledger
from app.ledger.verify.receipt import check_code
from app.ui.archive_viewer import ArchiveViewer
from tests.ledger.demo_ledger import demo_copy
from tests.ui.test_archive_viewer import make_viewer, wait_task


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(demo_copy(tmp_path), kind="demo", create=False, operator="Camille") as ledger:
        yield ledger


def _code_of(ledger: Ledger, number: int) -> tuple[int, str]:
    with closing(sqlite3.connect(ledger.path)) as conn:
        seq, link, signature = conn.execute(
            "SELECT seq, hash, signature FROM journal WHERE record_type = 'TICKET' AND number = ?",
            (number,),
        ).fetchone()
    return seq, check_code(ledger.ledger_id, seq, link, signature)


def _ask(qtbot, viewer: ArchiveViewer, code: str, *, scanned: bool) -> str:
    viewer.tabs.setCurrentIndex(1)
    field = viewer.findChild(QLineEdit, "receiptCode")
    field.clear()
    qtbot.keyClicks(field, code)
    if scanned:  # a scanner ends with Enter
        qtbot.keyClick(field, Qt.Key.Key_Return)
    else:
        qtbot.mouseClick(
            viewer.findChild(QPushButton, "receiptCheckButton"), Qt.MouseButton.LeftButton
        )
    return viewer.findChild(QLabel, "receiptAnswer").text()


def test_a_ticket_is_checked_against_the_live_ledger_and_an_archive(
    qtbot, demo: Ledger, tmp_path: Path
) -> None:
    viewer = make_viewer(qtbot, demo)
    seq, code = _code_of(demo, 3)
    answer = _ask(qtbot, viewer, code.lower(), scanned=True)
    assert answer.startswith(code) and "CONFORME" in answer and "Ticket T000003" in answer
    assert viewer.current_seq() == seq  # the record is selected in the list
    assert code in viewer.findChild(QLabel, "receiptAnswer").text()

    forged = code[:-1] + ("A" if code[-1] != "A" else "B")
    answer = _ask(qtbot, viewer, forged, scanned=False)
    assert "MODIFIÉ" in answer and "sa signature n'est pas celle du document" in answer

    answer = _ask(qtbot, viewer, "C1-42", scanned=False)
    assert answer.startswith("Code de vérification illisible")

    with demo.transaction() as session:
        close_month(session, "2026-03", operator=viewer.ctx.operator_name)
    viewer.refresh()
    viewer.period_jobs.create_archive("2026-03", tmp_path / "archives")
    wait_task(qtbot, viewer)
    (archive,) = (tmp_path / "archives").glob("*.zip")
    viewer.open_archive(archive)
    wait_task(qtbot, viewer)
    assert "CONFORME" in _ask(qtbot, viewer, code, scanned=True)
    beyond = check_code(demo.ledger_id, 10**6, "00" * 32, b"\0" * 70)
    assert "n'est pas dans cette archive" in _ask(qtbot, viewer, beyond, scanned=True)


def test_the_receipt_shown_carries_its_code(qtbot, demo: Ledger) -> None:
    viewer = make_viewer(qtbot, demo)
    seq, code = _code_of(demo, 3)
    assert viewer.select_seq(seq)
    qtbot.waitUntil(lambda: viewer.detail is not None and viewer.detail.seq == seq)
    shown = viewer.printed.toPlainText()
    assert "Code de vérification" in shown
    assert code in shown.replace("\n", "").replace(" ", "")
