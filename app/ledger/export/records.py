"""What a browsed record looks like: the quick filters and the columns of the viewer, a
filter, a row on screen, a record in detail, and the SQL that reads a row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from app.ledger import canonical
from app.ledger.events import EventCode
from app.ledger.journal import signature_excerpt
from app.ledger.records import CLOSURE_TYPES, RecordType, document_number
from app.values.money import format_cents

SHORT_HASH = 12

TYPE_GROUPS: dict[str, frozenset[RecordType]] = {
    "Clôtures Z": frozenset(CLOSURE_TYPES),
    "Tickets": frozenset({RecordType.TICKET}),
    "Factures et avoirs": frozenset({RecordType.INVOICE, RecordType.CREDIT_NOTE}),
    "Règlements": frozenset({RecordType.PAYMENT}),
    "Événements techniques": frozenset({RecordType.EVENT}),
    "Clés, paramètres, duplicatas, archives": frozenset(
        {RecordType.KEY, RecordType.SETTINGS, RecordType.REPRINT, RecordType.ARCHIVE}
    ),
    "Autofactures (achats)": frozenset({RecordType.SELF_INVOICE, RecordType.SELF_CREDIT}),
}
"""The quick filters of the viewer, in the words of the shop."""

COLUMNS = (
    "N° d'ordre",
    "Type",
    "Numéro",
    "Date",
    "Caisse",
    "Opérateur",
    "Montant TTC",
    "Client",
    "Empreinte",
)
AMOUNT_COLUMN = COLUMNS.index("Montant TTC")

INVOICES_SQL = "('INVOICE', 'CREDIT_NOTE')"
CLOSURES_SQL = "(" + ", ".join(f"'{t.value}'" for t in CLOSURE_TYPES) + ")"
TEXT_SQL = "CAST(canonical AS TEXT)"
# Closures keep their total in the body only; sale records also have it as a column.
AMOUNT_SQL = (
    f"COALESCE(total_cents, CASE WHEN record_type IN {CLOSURES_SQL} "
    f"THEN json_extract({TEXT_SQL}, '$.body.total') END)"
)
ROW_COLUMNS = (
    f"seq, record_type, number, ts, till, operator, {AMOUNT_SQL}, "
    f"CASE WHEN record_type IN {INVOICES_SQL} "
    f"THEN json_extract({TEXT_SQL}, '$.body.buyer.name') END, "
    f"CASE WHEN record_type IN {INVOICES_SQL} THEN json_extract({TEXT_SQL}, '$.body.number') "
    f"WHEN record_type = 'EVENT' THEN json_extract({TEXT_SQL}, '$.body.code') "
    f"WHEN record_type = 'TICKET' THEN json_extract({TEXT_SQL}, '$.body.kind') END, "
    "hash"
)
_TICKET_KINDS = {"cancellation": "Ticket d'annulation", "refund": "Ticket de remboursement"}


@dataclass(frozen=True)
class RecordFilter:
    """What the viewer shows; every field left empty lets everything through."""

    date_from: date | None = None  # business days, inclusive
    date_to: date | None = None
    types: frozenset[RecordType] = frozenset()
    operator: str = ""
    min_cents: int | None = None  # total incl. VAT (closures: the period total)
    max_cents: int | None = None
    customer: str = ""  # buyer name or SIREN of invoices and credit notes
    text: str = ""  # anywhere in the record's canonical bytes, a document number, a hash

    @property
    def needs_scan(self) -> bool:
        """Whether the filter reads records; dates and types alone use the indexes."""
        return bool(
            self.operator.strip()
            or self.min_cents is not None
            or self.max_cents is not None
            or self.customer.strip()
            or self.text.strip()
        )

    def describe(self) -> dict[str, Any]:
        """The filter in canonical values, for the journal entry of an export."""
        out: dict[str, Any] = {}
        if self.date_from:
            out["from"] = self.date_from.isoformat()
        if self.date_to:
            out["to"] = self.date_to.isoformat()
        if self.types:
            out["types"] = sorted(t.value for t in self.types)
        for key in ("operator", "customer", "text"):
            value = getattr(self, key).strip()
            if value:
                out[key] = value
        if self.min_cents is not None:
            out["min_cents"] = self.min_cents
        if self.max_cents is not None:
            out["max_cents"] = self.max_cents
        return out

    def summary(self) -> str:
        """One French line for a title or a report: "Tickets, du 01/03/2026 au 31/03/2026"."""
        parts = [", ".join(sorted(t.label for t in self.types))] if self.types else []
        if self.date_from and self.date_to:
            parts.append(f"du {self.date_from:%d/%m/%Y} au {self.date_to:%d/%m/%Y}")
        elif self.date_from:
            parts.append(f"à partir du {self.date_from:%d/%m/%Y}")
        elif self.date_to:
            parts.append(f"jusqu'au {self.date_to:%d/%m/%Y}")
        if self.operator.strip():
            parts.append(f"opérateur {self.operator.strip()}")
        if self.min_cents is not None:
            parts.append(f"montant ≥ {format_cents(self.min_cents)}")
        if self.max_cents is not None:
            parts.append(f"montant ≤ {format_cents(self.max_cents)}")
        if self.customer.strip():
            parts.append(f"client « {self.customer.strip()} »")
        if self.text.strip():
            parts.append(f"contenant « {self.text.strip()} »")
        return ", ".join(parts) if parts else "Tout le journal"


@dataclass(frozen=True)
class RecordRow:
    """One line of the table; a sequence number missing from the file shows as such."""

    seq: int
    record_type: str
    type_label: str
    number: str
    ts: str
    when: str  # shop time, dd/mm/yyyy HH:MM:SS
    till: str
    operator: str
    total_cents: int | None
    customer: str
    hash: str

    def cells(self) -> tuple[str, ...]:
        """What each column shows, in the order of COLUMNS."""
        return (
            str(self.seq),
            self.type_label,
            self.number,
            self.when[:16],
            self.till,
            self.operator,
            "" if self.total_cents is None else format_cents(self.total_cents),
            self.customer,
            self.hash[:SHORT_HASH],
        )


def missing_row(seq: int) -> RecordRow:
    return RecordRow(
        seq, "", "Absent du journal (purgé ou supprimé)", "", "", "", "", "", None, "", ""
    )


class SignatureStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNKNOWN_KEY = "unknown_key"

    @property
    def label(self) -> str:
        return {
            "valid": "Signature valide",
            "invalid": "Signature invalide",
            "unknown_key": "Clé de signature inconnue : signature non vérifiable",
        }[self.value]


@dataclass(frozen=True)
class RecordDetail:
    """Everything the detail pane shows about one record."""

    seq: int
    record_type: RecordType
    number: int
    doc_number: str
    ts: str
    when: str
    business_date: str
    till: str
    operator: str
    ref_seq: int | None
    period: str | None
    body: dict[str, Any] = field(repr=False)
    hash: str
    prev_hash: str
    key_id: str
    signature: bytes = field(repr=False)
    hash_ok: bool
    signature_status: SignatureStatus
    shop: dict[str, Any] = field(repr=False)  # fiscal identity in force at that record
    timezone: str
    ledger_id: str = ""  # of the ledger or archive shown: a receipt's verification code

    @property
    def signature_excerpt(self) -> str:
        return signature_excerpt(self.signature)


@dataclass(frozen=True)
class YearPeriods:
    year: int
    months: tuple[int, ...]


@dataclass(frozen=True)
class ClosureEntry:
    seq: int
    record_type: RecordType
    number: int
    period: str
    hash: str


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def shop_time(ts: str, timezone: str) -> str:
    """A UTC record timestamp in shop time: 02/03/2026 09:00:00."""
    return canonical.parse_ts(ts).astimezone(_zone(timezone)).strftime("%d/%m/%Y %H:%M:%S")


def _type_label(record_type: str, extra: str | None) -> str:
    try:
        rtype = RecordType(record_type)
    except ValueError:
        return record_type
    if rtype is RecordType.TICKET and extra in _TICKET_KINDS:
        return _TICKET_KINDS[extra]
    if rtype is RecordType.EVENT and extra:
        try:
            return f"Événement : {EventCode(extra).label}"
        except ValueError:
            return f"Événement : {extra}"
    return rtype.label


def row_of(values: tuple[Any, ...], timezone: str) -> RecordRow:
    seq, rtype, number, ts, till, operator, total, buyer, extra, hash_ = values
    invoice = rtype in ("INVOICE", "CREDIT_NOTE") and isinstance(extra, str)
    try:
        doc = extra if invoice else document_number(rtype, number)
    except ValueError:
        doc = str(number)
    return RecordRow(
        seq=seq,
        record_type=rtype,
        type_label=_type_label(rtype, None if invoice else extra),
        number=doc,
        ts=ts,
        when=shop_time(ts, timezone),
        till=till,
        operator=operator,
        total_cents=total if isinstance(total, int) else None,
        customer=buyer if isinstance(buyer, str) else "",
        hash=hash_,
    )
