"""E-reporting: the periods of the shop's VAT regime with sales, what was sent for each
(initial report, rectificatives, flow number), sending the due ones or replacing one.
Sending runs off the GUI thread."""

from __future__ import annotations

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

from app.einvoice.pdp.ereporting.report import send_due
from app.einvoice.pdp.ereporting.sent import PeriodState, period_states
from app.einvoice.pdp.worker import configured_client
from app.errors import ComptoirError
from app.ui.background import Background
from app.ui.context import AppContext
from app.ui.models import ListModel


class PeriodModel(ListModel):
    HEADERS = ("Déclaration", "Du", "Au", "État", "Transmis le", "Flux", "Motif du rejet")

    def display(self, value: PeriodState, column: int) -> str:
        last = value.sent[-1] if value.sent else None
        kind = "Transactions (10.1, 10.3)" if value.period.flux == "10.3" else "Paiements (10.4)"
        return (
            kind,
            f"{value.period.start:%d/%m/%Y}",
            f"{value.period.end:%d/%m/%Y}",
            value.state,
            f"{last.sent_at[8:10]}/{last.sent_at[5:7]}/{last.sent_at[:4]}" if last else "",
            last.flow_id if last else "",
            value.reason,
        )[column]


class EReportingDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("E-reporting des ventes")
        self.setObjectName("ereportingDialog")
        self.resize(900, 480)
        self.model = PeriodModel()
        self.table = QTableView()
        self.table.setObjectName("periodTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        # The flow's id is for support: cut short (the column can be widened), so that the
        # reason of a rejection, what the shopkeeper must read, keeps the room.
        self.table.setWordWrap(False)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(5, 130)
        header.setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)
        self.message = QLabel()
        self.message.setObjectName("ereportingMessage")
        self.message.setWordWrap(True)
        self.send_button = QPushButton("Transmettre les périodes dues")
        self.send_button.setObjectName("sendDuePeriods")
        self.send_button.clicked.connect(lambda: self.send(replace=False))
        self.replace_button = QPushButton("Envoyer un rectificatif")
        self.replace_button.setObjectName("replacePeriod")
        self.replace_button.setToolTip("Remplace toute la période choisie (rapport RE)")
        self.replace_button.clicked.connect(lambda: self.send(replace=True))
        bar = QHBoxLayout()
        bar.addWidget(self.send_button)
        bar.addWidget(self.replace_button)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Ventes aux particuliers et à l'étranger déclarées à l'administration "
                "(Flux 10), par période de votre régime de TVA."
            )
        )
        layout.addWidget(self.table, 1)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        self.background = Background(self)
        self.refresh()

    def refresh(self) -> None:
        rows = self.ctx.read(period_states)
        self.model.set_rows(rows)
        due = sum(1 for row in rows if row.due)
        rejected = sum(1 for row in rows if row.rejected)
        self.send_button.setEnabled(due + rejected > 0)
        parts = [f"{due} période{'s' if due > 1 else ''} à transmettre."] if due else []
        if rejected:
            parts.append(
                f"{rejected} déclaration{'s' if rejected > 1 else ''} "
                f"rejetée{'s' if rejected > 1 else ''} (voir le motif) : corrigez, puis "
                "transmettez à nouveau."
            )
        text = " ".join(parts) or "Rien à transmettre."
        self.message.setText(text)

    def send(self, *, replace: bool) -> None:
        if replace:
            rows = self.table.selectionModel().selectedRows()
            chosen = self.model.row_value(rows[0].row()) if rows else None
            if chosen is None or not chosen.sent:
                self.message.setText("Choisissez une période déjà transmise.")
                return
            periods = [chosen.period]
        else:
            rows = self.ctx.read(period_states)  # a rejected report goes again as initial
            periods = [row.period for row in rows if row.due or row.rejected]
        ledger, operator = self.ctx.ledger, self.ctx.operator_name
        self.send_button.setEnabled(False)
        self.replace_button.setEnabled(False)
        self.message.setText("Transmission à la plateforme…")

        def work() -> int:
            client = configured_client(ledger)
            if client is None:
                raise ComptoirError(
                    "Aucune plateforme de facturation électronique n'est configurée (Réglages)."
                )
            try:
                return len(
                    send_due(ledger, client, operator=operator, periods=periods, replace=replace)
                )
            finally:
                client.close()

        self.background.run(work, self._sent, self._failed)

    def _sent(self, count: int) -> None:
        self.replace_button.setEnabled(True)
        self.refresh()
        self.message.setText(
            f"{count} déclaration{'s' if count > 1 else ''} transmise{'s' if count > 1 else ''}."
        )
        self.ctx.ledger_changed.emit()

    def _failed(self, error: BaseException) -> None:
        self.replace_button.setEnabled(True)
        self.refresh()
        text = error.message if isinstance(error, ComptoirError) else str(error)
        self.message.setText(f"L'e-reporting n'a pas été transmis : {text}")
