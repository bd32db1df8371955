"""The checks of a chain, each a small function over one plain record and the state of
the walk that reads it.

A record is a tuple in the order of ``COLUMNS`` (a ledger's ``journal`` row as SQL gives
it); a source that lacks a column (an archive line has no till) holds ``None`` there and
names the columns it really holds in ``Walk.copied``. The checks append what they find
through ``Walk.fail``; none of them raises on damaged data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.ledger import chain
from app.ledger.purged import NOTHING_PURGED, Purged
from app.ledger.records import RecordType
from app.ledger.verify import report as say

COLUMNS = (
    "seq, record_type, number, ts, business_date, till, operator, is_sale, ref_seq, period, "
    "total_cents, key_id, canonical_version, canonical, prev_hash, hash, signature"
)
SEQ, TYPE, NUMBER, TS, DATE, TILL, OPERATOR, IS_SALE, REF, PERIOD = range(10)
TOTAL, KEY_ID, VERSION, CANONICAL, PREV, HASH, SIGNATURE = range(10, 17)
# The envelope keys copied into columns, and where each copy stands in a record.
ENVELOPE_COPIES: dict[str, int] = {
    "seq": SEQ,
    "type": TYPE,
    "number": NUMBER,
    "ts": TS,
    "date": DATE,
    "till": TILL,
    "operator": OPERATOR,
    "ref": REF,
    "period": PERIOD,
    "key": KEY_ID,
    "v": VERSION,
}
KEY = RecordType.KEY.value
Fail = Callable[[int | None, str, str], None]


def name_of(rec: tuple[Any, ...]) -> str:
    return say.record_name(rec[SEQ], rec[TYPE], rec[NUMBER])


class KeyRing:
    """The public keys of a chain and the one in force where the walk stands."""

    def __init__(self) -> None:
        self.public: dict[str, Any] = {}
        self.introduced: dict[str, int] = {}
        self.current: str | None = None

    def add(self, seq: int, key_id: str, public: Any) -> None:
        self.public[key_id] = public
        self.introduced[key_id] = seq

    def usable(self, key_id: Any, seq: int) -> Any:
        """The key, when the chain had introduced it by record ``seq``."""
        if self.introduced.get(key_id, seq + 1) > seq:
            return None
        return self.public.get(key_id)


class Walk:
    """What the checks remember while one chain is read in order."""

    def __init__(
        self,
        fail: Fail,
        *,
        ledger_id: str | None,
        keys: KeyRing,
        copied: tuple[str, ...] = tuple(ENVELOPE_COPIES),
        purged: Purged = NOTHING_PURGED,
        first_number: int | None = None,
    ) -> None:
        self.fail = fail
        self.first_number = first_number  # what each type's first number must be, if known
        self.ledger_id = ledger_id
        self.keys = keys
        self.purged = purged
        self.copied_keys = copied
        self.copied_at = tuple(ENVELOPE_COPIES[k] for k in copied)
        self.prev_seq: int | None = None
        self.prev_hash: str | None = None
        self.prev_ts: str | None = None
        self.numbers: dict[str, list[int]] = {}  # type -> [first, last, seq of the first]
        # Signatures to check later, all at once (``check_signatures``), or None: at once.
        # Each is (key, hash, signature, seq, type, number): not the whole record, whose
        # canonical bytes are let go as soon as the record is read.
        self.pending: list[tuple[Any, ...]] | None = None

    def advance(self, rec: tuple[Any, ...]) -> None:
        self.prev_seq, self.prev_hash = rec[SEQ], rec[HASH]
        if rec[TS] is not None:  # an archive line whose envelope has no time keeps the last
            self.prev_ts = rec[TS]


# -- the chain -----------------------------------------------------------------------------
def check_sequence(walk: Walk, rec: tuple[Any, ...]) -> None:
    prev, seq = walk.prev_seq, rec[SEQ]
    if prev is not None and seq != prev + 1 and not walk.purged.covers(prev + 1, seq - 1):
        walk.fail(seq, "sequence", say.sequence_gap(prev, seq))


def check_link(walk: Walk, rec: tuple[Any, ...]) -> None:
    prev = walk.prev_hash
    if (
        prev is not None
        and rec[PREV] != prev
        and not walk.purged.bridged(walk.prev_seq or 0, rec[SEQ], rec[HASH])
    ):
        walk.fail(rec[SEQ], "chain", say.broken_link(name_of(rec)))


def check_hash(walk: Walk, rec: tuple[Any, ...]) -> None:
    try:
        sound = chain.link_hash(rec[PREV], rec[CANONICAL]) == rec[HASH]
    except (ValueError, TypeError):
        sound = False
    if not sound:
        walk.fail(rec[SEQ], "hash", say.changed(name_of(rec)))


def allowed_signer(walk: Walk, rec: tuple[Any, ...], body: Any) -> Any:
    """The key the chain says is in force: the latest key introduced before the record,
    or for a key change not endorsed by the previous key (and the first), the new key."""
    if rec[TYPE] == KEY and (rec[SEQ] == 1 or not body.get("endorsed")):
        return body.get("key_id")
    return walk.keys.current


def check_signature(walk: Walk, rec: tuple[Any, ...], signer: Any, body: Any) -> None:
    seq, keys = rec[SEQ], walk.keys
    is_key = rec[TYPE] == KEY
    allowed = allowed_signer(walk, rec, body)
    key = keys.usable(signer, seq)
    if signer != allowed or key is None:
        walk.fail(seq, "key", say.wrong_key(name_of(rec), signer))
    elif walk.pending is not None:
        walk.pending.append((key, rec[HASH], rec[SIGNATURE], seq, rec[TYPE], rec[NUMBER]))
    elif not chain.signature_ok(key, rec[HASH], rec[SIGNATURE]):
        walk.fail(seq, "signature", say.bad_signature(name_of(rec)))
    if is_key and body.get("key_id") in keys.public:
        keys.current = body.get("key_id")


def check_signatures(walk: Walk) -> None:
    """The signatures ``check_signature`` left for later. Checked in one tight run, they
    keep the processor's caches to the curve arithmetic instead of sharing them with the
    decoding of each record in between."""
    pending, walk.pending = walk.pending or [], []
    signature_ok, fail = chain.signature_ok, walk.fail
    for key, hash_, signature, seq, rtype, number in pending:
        if not signature_ok(key, hash_, signature):
            fail(seq, "signature", say.bad_signature(say.record_name(seq, rtype, number)))


def copies_differ(walk: Walk, rec: tuple[Any, ...], envelope: dict[str, Any]) -> bool:
    """The envelope is the truth; the columns are copies and must agree."""
    get = envelope.get
    return tuple(get(k) for k in walk.copied_keys) != tuple(rec[i] for i in walk.copied_at)


def check_copies(walk: Walk, rec: tuple[Any, ...], envelope: dict[str, Any], what: str) -> None:
    if copies_differ(walk, rec, envelope):
        walk.fail(rec[SEQ], "copy", f"{name_of(rec)} : {what}")


def check_ledger(walk: Walk, rec: tuple[Any, ...], ledger: Any) -> None:
    if ledger != walk.ledger_id:
        walk.fail(rec[SEQ], "ledger", say.foreign(name_of(rec)))


def check_time(walk: Walk, rec: tuple[Any, ...]) -> None:
    prev, ts = walk.prev_ts, rec[TS]
    if prev is not None and ts is not None and ts < prev:
        walk.fail(rec[SEQ], "time", say.backdated(name_of(rec)))


def check_numbering(walk: Walk, rec: tuple[Any, ...]) -> None:
    """Gapless per type; a purged year excuses its own numbers, never their reuse."""
    rtype, number, purged = rec[TYPE], rec[NUMBER], walk.purged
    nums = walk.numbers.get(rtype)
    if nums is None:
        walk.numbers[rtype] = [number, number, rec[SEQ]]
        first = walk.first_number
        if first is not None and number != first:
            walk.fail(rec[SEQ], "numbering", say.numbering_message(rtype, first - 1, number))
    else:
        last = nums[1]
        if number != last + 1 and not (
            number > last and purged.numbers_cover(rtype, last + 1, number - 1)
        ):
            walk.fail(rec[SEQ], "numbering", say.numbering_message(rtype, last, number))
        nums[1] = number
    if purged and purged.number_purged(rtype, number):
        walk.fail(rec[SEQ], "numbering", say.reused_message(rtype, number))


def check_record(walk: Walk, rec: tuple[Any, ...]) -> None:
    """The checks that need nothing but the record's own columns and bytes."""
    check_sequence(walk, rec)
    check_link(walk, rec)
    check_hash(walk, rec)


def check_envelope(walk: Walk, rec: tuple[Any, ...], envelope: dict[str, Any], what: str) -> None:
    """The checks over the decoded envelope: signer, copies, ledger, time, numbering."""
    check_signature(walk, rec, envelope.get("key"), envelope["body"])
    check_copies(walk, rec, envelope, what)
    check_ledger(walk, rec, envelope.get("ledger"))
    check_time(walk, rec)
    check_numbering(walk, rec)
