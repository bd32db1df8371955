"""The live ledger as a record stream: one chunk of ``journal`` rows, checked on its own
(in a worker process when the ledger is large) and summed up for the stitcher.

Rows come from SQL as plain tuples and stay so; a ticket is read through the typed fast
path (``fast.read_ticket``), every other record (and a ticket that does not fit it) is
decoded as JSON. Only what spans chunks goes back to the parent: the ends of the chunk,
the numbers it holds, and the ticket totals cut at each closure.
"""

from __future__ import annotations

import gc
import itertools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from app.ledger.chain import load_public_der
from app.ledger.purged import NOTHING_PURGED, Purged
from app.ledger.records import CLOSURE_TYPES, SALE_TYPES, RecordType, derived_rows
from app.ledger.verify import checks
from app.ledger.verify import report as say
from app.ledger.verify.checks import CANONICAL, HASH, IS_SALE, SEQ, TOTAL, TS, TYPE, Walk
from app.ledger.verify.fast import copies_of, read_ticket, sound_ticket
from app.ledger.verify.sources import Reader, connect
from app.ledger.verify.totals import (
    RunningTotals,
    figures_problem,
    ticket_figures,
    ticket_problem,
)

Keys = list[tuple[int, str, bytes]]  # (seq of the KEY record, key id, DER public key)
_SALE_VALUES = frozenset(t.value for t in SALE_TYPES)
_CLOSURE_VALUES = frozenset(t.value for t in CLOSURE_TYPES)
_TICKET = RecordType.TICKET.value
_copied = itemgetter(*checks.ENVELOPE_COPIES.values())  # the columns copied from the envelope
_seq_of = itemgetter(0)
_vat_copy = itemgetter(1, 2, 3, 4)
_pay_copy = itemgetter(1, 2)
_RUN = 1024  # records whose signatures and copies are checked together
_DIRECT = "ne correspondent pas au contenu signé (modification directe de la base)."
_COLUMNS_DIFFER = f"les colonnes de la base {_DIRECT}"
_AMOUNTS_DIFFER = f"les montants de la base {_DIRECT}"


@dataclass
class Chunk:
    lo: int
    hi: int
    rows: int = 0
    first: tuple[int, str, str, str] | None = None  # seq, prev_hash, hash, ts
    last: tuple[int, str, str] | None = None  # seq, hash, ts
    findings: list[tuple[int | None, str, str]] = field(default_factory=list)
    numbers: dict[str, list[int]] = field(default_factory=dict)  # type -> [first, last, seq]
    # Ticket totals cut at each closure: (seq, type, body, prev_hash, hash, totals before
    # it), then what follows the last closure in ``tail``.
    closures: list[tuple[Any, ...]] = field(default_factory=list)
    tail: list[Any] = field(default_factory=list)


def key_ring(keys: Keys, seq: int) -> checks.KeyRing:
    """The chain's keys, with the one in force at record ``seq``."""
    ring = checks.KeyRing()
    for introduced, key_id, der in keys:
        ring.add(introduced, key_id, load_public_der(der))
        if introduced < seq:
            ring.current = key_id
    return ring


class _Copies:
    """The VAT and payment rows of a run of records against the signed bodies. What the
    bodies say is gathered flat, in the order the copies are read (VAT rates lowest
    first: the bodies list them highest first), with how many rows each record has; the
    two are compared as wholes when the run ends, rows and the records they belong to.
    Only when they differ are they compared record by record, to name the records. Runs
    are short, so that what is gathered stays in the processor's caches."""

    _VAT = (
        "SELECT seq, rate_bp, base_cents, vat_cents, total_cents FROM journal_vat "
        "WHERE seq BETWEEN ? AND ? ORDER BY seq, rate_bp"
    )
    _PAY = (
        "SELECT seq, method, amount_cents FROM journal_payment "
        "WHERE seq BETWEEN ? AND ? ORDER BY seq, idx"
    )

    def __init__(self, lo: int) -> None:
        self.lo = lo  # the first record of the run
        self._start()

    def _start(self) -> None:
        self.seqs: list[int] = []
        self.vat: list[Any] = []  # every record's VAT rows, lowest rate first
        self.vat_counts: list[int] = []
        self.pay: list[Any] = []
        self.pay_counts: list[int] = []

    def add(self, seq: int, vat: list[Any], pays: list[Any]) -> None:
        self.seqs.append(seq)
        self.vat += vat[::-1]
        self.vat_counts.append(len(vat))
        self.pay += pays
        self.pay_counts.append(len(pays))

    def differing(self, conn: Reader, hi: int) -> list[int]:
        """The records of the run, up to ``hi``, whose copies differ from their body; the
        next run starts after ``hi``."""
        lo, self.lo = self.lo, hi + 1
        seqs, vat, vat_counts, pay, pay_counts = (
            self.seqs,
            self.vat,
            self.vat_counts,
            self.pay,
            self.pay_counts,
        )
        self._start()
        vat_rows = conn.execute(self._VAT, (lo, hi)).fetchall()
        pay_rows = conn.execute(self._PAY, (lo, hi)).fetchall()
        if (
            list(map(_vat_copy, vat_rows)) == vat
            and list(map(_pay_copy, pay_rows)) == pay
            and list(map(_seq_of, vat_rows)) == _repeated(seqs, vat_counts)
            and list(map(_seq_of, pay_rows)) == _repeated(seqs, pay_counts)
        ):
            return []
        copied: dict[int, tuple[list[Any], list[Any]]] = defaultdict(lambda: ([], []))
        for seq, *row in vat_rows:
            copied[seq][0].append(tuple(row))
        for seq, method, amount in pay_rows:
            copied[seq][1].append((method, amount))
        nothing: tuple[list[Any], list[Any]] = ([], [])
        out = []
        vat_at = pay_at = 0
        for seq, vat_count, pay_count in zip(seqs, vat_counts, pay_counts, strict=True):
            signed_vat = vat[vat_at : vat_at + vat_count]
            pays = pay[pay_at : pay_at + pay_count]
            vat_at, pay_at = vat_at + vat_count, pay_at + pay_count
            vat_copy, pay_copy = copied.get(seq, nothing)
            if pays != pay_copy or not _same_vat(signed_vat, vat_copy):
                out.append(seq)
        return out


def _same_vat(signed: list[Any], copied: list[Any]) -> bool:
    """The copies list rates lowest first, whatever order the body gave them in; a body
    whose rates cannot be ordered (a rate written as text) has no faithful copy."""
    if signed == copied:
        return True
    try:
        return sorted(signed) == copied
    except TypeError:
        return False


def _repeated(seqs: list[int], counts: list[int]) -> list[int]:
    """Each record's number as many times as it has rows."""
    return list(itertools.chain.from_iterable(map(itertools.repeat, seqs, counts)))


def scan_chunk(
    target: str, lo: int, hi: int, ledger_id: str, keys: Keys, purged: Purged = NOTHING_PURGED
) -> Chunk:
    """Check records lo..hi (inclusive) on their own; return what must be stitched.
    ``purged``: what PURGE events excuse (gaps, links and numbers of archived years)."""
    # A chunk keeps tens of thousands of small tuples until its end, and creates no
    # cycles: the cyclic collector would only walk them again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _scan(target, lo, hi, ledger_id, keys, purged)
    finally:
        if collecting:
            gc.enable()


def _scan(target: str, lo: int, hi: int, ledger_id: str, keys: Keys, purged: Purged) -> Chunk:
    out = Chunk(lo, hi)
    findings = out.findings
    walk = Walk(
        lambda seq, rule, message: findings.append((seq, rule, message)),
        ledger_id=ledger_id,
        keys=key_ring(keys, lo),
        purged=purged,
    )
    walk.numbers = out.numbers
    walk.pending = []
    conn = connect(target)
    try:
        copies = _Copies(lo)
        amounts_differ: set[int] = set()
        running = RunningTotals()
        rows = 0
        for rec in conn.execute(
            f"SELECT {checks.COLUMNS} FROM journal WHERE seq BETWEEN ? AND ? ORDER BY seq",
            (lo, hi),
        ):
            seq, rtype = rec[SEQ], rec[TYPE]
            rows += 1
            if rtype == _TICKET:
                figures = sound_ticket(walk, rec)
                if figures is not None:
                    copies.add(seq, figures[2], figures[3])
                    running.add(figures)
                    walk.advance(rec)
                    if len(walk.pending) >= _RUN:
                        checks.check_signatures(walk)
                        _check_copies(conn, copies, seq, amounts_differ, findings)
                    continue
            if rows == 1:
                out.first = (seq, rec[checks.PREV], rec[HASH], rec[TS])
            checks.check_record(walk, rec)
            signed = _read(walk, rec)
            if signed is None:
                findings.append((seq, "format", say.illegible(checks.name_of(rec))))
                walk.advance(rec)
                continue
            body, vat, pays, total, problem, figures = signed
            copies.add(seq, vat, pays)
            if bool(rec[IS_SALE]) != (rtype in _SALE_VALUES) or total != rec[TOTAL]:
                amounts_differ.add(seq)
                findings.append((seq, "copy", f"{checks.name_of(rec)} : {_AMOUNTS_DIFFER}"))
            checks.check_numbering(walk, rec)
            if rtype == _TICKET:
                if problem:
                    findings.append((seq, "ticket", f"{checks.name_of(rec)} : {problem}"))
                else:
                    running.add(figures)
            elif rtype in _CLOSURE_VALUES:
                cut = running.as_plain()
                out.closures.append((seq, rtype, body, rec[checks.PREV], rec[HASH], cut))
                running = RunningTotals()
            walk.advance(rec)
            if len(walk.pending) >= _RUN:
                checks.check_signatures(walk)
                _check_copies(conn, copies, seq, amounts_differ, findings)
        checks.check_signatures(walk)
        _check_copies(conn, copies, hi, amounts_differ, findings)
        out.rows = rows
        if walk.prev_seq is not None:
            out.last = (walk.prev_seq, walk.prev_hash or "", walk.prev_ts or "")
        out.tail = running.as_plain()
    finally:
        conn.close()
    return out


def _check_copies(
    conn: Reader, copies: _Copies, hi: int, amounts_differ: set[int], findings: list[Any]
) -> None:
    for seq in copies.differing(conn, hi):
        if seq not in amounts_differ:
            findings.append((seq, "copy", f"{_name(conn, seq)} : {_AMOUNTS_DIFFER}"))


def _read(walk: Walk, rec: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The signed content of a record with its envelope checked: (body, VAT rows, payment
    rows, total, the ticket's problem, the ticket's figures); None when illegible. A
    well-formed ticket takes the typed fast path and has no body (no check needs it)."""
    rtype = rec[TYPE]
    fast = read_ticket(rec[CANONICAL]) if rtype == _TICKET else None
    if fast is not None:
        envelope, figures = fast
        checks.check_signature(walk, rec, envelope.key, {})
        if copies_of(envelope) != _copied(rec):
            walk.fail(rec[SEQ], "copy", f"{checks.name_of(rec)} : {_COLUMNS_DIFFER}")
        checks.check_ledger(walk, rec, envelope.ledger)
        checks.check_time(walk, rec)
        problem = figures_problem(figures, typed=True)
        return None, figures[2], figures[3], figures[0], problem, figures
    try:
        decoded = json.loads(rec[CANONICAL])
        body = decoded["body"]
    except (ValueError, KeyError, TypeError):
        return None
    checks.check_signature(walk, rec, decoded.get("key"), body)
    checks.check_copies(walk, rec, decoded, _COLUMNS_DIFFER)
    checks.check_ledger(walk, rec, decoded.get("ledger"))
    checks.check_time(walk, rec)
    try:
        vat, pays, total = derived_rows(rtype, body)
    except (KeyError, TypeError, ValueError):
        vat, pays, total = [], [], "?"
    if rtype != _TICKET:
        return body, vat, pays, total, None, None
    problem = ticket_problem(body)
    return body, vat, pays, total, problem, None if problem else ticket_figures(body)


def _name(conn: Reader, seq: int) -> str:
    row = conn.execute("SELECT record_type, number FROM journal WHERE seq = ?", (seq,)).fetchone()
    return say.record_name(seq, *row) if row else say.record_name(seq, None, None)
