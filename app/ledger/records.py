"""What a fiscal record is, apart from any database: its kinds, their names and
numbering prefixes, and the query copies a record's body gives.

Verification's worker processes read records with ``sqlite3`` alone; this module lets
them know the records without loading the ORM.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class RecordType(StrEnum):
    """Every kind of fiscal record; each has its own gapless numbering."""

    KEY = "KEY"
    EVENT = "EVENT"
    SETTINGS = "SETTINGS"
    TICKET = "TICKET"
    INVOICE = "INVOICE"
    CREDIT_NOTE = "CREDIT_NOTE"
    PAYMENT = "PAYMENT"
    REPRINT = "REPRINT"
    DAY_CLOSURE = "DAY_CLOSURE"
    MONTH_CLOSURE = "MONTH_CLOSURE"
    YEAR_CLOSURE = "YEAR_CLOSURE"
    ARCHIVE = "ARCHIVE"
    # Self-billing (CGI art. 289-I-2): invoices the shop draws up as the BUYER, in a
    # supplier's name under its mandate. Purchases: never in SALE_TYPES, never turnover.
    SELF_INVOICE = "SELF_INVOICE"
    SELF_CREDIT = "SELF_CREDIT"

    @property
    def label(self) -> str:
        return RECORD_LABELS[self]

    @property
    def prefix(self) -> str:
        return RECORD_PREFIXES[self]

    @property
    def is_sale(self) -> bool:
        """Records that carry turnover and so must fall into an open day."""
        return self in SALE_TYPES


RECORD_LABELS = {
    RecordType.KEY: "Clé de signature",
    RecordType.EVENT: "Événement technique",
    RecordType.SETTINGS: "Paramètres fiscaux",
    RecordType.TICKET: "Ticket",
    RecordType.INVOICE: "Facture",
    RecordType.CREDIT_NOTE: "Avoir",
    RecordType.PAYMENT: "Règlement",
    RecordType.REPRINT: "Duplicata",
    RecordType.DAY_CLOSURE: "Clôture journalière",
    RecordType.MONTH_CLOSURE: "Clôture mensuelle",
    RecordType.YEAR_CLOSURE: "Clôture annuelle",
    RecordType.ARCHIVE: "Archive",
    RecordType.SELF_INVOICE: "Autofacture",
    RecordType.SELF_CREDIT: "Avoir d'autofacturation",
}
RECORD_PREFIXES = {
    RecordType.KEY: "K",
    RecordType.EVENT: "E",
    RecordType.SETTINGS: "P",
    RecordType.TICKET: "T",
    RecordType.INVOICE: "F",
    RecordType.CREDIT_NOTE: "AV",
    RecordType.PAYMENT: "R",
    RecordType.REPRINT: "D",
    RecordType.DAY_CLOSURE: "ZJ",
    RecordType.MONTH_CLOSURE: "ZM",
    RecordType.YEAR_CLOSURE: "ZA",
    RecordType.ARCHIVE: "A",
    RecordType.SELF_INVOICE: "AF",
    RecordType.SELF_CREDIT: "AAF",
}
SALE_TYPES = frozenset(
    {RecordType.TICKET, RecordType.INVOICE, RecordType.CREDIT_NOTE, RecordType.PAYMENT}
)
CLOSURE_TYPES = (RecordType.DAY_CLOSURE, RecordType.MONTH_CLOSURE, RecordType.YEAR_CLOSURE)


def document_number(record_type: RecordType | str, number: int) -> str:
    return f"{RecordType(record_type).prefix}{number:06d}"


_WITH_AMOUNTS = frozenset(
    t.value
    for t in (RecordType.TICKET, RecordType.INVOICE, RecordType.CREDIT_NOTE, RecordType.PAYMENT)
)


def derived_rows(
    record_type: RecordType | str, body: dict[str, Any]
) -> tuple[list[tuple[int, int, int, int]], list[tuple[str, int]], int | None]:
    """The query copies of a record: VAT rows, payment rows, total incl. VAT.

    Used when appending and again when verifying, so both agree by construction.
    """
    if record_type not in _WITH_AMOUNTS:
        RecordType(record_type)  # an unknown type is an error, not a record without amounts
        return [], [], None
    vat = [(v["rate"], v["base"], v["vat"], v["total"]) for v in body.get("vat", ())]
    payments = [(p["method"], p["amount"]) for p in body.get("payments", ())]
    return vat, payments, body.get("total")
