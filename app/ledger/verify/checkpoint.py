"""Checkpoints: where a sound verification stopped, so that the next one starts there.

A verification that finds nothing ends with the state of its walk: the last record's
sequence number, hash and time, the last number of each document type, the tickets since
the last day closure, and the closures a later closure goes on from (each named by its
sequence number and hash). The shop's computer journals it inside the ``VERIFY`` event
(``detail.checkpoint``), so the checkpoint is itself a record: chained and signed, it
cannot be forged without the key.

An incremental verification takes the latest checkpoint and checks every record after
it exactly as a full one does, starting from that state — including the ``VERIFY`` event
that carries the checkpoint (its hash, signature and link) and the link of the first
record after it to the hash it names. The closures it names are read back and their
hashes recomputed. Anything that does not fit (no checkpoint, a malformed one, a closure
whose bytes no longer give its hash, a key that is not the one in force) makes the
verification a full one.
"""

from __future__ import annotations

import json
from typing import Any

from app.ledger import chain
from app.ledger.verify.parallel import Stitcher
from app.ledger.verify.scan import Keys
from app.ledger.verify.sources import PostgresReader, Reader
from app.ledger.verify.totals import RunningTotals

MARKER = b'"checkpoint":{'
_LATEST = {
    "sqlite": (
        "SELECT seq, canonical FROM journal WHERE record_type = 'EVENT' "
        "AND instr(canonical, ?) > 0 ORDER BY number DESC"
    ),
    "postgresql": (
        "SELECT seq, canonical FROM journal WHERE record_type = 'EVENT' "
        "AND position(?::bytea in canonical) > 0 ORDER BY number DESC"
    ),
}


def latest(conn: Reader) -> tuple[int, dict[str, Any]] | None:
    """The newest checkpoint journaled by a sound verification, and the seq of its event.
    Events are read newest first and only until the first ``VERIFY`` that carries one."""
    dialect = "postgresql" if isinstance(conn, PostgresReader) else "sqlite"
    for seq, data in conn.execute(_LATEST[dialect], (MARKER,)):
        try:
            body = json.loads(bytes(data))["body"]
            detail = body["detail"]
            if body["code"] != "VERIFY" or detail["ok"] is not True:
                continue
            checkpoint = detail["checkpoint"]
        except (ValueError, KeyError, TypeError):
            continue
        return (seq, checkpoint) if isinstance(checkpoint, dict) else None
    return None


def _closure_body(conn: Reader, ref: Any, rtype: str) -> tuple[int, dict[str, Any], str]:
    """A closure the checkpoint names, read back: its bytes must still give its hash."""
    seq, hash_ = ref
    row = conn.execute(
        "SELECT record_type, canonical, prev_hash, hash FROM journal WHERE seq = ?", (seq,)
    ).fetchone()
    if row is None:
        raise ValueError("closure gone")
    stored_type, data, prev_hash, stored_hash = row
    data = bytes(data)
    if (stored_type, stored_hash) != (rtype, hash_) or chain.link_hash(prev_hash, data) != hash_:
        raise ValueError("closure changed")
    return seq, json.loads(data)["body"], hash_


def key_at(keys: Keys, seq: int) -> str | None:
    """The key in force after record ``seq``: the one the next record must be signed by."""
    found = _key_in_force(keys, seq)
    return found[0] if found else None


def _key_in_force(keys: Keys, seq: int) -> tuple[str, bytes] | None:
    found = None
    for introduced, key_id, der in keys:
        if introduced <= seq:
            found = (key_id, der)
    return found


def restore(
    stitcher: Stitcher, conn: Reader, keys: Keys, event_seq: int, state: dict[str, Any]
) -> bool:
    """Set the stitcher where the checkpoint stands; False (stitcher untouched) when the
    checkpoint cannot be trusted."""
    try:
        seq, hash_, ts = state["seq"], state["hash"], state["ts"]
        if not (isinstance(seq, int) and 0 < seq < event_seq):
            return False
        if not (isinstance(hash_, str) and len(hash_) == 64 and isinstance(ts, str)):
            return False
        key = _key_in_force(keys, seq)
        if key is None or key[0] != state["key"]:
            return False
        if chain.key_id_of(chain.load_public_der(key[1])) != key[0]:
            return False
        numbers = {str(t): int(n) for t, n in state["numbers"].items()}
        since_day = RunningTotals.from_plain(state["day"])
        last = {t: _closure_body(conn, ref, t) for t, ref in state["closures"].items()}
        parts = {
            t: [_closure_body(conn, ref, t) for ref in refs] for t, refs in state["parts"].items()
        }
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    stitcher.prev_seq, stitcher.prev_hash, stitcher.prev_ts = seq, hash_, ts
    stitcher.numbers = numbers
    closures = stitcher.closures
    closures.since_day = since_day
    for rtype, (s, body, h) in last.items():
        closures.last[rtype] = (s, body)
        stitcher.hashes[s] = h
    for rtype, entries in parts.items():
        closures.parts[rtype] = [(s, body) for s, body, _h in entries]
        stitcher.hashes.update((s, h) for s, _b, h in entries)
    return True
