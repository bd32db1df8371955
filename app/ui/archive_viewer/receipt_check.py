"""« Vérifier un ticket » on the Archives screen: the verification code of a receipt or an
invoice, typed or scanned, checked against the ledger or the archive shown."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.errors import ComptoirError
from app.ledger.verify.receipt import ReceiptCheck, check_receipt
from app.ui.archive_viewer.source import Source


class ReceiptCheckBox(QWidget):
    """A scanner types the code and Enter: the field takes both, the answer shows below."""

    seq_chosen = Signal(int)

    def __init__(self, source: Callable[[], Source | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self.last: ReceiptCheck | None = None
        self.code = QLineEdit()
        self.code.setObjectName("receiptCode")
        self.code.setPlaceholderText("Code de vérification (C1-…) saisi ou scanné")
        self.code.returnPressed.connect(self.check)
        self.button = QPushButton("Vérifier un ticket")
        self.button.setObjectName("receiptCheckButton")
        self.button.setToolTip(
            "Dit si le journal ou l'archive affichés contiennent exactement l'enregistrement "
            "qu'atteste le code imprimé sous le QR code d'un ticket ou d'une facture."
        )
        self.button.clicked.connect(self.check)
        self.answer = QLabel()
        self.answer.setObjectName("receiptAnswer")
        self.answer.setWordWrap(True)
        self.answer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(QLabel("Vérifier un ticket :"))
        row.addWidget(self.code, 1)
        row.addWidget(self.button)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(row)
        box.addWidget(self.answer)

    def check(self) -> None:
        """One row read from the file shown: quick enough for the GUI thread."""
        source = self._source()
        if source is None:
            self._show("Ouvrez d'abord le journal ou une archive.", ok=False)
            return
        try:
            result = check_receipt(str(source.db_path), self.code.text(), archive=not source.live)
        except ComptoirError as exc:
            self.last = None
            self._show(exc.message, ok=False)
            return
        self.last = result
        self._show(f"{result.code}\n{result.message}", ok=result.ok)
        if result.document is not None:
            self.seq_chosen.emit(result.code.seq)

    def _show(self, text: str, *, ok: bool) -> None:
        self.answer.setText(text)
        self.answer.setProperty("state", "ok" if ok else "bad")
        self.answer.style().unpolish(self.answer)
        self.answer.style().polish(self.answer)
