"""Chunks of a ledger checked in worker processes, and their results joined in order.

Each worker opens its own connection and gets only a range and the keys; it sends back a
small ``Chunk``. The stitcher checks what spans chunks: links, numbering, closures and
the perpetual grand total, and knows enough at the end to write a checkpoint.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from app.ledger.chain import GENESIS_PREV_HASH
from app.ledger.purged import NOTHING_PURGED, Purged
from app.ledger.verify import report as say
from app.ledger.verify.closures import ClosureChain
from app.ledger.verify.report import Finding, Report
from app.ledger.verify.scan import Chunk, Keys, scan_chunk
from app.ledger.verify.totals import RunningTotals


def chunks(lo: int, hi: int, size: int, workers: int = 1) -> Iterator[tuple[int, int]]:
    """Ranges of ``size`` records. A span of many chunks for several workers ends in
    quarter chunks, so that the workers finish together instead of one of them checking
    a last whole chunk while the others wait."""
    finer = hi + 1
    if workers > 1 and hi - lo + 1 >= 4 * workers * size:
        finer = hi + 1 - workers * size
    start = lo
    while start <= hi:
        step = size if start < finer else max(1, size // 4)
        yield start, min(hi, start + step - 1)
        start += step


def run_chunks(
    path: str,
    ranges: list[tuple[int, int]],
    ledger_id: str,
    keys: Keys,
    workers: int,
    purged: Purged = NOTHING_PURGED,
) -> Iterator[Chunk]:
    if workers <= 1 or len(ranges) == 1:
        for lo, hi in ranges:
            yield scan_chunk(path, lo, hi, ledger_id, keys, purged)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        window: list[Future[Chunk]] = []
        try:
            for lo, hi in ranges:
                window.append(pool.submit(scan_chunk, path, lo, hi, ledger_id, keys, purged))
                if len(window) >= workers * 2:
                    yield window.pop(0).result()
            while window:
                yield window.pop(0).result()
        finally:
            for future in window:
                future.cancel()


class Stitcher:
    """Joins chunk results in order (from the first record, or from a checkpoint)."""

    def __init__(self, report: Report, purged: Purged = NOTHING_PURGED) -> None:
        self.report = report
        self.purged = purged
        self.prev_seq = 0
        self.prev_hash = GENESIS_PREV_HASH
        self.prev_ts = ""
        self.numbers: dict[str, int] = {}
        self.closures = ClosureChain(self._fail, self._purged_day)
        self.hashes: dict[int, str] = {}  # closures' own hashes, for the checkpoint

    def _purged_day(self, body: dict[str, Any]) -> bool:
        return self.purged.intersects(body["first_seq"], body["last_seq"])

    def _fail(self, seq: int | None, rule: str, message: str) -> None:
        self.report.findings.append(Finding(seq, rule, message))

    def add(self, chunk: Chunk) -> None:
        report = self.report
        report.findings.extend(Finding(*f) for f in chunk.findings)
        report.records += chunk.rows
        if chunk.first is None:
            return
        first_seq, first_prev, first_hash, first_ts = chunk.first
        purged = self.purged
        gap = first_seq != self.prev_seq + 1
        if gap and not purged.covers(self.prev_seq + 1, first_seq - 1):
            self._fail(first_seq, "sequence", say.sequence_gap(self.prev_seq, first_seq))
        if first_prev != self.prev_hash and not (
            gap and purged.bridged(self.prev_seq, first_seq, first_hash)
        ):
            self._fail(first_seq, "chain", say.broken_link(f"l'enregistrement n°{first_seq}"))
        if first_ts < self.prev_ts:
            self._fail(first_seq, "time", say.backdated(f"l'enregistrement n°{first_seq}"))
        for rtype, (first, last, seq) in chunk.numbers.items():
            expected = self.numbers.get(rtype, 0) + 1
            if first != expected and not (
                first > expected and purged.numbers_cover(rtype, expected, first - 1)
            ):
                self._fail(seq, "numbering", say.numbering_message(rtype, expected - 1, first))
            self.numbers[rtype] = last
        closures = self.closures
        for seq, rtype, body, prev_hash, hash_, plain in chunk.closures:
            closures.since_day.merge(RunningTotals.from_plain(plain))
            closures.closure(seq, rtype, body, prev_hash)
            self.hashes[seq] = hash_
        closures.since_day.merge(RunningTotals.from_plain(chunk.tail))
        if chunk.last is not None:
            self.prev_seq, self.prev_hash, self.prev_ts = chunk.last
        report.closures = closures.count
        report.last_seq, report.last_hash = self.prev_seq, self.prev_hash

    def state(self, key: str | None) -> dict[str, Any]:
        """Where the walk stands, as canonical values: what a checkpoint records."""
        closures = self.closures
        return {
            "seq": self.prev_seq,
            "hash": self.prev_hash,
            "ts": self.prev_ts,
            "key": key,
            "numbers": dict(self.numbers),
            "day": closures.since_day.as_plain(),
            "closures": {t: [s, self.hashes[s]] for t, (s, _b) in closures.last.items()},
            "parts": {
                t: [[s, self.hashes[s]] for s, _b in parts]
                for t, parts in closures.parts.items()
                if parts
            },
        }
