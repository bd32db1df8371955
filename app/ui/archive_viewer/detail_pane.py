"""The Archives screen's « Détail » tab: one record as printed, beside its facts (when,
by whom, its hash and the previous one, the recomputed hash, its signature's status)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFormLayout, QLabel, QPlainTextEdit, QSplitter, QWidget

from app.ledger.export.browse import RecordDetail, SignatureStatus
from app.ledger.records import RecordType
from app.ui.archive_viewer.printed import printed_text

FACTS = (
    ("detailRecord", "Enregistrement"),
    ("detailWhen", "Fait le"),
    ("detailHash", "Empreinte"),
    ("detailPrevHash", "Empreinte précédente"),
    ("hashCheck", "Empreinte recalculée"),
    ("detailSignature", "Signature"),
    ("signatureStatus", "Statut"),
)


def mono() -> QFont:
    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSize(10)
    return font


class DetailPane(QSplitter):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.printed = QPlainTextEdit()
        self.printed.setObjectName("detailText")
        self.printed.setReadOnly(True)
        self.printed.setFont(mono())
        self.printed.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.printed.setPlaceholderText(
            "Sélectionnez un enregistrement pour le voir tel qu'imprimé."
        )
        self.facts: dict[str, QLabel] = {}
        form = QFormLayout()
        for name, label in FACTS:
            value = QLabel()
            value.setObjectName(name)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if name in ("detailHash", "detailPrevHash"):
                value.setFont(mono())
            form.addRow(label, value)
            self.facts[name] = value
        facts = QWidget()
        facts.setObjectName("detailFacts")
        facts.setLayout(form)
        self.addWidget(self.printed)
        self.addWidget(facts)
        self.setSizes([430, 600])

    def show_record(self, detail: RecordDetail, *, training: bool) -> None:
        self.printed.setPlainText(printed_text(detail, training=training))
        number = detail.doc_number
        if detail.record_type in (RecordType.INVOICE, RecordType.CREDIT_NOTE):
            number = detail.body.get("number", number)
        ref = f" — corrige ou copie le n°{detail.ref_seq}" if detail.ref_seq else ""
        values = {
            "detailRecord": f"n°{detail.seq} — {detail.record_type.label} {number}{ref}",
            "detailWhen": f"{detail.when}, caisse {detail.till}, par {detail.operator}",
            "detailHash": _split_hash(detail.hash),
            "detailPrevHash": _split_hash(detail.prev_hash),
            "hashCheck": "conforme" if detail.hash_ok else "NON CONFORME : contenu modifié",
            "detailSignature": f"{detail.signature_excerpt} (clé {detail.key_id})",
            "signatureStatus": detail.signature_status.label,
        }
        for name, text in values.items():
            self.facts[name].setText(text)
        status = self.facts["signatureStatus"]
        state = detail.signature_status.value
        if not detail.hash_ok and detail.signature_status is SignatureStatus.VALID:
            state = SignatureStatus.INVALID.value
        status.setProperty("state", state)
        status.style().unpolish(status)
        status.style().polish(status)

    def clear(self) -> None:
        self.printed.clear()
        for label in self.facts.values():
            label.clear()


def _split_hash(value: str) -> str:
    return f"{value[:32]}\n{value[32:]}" if len(value) > 32 else value
