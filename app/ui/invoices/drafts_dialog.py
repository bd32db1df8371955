"""The invoice drafts: resume one in the editor, or delete it (after a question)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.einvoice.drafts import DraftSummary, delete_draft, list_drafts
from app.ui.context import AppContext
from app.ui.forms import TOUCH_STYLE
from app.ui.models import ListModel
from app.ui.widgets.confirm import ask_confirmation


def format_timestamp(stamp: str, timezone: str) -> str:
    """« 04/12/2026 21:40 » in the shop's time zone, from a ledger UTC timestamp."""
    try:
        moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return stamp
    return moment.astimezone(ZoneInfo(timezone)).strftime("%d/%m/%Y %H:%M")


class DraftsModel(ListModel):
    HEADERS = ("Modifié le", "Brouillon", "Par")

    def __init__(self, timezone: str, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.timezone = timezone

    def display(self, value: DraftSummary, column: int) -> str:
        when = format_timestamp(value.updated_at, self.timezone)
        return (when, value.label, value.operator)[column]

    def sort_key(self, value: DraftSummary, column: int) -> Any:
        return value.updated_at if column == 0 else self.display(value, column)


class DraftsDialog(QDialog):
    resume = Signal(int)  # the draft to open in the editor

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Brouillons de factures")
        self.setObjectName("draftsDialog")
        self.setStyleSheet(TOUCH_STYLE)
        self.resize(820, 460)
        self.model = DraftsModel(ctx.ledger.timezone)
        self.table = QTableView()
        self.table.setObjectName("draftsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.doubleClicked.connect(lambda _: self.resume_selected())
        self.message = QLabel()
        self.message.setObjectName("draftsMessage")
        self.message.setWordWrap(True)
        resume = QPushButton("Reprendre")
        resume.setObjectName("resumeDraft")
        resume.setDefault(True)
        resume.clicked.connect(self.resume_selected)
        delete = QPushButton("Supprimer…")
        delete.setObjectName("deleteDraft")
        delete.clicked.connect(self.delete_selected)
        close = QPushButton("Fermer")
        close.clicked.connect(self.reject)
        bar = QHBoxLayout()
        bar.addWidget(delete)
        bar.addStretch(1)
        bar.addWidget(close)
        bar.addWidget(resume)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(bar)
        self.refresh()

    def refresh(self) -> None:
        self.model.set_rows(self.ctx.read(list_drafts))
        if self.model.rowCount():
            self.table.selectRow(0)
            self.message.setText("")
        else:
            self.message.setText("Aucun brouillon : une facture fermée sans être émise vient ici.")

    def selected(self) -> DraftSummary | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_value(rows[0].row()) if rows else None

    def resume_selected(self) -> None:
        draft = self.selected()
        if draft is None:
            self.message.setText("Choisissez le brouillon à reprendre.")
            return
        self.accept()
        self.resume.emit(draft.id)

    def delete_selected(self) -> None:
        draft = self.selected()
        if draft is None:
            self.message.setText("Choisissez le brouillon à supprimer.")
            return

        def delete() -> None:
            self.ctx.write(self, lambda s: delete_draft(s, draft.id))
            self.refresh()

        ask_confirmation(
            self,
            "Supprimer le brouillon",
            f"Supprimer le brouillon « {draft.label} » ? Ce qui y est saisi sera perdu.",
            yes="Supprimer",
            then=delete,
        )
