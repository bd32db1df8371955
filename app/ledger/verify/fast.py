"""Tickets, most of a ledger, read and judged without a detour.

Decoding a ticket into dictionaries builds every line's label, quantity and barcode only
to drop them; ``msgspec`` reads the same JSON into typed fields and skips the rest. A
record that does not fit these types exactly (a missing key, a rate written as text,
anything unexpected) is not judged here: ``read_ticket`` returns None and the caller
decodes it the ordinary way, so a damaged record gets the same findings either way.

``sound_ticket`` goes further for the common case: a ticket that passes every check is
judged in one step, without the calls of the checks one by one. It only ever says yes;
whatever it doubts goes through the checks (``tests/ledger/test_verify_fast_path.py``
alters ledgers in many ways and holds both routes to the same findings).
"""

from __future__ import annotations

from operator import attrgetter, itemgetter
from typing import Any

import msgspec

from app.ledger.chain import link_hash
from app.ledger.records import RecordType
from app.ledger.verify.checks import (
    CANONICAL,
    ENVELOPE_COPIES,
    HASH,
    IS_SALE,
    NUMBER,
    PREV,
    SEQ,
    SIGNATURE,
    TOTAL,
    TS,
    Walk,
)
from app.ledger.verify.totals import Figures


class _Line(msgspec.Struct, gc=False):
    total: int


# Fields in the order of their copies' columns (``journal_vat``, ``journal_payment``, the
# envelope's copied keys after ``body``): a struct's values are then read as a tuple in one
# call (``astuple``) instead of by name.
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
_as_row = msgspec.structs.astuple  # a VAT row (rate, base, vat, total), a payment (method, amount)
_COPIED = slice(1, 1 + len(ENVELOPE_COPIES))


def copies_of(envelope: _Envelope) -> tuple[Any, ...]:
    """The envelope's keys copied into columns, in their order."""
    return _as_row(envelope)[_COPIED]


walk_copies = itemgetter(*ENVELOPE_COPIES.values())  # the columns copied from the envelope
TICKET = RecordType.TICKET.value
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
        list(map(_as_row, body.vat)),
        list(map(_as_row, body.payments)),
    )
    return envelope, figures


# -- a sound ticket in one step --------------------------------------------------------------
_vat_total = attrgetter("total")
_amount = attrgetter("amount")


def sound_ticket(walk: Walk, rec: tuple[Any, ...]) -> Figures | None:
    """A ticket that passes every check of ``checks`` and of the ticket's figures, judged
    in one step; its figures, with the walk moved on as the checks would have moved it
    (its number counted, its signature queued). None, with the walk untouched, as soon as
    anything is not plainly sound: the record then goes through the checks one by one,
    which say what is wrong. So this function only ever says yes; every finding is the
    checks' own."""
    seq, prev_seq, ts, prev_ts = rec[SEQ], walk.prev_seq, rec[TS], walk.prev_ts
    if (
        prev_seq is None
        or seq != prev_seq + 1
        or rec[PREV] != walk.prev_hash
        or prev_ts is None
        or ts is None
        or ts < prev_ts
        or not rec[IS_SALE]
    ):
        return None
    canonical = rec[CANONICAL]
    try:
        envelope = _decode(canonical)
        if link_hash(rec[PREV], canonical) != rec[HASH]:
            return None
    except (*_Errors, ValueError, TypeError):
        return None
    keys, signer = walk.keys, envelope.key
    key = keys.public.get(signer)
    if (
        signer != keys.current
        or key is None
        or keys.introduced[signer] > seq
        or envelope.ledger != walk.ledger_id
        or copies_of(envelope) != walk_copies(rec)
    ):
        return None
    body = envelope.body
    total = body.total
    if total != rec[TOTAL] or sum(map(_line_total, body.lines)) != total:
        return None
    vat = body.vat
    if sum(map(_vat_total, vat)) != total or sum(map(_amount, body.payments)) != total:
        return None
    for row in vat:
        if row.base + row.vat != row.total:
            return None
    numbers = walk.numbers.get(TICKET)
    number = rec[NUMBER]
    if numbers is None or number != numbers[1] + 1:
        return None
    purged = walk.purged
    if purged.numbers and purged.number_purged(TICKET, number):
        return None
    numbers[1] = number
    walk.pending.append(  # type: ignore[union-attr]
        (key, rec[HASH], rec[SIGNATURE], seq, TICKET, number)
    )
    return total, total, list(map(_as_row, vat)), list(map(_as_row, body.payments))
