"""A ticket's envelope read straight into what the checks need.

Tickets are most of a ledger. Decoding one into dictionaries builds every line's label,
quantity and barcode only to drop them; ``msgspec`` reads the same JSON into typed
fields and skips the rest. A record that does not fit these types exactly (a missing key,
a rate written as text, anything unexpected) is not judged here: ``read_ticket`` returns
None and the caller decodes it the ordinary way, so a damaged record gets the same
findings either way.
"""

from __future__ import annotations

from operator import attrgetter

import msgspec

from app.ledger.verify.checks import ENVELOPE_COPIES
from app.ledger.verify.totals import Figures


class _Line(msgspec.Struct, gc=False):
    total: int


class _Vat(msgspec.Struct, gc=False):
    rate: int
    base: int
    vat: int
    total: int


class _Payment(msgspec.Struct, gc=False):
    method: str
    amount: int


class _Ticket(msgspec.Struct, gc=False):
    total: int
    lines: list[_Line]
    vat: list[_Vat]
    payments: list[_Payment]


class _Envelope(msgspec.Struct, gc=False):
    body: _Ticket
    seq: int
    type: str
    number: int
    ts: str
    date: str
    till: str
    operator: str
    ref: int | None
    period: str | None
    key: str
    v: int
    ledger: str


_decode = msgspec.json.Decoder(_Envelope).decode
_line_total = attrgetter("total")
_vat_row = attrgetter("rate", "base", "vat", "total")
_payment_row = attrgetter("method", "amount")
copies_of = attrgetter(*ENVELOPE_COPIES)  # the keys copied into columns, in their order
_Errors = (msgspec.DecodeError, msgspec.ValidationError)


def read_ticket(data: bytes) -> tuple[_Envelope, Figures] | None:
    """The envelope (its copied keys as attributes) and the ticket's figures; None when
    the record must be decoded the ordinary way."""
    try:
        envelope = _decode(data)
    except _Errors:
        return None
    body = envelope.body
    figures = (
        body.total,
        sum(map(_line_total, body.lines)),
        list(map(_vat_row, body.vat)),
        list(map(_payment_row, body.payments)),
    )
    return envelope, figures
