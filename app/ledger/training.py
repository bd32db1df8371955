"""What a training ledger is, for every writer that needs to know.

Training data is recorded, chained and signed like real data, in a file of its own whose
``ledger_meta.kind`` is ``training``. Everything produced from it must say so, and the
writers of documents, archives and exports learn it here, from their session, rather
than from a flag passed down by each caller (which one of them would forget).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.ledger.store import ledger_of

TRAINING = "training"
TRAINING_NOTICE = "FORMATION — sans valeur fiscale"
"""The mention every training document carries (watermark, banner, XML note)."""


def is_training(session: Session) -> bool:
    """Whether the session's ledger is a training ledger."""
    return ledger_of(session).kind == TRAINING


def training_mention(session: Session) -> str | None:
    """The mention a document written from this session must carry, or None."""
    return TRAINING_NOTICE if is_training(session) else None
