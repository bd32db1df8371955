"""The Archives screen's row of long jobs, and the progress row of the one running.

Which buttons are offered depends on what is browsed (most jobs need the journal in
use, not an archive or a central copy), on the operator's role, and on whether a job
already runs: ``enable`` says it once for all of them.
"""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

JOBS = (
    ("verifyButton", "Vérifier l'intégrité"),
    ("exportCsv", "Exporter CSV"),
    ("exportXlsx", "Exporter XLSX"),
    ("fecButton", "FEC…"),
    ("archiveButton", "Créer une archive…"),
    ("purgeButton", "Purger…"),
    ("auditButton", "Contrôle fiscal…"),
)
LIVE_ONLY = "Disponible sur le journal en cours."
AUDIT_TIP = (
    "Dossier pour un contrôle fiscal : attestation, vérification, clôtures, "
    "événements, archives et FEC d'un exercice, signés, en un dossier et un ZIP."
)


class ActionBar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Two rows of four: the seven jobs in one row were wider than a 1024-px screen.
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.actions: dict[str, QPushButton] = {}
        for i, (name, label) in enumerate(JOBS):
            button = QPushButton(label)
            button.setObjectName(name)
            grid.addWidget(button, i // 4, i % 4)
            self.actions[name] = button
        row = QHBoxLayout()
        grid.addLayout(row, 0, 4, 2, 1)
        row.addStretch(1)
        self.task_label = QLabel()
        self.task_label.setObjectName("taskLabel")
        self.progress = QProgressBar()
        self.progress.setObjectName("taskProgress")
        self.progress.setFixedWidth(220)
        self.cancel_button = QPushButton("Annuler")
        self.cancel_button.setObjectName("cancelButton")
        for widget in (self.task_label, self.progress, self.cancel_button):
            widget.setVisible(False)
            row.addWidget(widget)

    def enable(self, *, busy: bool, live: bool, ready: bool, manager: bool, auditor: bool) -> None:
        """``ready``: a ledger is browsed; ``live``: it is the journal in use."""
        for name in ("verifyButton", "exportCsv", "exportXlsx"):
            self.actions[name].setEnabled(ready and not busy)
        self.actions["fecButton"].setEnabled(live and not busy)
        self.actions["auditButton"].setEnabled(live and not busy and auditor)
        self.actions["auditButton"].setToolTip(AUDIT_TIP if live else LIVE_ONLY)
        for name in ("archiveButton", "purgeButton"):
            self.actions[name].setVisible(manager)
            self.actions[name].setEnabled(live and manager and not busy)
        for name in ("fecButton", "archiveButton", "purgeButton"):
            self.actions[name].setToolTip("" if live else LIVE_ONLY)
