"""What a PURGE event says, read back by verification.

A purge deletes the records of an archived fiscal year from the ledger
(``app.ledger.archive.purge``) and appends a PURGE event that lists exactly what went: the
sequence numbers as compact ranges, the document numbers per type, and the records left
online whose predecessor was deleted (the "bridges": their ``prev_hash`` can no longer be
recomputed here, the archive holds the record it points to). Verification excuses a gap, a
broken link or a jump in numbering only when a PURGE event covers it, so that any other
deletion still shows.

This module has no dependency on the rest of the purge (archives, ZIP files): verification
imports it in every worker process.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

# The canonical bytes of a PURGE event start their body with these bytes (keys sorted,
# no whitespace): a cheap filter before the event is decoded and checked.
PURGE_MARKER = b'"body":{"code":"PURGE"'
PURGE_CODE = "PURGE"

Ranges = tuple[tuple[int, int], ...]


def compact(values: Iterable[int]) -> list[list[int]]:
    """Sorted integers as ``[[first, last], ...]`` runs of consecutive values."""
    runs: list[list[int]] = []
    for value in sorted(values):
        if runs and value == runs[-1][1] + 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    return runs


def _merge(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """Sorted, disjoint ranges; adjacent ranges are joined (two purges side by side)."""
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return tuple((lo, hi) for lo, hi in merged)


def _covers(ranges: Ranges, lo: int, hi: int) -> bool:
    if lo > hi or not ranges:
        return False
    index = bisect.bisect_right(ranges, (lo, float("inf"))) - 1
    return index >= 0 and ranges[index][0] <= lo and hi <= ranges[index][1]


def _intersects(ranges: Ranges, lo: int, hi: int) -> bool:
    if lo > hi or not ranges:
        return False
    index = bisect.bisect_right(ranges, (hi, float("inf"))) - 1
    return index >= 0 and ranges[index][1] >= lo


@dataclass(frozen=True)
class PurgeNote:
    """One purge, as verification reports it."""

    seq: int  # of the PURGE event
    year: str
    records: int
    archive_file: str


@dataclass(frozen=True)
class Purged:
    """Everything the ledger's PURGE events excuse. Empty when nothing was ever purged.

    Plain tuples and dicts only: it is sent to the verification's worker processes.
    """

    seqs: Ranges = ()
    bridges: frozenset[tuple[int, str]] = frozenset()
    numbers: dict[str, Ranges] = field(default_factory=dict)
    notes: tuple[PurgeNote, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.seqs)

    def covers(self, lo: int, hi: int) -> bool:
        """Whether every sequence number from lo to hi was purged (False when lo > hi)."""
        return _covers(self.seqs, lo, hi)

    def intersects(self, lo: int, hi: int) -> bool:
        """Whether some sequence number from lo to hi was purged."""
        return _intersects(self.seqs, lo, hi)

    def bridged(self, prev_seq: int, seq: int, hash_: str) -> bool:
        """Whether the record ``seq`` (hash ``hash_``) may follow ``prev_seq``: everything
        between them was purged and a PURGE event names this very record as a bridge."""
        return self.covers(prev_seq + 1, seq - 1) and (seq, hash_) in self.bridges

    def numbers_cover(self, record_type: str, lo: int, hi: int) -> bool:
        """Whether the numbers lo..hi of this type all belonged to purged records."""
        return _covers(self.numbers.get(record_type, ()), lo, hi)

    def number_purged(self, record_type: str, number: int) -> bool:
        """Whether this number was already given to a purged record (a reused number)."""
        return _covers(self.numbers.get(record_type, ()), number, number)


NOTHING_PURGED = Purged()


def _pairs(value: Any) -> Iterator[tuple[int, int]]:
    for pair in value:
        lo, hi = pair
        if type(lo) is not int or type(hi) is not int or lo > hi:
            raise ValueError(f"bad range {pair!r}")
        yield lo, hi


def read_purges(rows: Iterable[tuple[int, bytes]]) -> Purged:
    """The PURGE events among ``rows`` (seq, canonical bytes) of EVENT records.

    A range is taken into account only before the event that lists it: a PURGE event
    excuses nothing that happened after it. An event that cannot be read excuses nothing
    (the chain check reports a damaged record on its own).
    """
    seqs: list[tuple[int, int]] = []
    bridges: set[tuple[int, str]] = set()
    numbers: dict[str, list[tuple[int, int]]] = {}
    notes: list[PurgeNote] = []
    for event_seq, data in rows:
        try:
            envelope = json.loads(data)
            body = envelope["body"]
            if envelope.get("type") != "EVENT" or body.get("code") != PURGE_CODE:
                continue
            detail = body["detail"]
            deleted = [r for r in _pairs(detail["deleted"]) if r[1] < event_seq]
            by_type = {str(rtype): list(_pairs(runs)) for rtype, runs in detail["numbers"].items()}
            links = {
                (int(seq), str(hash_)) for seq, hash_ in detail["bridges"] if int(seq) < event_seq
            }
            note = PurgeNote(
                event_seq,
                str(detail["year"]),
                int(detail["records"]),
                str(detail["archive"]["file"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        seqs.extend(deleted)
        bridges |= links
        for rtype, runs in by_type.items():
            numbers.setdefault(rtype, []).extend(runs)
        notes.append(note)
    if not seqs:
        return NOTHING_PURGED
    return Purged(
        seqs=_merge(seqs),
        bridges=frozenset(bridges),
        numbers={rtype: _merge(runs) for rtype, runs in numbers.items()},
        notes=tuple(sorted(notes, key=lambda n: n.seq)),
    )


def purge_events_sql(dialect: str) -> str:
    """The EVENT records whose canonical bytes hold ``PURGE_MARKER`` (one parameter):
    a filter in the database, so that the many other events are never decoded."""
    if dialect == "postgresql":
        return (
            "SELECT seq, canonical FROM journal WHERE record_type = 'EVENT' "
            "AND position(%s::bytea in canonical) > 0 ORDER BY seq"
        )
    return (
        "SELECT seq, canonical FROM journal WHERE record_type = 'EVENT' "
        "AND instr(canonical, ?) > 0 ORDER BY seq"
    )
