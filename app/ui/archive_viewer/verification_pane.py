"""The Archives screen's « Vérification » tab: the verdict, its findings (a double click
shows the record), the button for the printable report."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui.archive_viewer.jobs import Verdict
from app.ui.archive_viewer.receipt_check import ReceiptCheckBox
from app.ui.archive_viewer.source import Source


class VerificationPane(QWidget):
    seq_chosen = Signal(int)

    def __init__(
        self, source: Callable[[], Source | None] = lambda: None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.receipt_check = ReceiptCheckBox(source)
        self.result = QLabel("Aucune vérification lancée depuis cet écran.")
        self.result.setObjectName("verifyResult")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.findings = QTableWidget(0, 3)
        self.findings.setObjectName("findingsTable")
        self.findings.setHorizontalHeaderLabels(["N°", "Fichier", "Constat"])
        self.findings.verticalHeader().setVisible(False)
        self.findings.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.findings.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.findings.horizontalHeader().setStretchLastSection(True)
        self.findings.setColumnWidth(0, 90)
        self.findings.setColumnWidth(1, 180)
        self.findings.cellDoubleClicked.connect(self._finding_clicked)
        self.report_button = QPushButton("Rapport PDF…")
        self.report_button.setObjectName("reportButton")
        self.report_button.setEnabled(False)
        box = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(self.result, 1)
        top.addWidget(self.report_button)
        box.addLayout(top)
        box.addWidget(self.findings, 1)
        box.addWidget(self.receipt_check)

    def show_running(self) -> None:
        self.result.setText("Vérification en cours…")
        self.result.setProperty("state", "")
        self.findings.setRowCount(0)
        self.report_button.setEnabled(False)

    def show_verdict(self, verdict: Verdict) -> None:
        self.show_text(verdict.summary, ok=verdict.ok)
        notices = [f"Remarque : {n}" for n in verdict.notices]
        if notices:
            self.result.setText("\n".join([verdict.summary, *notices]))
        self.findings.setRowCount(len(verdict.findings))
        for row, finding in enumerate(verdict.findings):
            seq = "" if finding.seq is None else str(finding.seq)
            for column, text in enumerate((seq, finding.file, finding.message)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.findings.setItem(row, column, item)
        self.report_button.setEnabled(True)

    def show_text(self, text: str, *, ok: bool) -> None:
        self.result.setText(text)
        self.result.setProperty("state", "ok" if ok else "bad")
        self.result.style().unpolish(self.result)
        self.result.style().polish(self.result)

    def _finding_clicked(self, row: int, _column: int) -> None:
        item = self.findings.item(row, 0)
        if item is not None and item.text().isdigit():
            self.seq_chosen.emit(int(item.text()))
