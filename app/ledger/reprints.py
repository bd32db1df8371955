"""Duplicates: every reprint of a recorded document is itself a record, numbered k."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.ledger.journal import Recorded, append
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType, document_number

REPRINTABLE = (
    RecordType.TICKET,
    RecordType.INVOICE,
    RecordType.CREDIT_NOTE,
    RecordType.DAY_CLOSURE,
    RecordType.MONTH_CLOSURE,
    RecordType.YEAR_CLOSURE,
)


def record_duplicate(
    session: Session, record_type: RecordType, number: int, *, operator: str
) -> Recorded:
    """Record a duplicate of a document; ``body['copy']`` is its number k (1, 2, …)."""
    record_type = RecordType(record_type)
    if record_type not in REPRINTABLE:
        raise InvalidInput(f"Un document « {record_type.label} » ne se réimprime pas.")
    seq = session.scalar(
        select(JournalRecord.seq).where(
            JournalRecord.record_type == record_type, JournalRecord.number == number
        )
    )
    if seq is None:
        raise InvalidInput(f"Le document {document_number(record_type, number)} n'existe pas.")
    copies = session.scalar(
        select(func.count()).where(
            JournalRecord.record_type == RecordType.REPRINT, JournalRecord.ref_seq == seq
        )
    )
    body = {"of_type": record_type.value, "of_number": number, "copy": copies + 1}
    return append(session, RecordType.REPRINT, body, operator=operator, ref_seq=seq)
