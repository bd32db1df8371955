"""The archive viewer on a central server: one till's chain, or the shop's own chain.

What is browsed is a snapshot (``app.ledger.central.service.central_snapshot``): the chain copied
into a temporary ledger file when it is opened, so that the viewer's usual queries serve
it; records the tills send afterwards appear when it is opened again. Verification does
not look at the snapshot but at the central itself (``verify_central``: one till, or the
whole shop with every till and the shop closures against the tills' tickets).
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QLineEdit

from app.documents.verification_report import ReportFinding
from app.ui.archive_viewer.jobs import Job, Verdict
from app.ui.archive_viewer.source import CentralSource, Source

if TYPE_CHECKING:
    from app.ui.archive_viewer.viewer import ArchiveViewer

WHOLE_SHOP = "Toute la boutique (chaîne du serveur central)"


def _default_address(viewer: ArchiveViewer) -> str:
    from app.ledger.central.sync import CENTRAL_ENV, central_url

    forced = os.environ.get(CENTRAL_ENV, "").strip()
    return forced or viewer.ctx.read(central_url)


def _window_modal(dialog: QInputDialog) -> QInputDialog:
    """Window-modal and non-blocking: the rest of the application keeps running."""
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    return dialog


def ask_central(viewer: ArchiveViewer) -> QInputDialog:
    """Ask where the central is, then which chain to show."""
    dialog = _window_modal(QInputDialog(viewer))
    dialog.setObjectName("centralAddressDialog")
    dialog.setWindowTitle("Serveur central")
    dialog.setLabelText("Adresse du serveur central (base PostgreSQL ou fichier) :")
    dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
    dialog.setTextValue(_default_address(viewer))
    dialog.textValueSelected.connect(lambda text: list_tills(viewer, text))
    dialog.open()
    return dialog


def list_tills(viewer: ArchiveViewer, address: str) -> None:
    """Read the central's tills off the GUI thread, then offer the choice."""
    from app.ledger.central.service import (
        central_target,
        display_target,
        open_central,
        registered_tills,
    )

    target = central_target(address)

    def work(job: Job) -> list[str]:
        with open_central(target, readonly=True) as central, central.reader() as session:
            return [till.till_id for till in registered_tills(session)]

    def done(tills: list[str]) -> None:
        choose_chain(viewer, target, display_target(target), tills)

    viewer.ops.run("Lecture du serveur central", work, done, cancellable=False)


def choose_chain(
    viewer: ArchiveViewer, target: Path | str, display: str, tills: list[str]
) -> QInputDialog:
    dialog = _window_modal(QInputDialog(viewer))
    dialog.setObjectName("centralChainDialog")
    dialog.setWindowTitle("Serveur central")
    dialog.setLabelText(f"Que consulter sur {display} ?")
    dialog.setComboBoxItems([WHOLE_SHOP, *(f"Caisse {name}" for name in tills)])
    dialog.setComboBoxEditable(False)

    def chosen(text: str) -> None:
        till = None if text == WHOLE_SHOP else text.removeprefix("Caisse ")
        open_central_source(viewer, CentralSource(target, till, display))

    dialog.textValueSelected.connect(chosen)
    dialog.open()
    return dialog


def open_central_source(viewer: ArchiveViewer, central: CentralSource) -> None:
    """Copy the chain into a temporary ledger file, then browse it like the journal."""
    from app.ledger.central.service import central_snapshot

    workdir = tempfile.TemporaryDirectory(prefix="comptoir-central-")
    taken = datetime.now(ZoneInfo(viewer.ctx.ledger.timezone))

    def work(job: Job) -> Path:
        return central_snapshot(central.target, Path(workdir.name) / "central.sqlite", central.till)

    def done(db_path: Path) -> None:
        what = f"caisse {central.till}" if central.till else "chaîne de la boutique"
        label = (
            f"Serveur central {central.display} — {what} "
            f"(instantané du {taken:%d/%m/%Y à %H:%M:%S})"
        )
        viewer._use_source(Source(db_path, label, workdir=workdir, central=central))
        viewer._say(
            f"{label} : copie prise à l'ouverture ; les envois reçus depuis n'y figurent pas."
        )

    viewer.ops.run("Copie du serveur central", work, done, cancellable=False)


def verify_central_source(
    central: CentralSource, *, operator: str, job: Job, source: str
) -> Verdict:
    """Verify on the central itself: the till shown, or the whole shop."""
    from app.ledger.central.service import verify_central_and_record

    report = verify_central_and_record(
        central.target,
        till=central.till,
        operator=operator,
        progress=job.progress,
        cancelled=job.cancelled,
    )
    where = f"caisse {central.till}" if central.till else "serveur central"
    return Verdict(
        ok=report.ok,
        cancelled=report.cancelled,
        summary=report.summary(),
        records=report.records,
        findings=tuple(ReportFinding(f.seq, where, f.message) for f in report.findings),
        notices=tuple(report.notices),
        source=source,
        archive=False,
    )
