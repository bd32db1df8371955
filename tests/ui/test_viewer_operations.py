"""The Archives screen's long jobs: plain operations that say what they changed, run one
at a time by the screen's runner."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QProgressBar, QPushButton

from app.ledger.store import Ledger
from app.ui.archive_viewer import ArchiveViewer, operations
from app.ui.archive_viewer.jobs import Job
from app.ui.archive_viewer.source import Source
from tests.ui.test_archive_viewer import click, demo, label, viewer, wait_task  # noqa: F401


def test_an_operation_returns_what_it_wrote_without_a_screen(demo: Ledger, tmp_path: Path) -> None:  # noqa: F811
    outcome = operations.export_fec(demo, 2026, tmp_path, operator="Gérant", job=Job("FEC 2026"))
    assert outcome.path is not None and outcome.path.parent == tmp_path
    assert outcome.message == f"Export écrit : {outcome.path}"
    assert outcome.journaled and not outcome.reload


def test_the_verdict_of_the_journal_in_use(demo: Ledger) -> None:  # noqa: F811
    source = Source(Path(demo.path), "Journal en cours")
    verdict = operations.verify_ledger(source, operator="Gérant", job=Job("Vérification"))
    assert verdict.ok, verdict.summary
    assert not verdict.archive


def test_other_jobs_wait_while_one_runs(qtbot, viewer: ArchiveViewer) -> None:  # noqa: F811
    click(qtbot, viewer, "verifyButton")
    assert viewer.ops.busy
    assert viewer.findChild(QProgressBar, "taskProgress").isVisible()
    for name in ("verifyButton", "exportCsv", "exportXlsx", "fecButton", "auditButton"):
        assert not viewer.findChild(QPushButton, name).isEnabled(), name
    assert not viewer.ops.run("Autre", lambda job: None, lambda _: None)
    assert label(viewer, "viewerMessage") == (
        "Une opération est déjà en cours : attendez sa fin ou annulez-la."
    )
    wait_task(qtbot, viewer)
    assert not viewer.findChild(QProgressBar, "taskProgress").isVisible()
    assert viewer.findChild(QPushButton, "exportCsv").isEnabled()
    assert viewer.verdict is not None and viewer.verdict.ok
