"""Self-billed invoices and credit notes as the journal holds them.

They are journal records like the shop's own invoices — appended through
``journal.append``, chained, signed, never changed — but of their own types
(``SELF_INVOICE``, ``SELF_CREDIT``) that are not sales: a self-billed invoice is a
purchase of the shop, so closures, the grand totals, e-reporting and the FEC sales journal,
which all read sale records only, never count it (the FEC posts it in its purchases
journal). Their printed number
(``AFDUPONT-000001``) is the mandate's sequence, kept in the body; the record's own
number is one gapless series over all of them, as for every record type.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.ledger import canonical
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType

SELF_BILLED_TYPES = (RecordType.SELF_INVOICE, RecordType.SELF_CREDIT)


def self_billed_rows(session: Session) -> list[JournalRecord]:
    """Every self-billed record, oldest first."""
    return list(
        session.scalars(
            select(JournalRecord)
            .where(JournalRecord.record_type.in_(SELF_BILLED_TYPES))
            .order_by(JournalRecord.seq)
        )
    )


def body_of(row: JournalRecord) -> dict[str, Any]:
    body: dict[str, Any] = canonical.decode(row.canonical)["body"]
    return body


def sequence_after(session: Session, prefix: str) -> int:
    """The next number of a mandate's sequence: one more than the last one used."""
    frames = [body_of(row)["self_billing"] for row in self_billed_rows(session)]
    used = [frame["sequence"] for frame in frames if frame["prefix"] == prefix]
    return max(used, default=0) + 1
