"""Verification of a whole ledger: the check anyone can run with the public key alone.

Every record is re-hashed, its signature checked against the key the chain itself
introduced, its numbering and timestamps checked, its query copies compared with its
canonical bytes, and every closure's totals recomputed from the records it covers.
Large ledgers are cut into chunks checked in parallel by worker processes; the chunks'
results are then stitched together in order.

The records are read without SQLAlchemy, which would cost more than the checks: with
``sqlite3`` on a read-only connection to the file, or with ``psycopg`` on a read-only
session when the ledger is a PostgreSQL database (each worker opens its own connection
from the URL). A verification of a ledger that is being written checks what was
committed when it started: records are never changed, so the chunks agree.
"""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import os
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from app.ledger.anchor import read_anchor
from app.ledger.chain import GENESIS_PREV_HASH, load_public_der
from app.ledger.db import CONNECT_TIMEOUT_S, is_url, libpq_url, resolve_target, unreachable
from app.ledger.journal import derived_rows, document_number
from app.ledger.models import RECORD_LABELS, SALE_TYPES, RecordType
from app.ledger.purged import NOTHING_PURGED, PURGE_MARKER, Purged, purge_events_sql, read_purges

CHUNK = 20_000
_ALGO = ec.ECDSA(utils.Prehashed(hashes.SHA256()))
_SALE_TYPE_VALUES = {t.value for t in SALE_TYPES}
_CLOSURE_VALUES = {
    RecordType.DAY_CLOSURE.value,
    RecordType.MONTH_CLOSURE.value,
    RecordType.YEAR_CLOSURE.value,
}


@dataclass(frozen=True)
class Finding:
    """One problem found, about one record (seq) when it can be named."""

    seq: int | None
    rule: str
    message: str


@dataclass
class Report:
    records: int = 0
    closures: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS_PREV_HASH
    keys: int = 0
    findings: list[Finding] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.findings and not self.cancelled

    @property
    def first_problem(self) -> Finding | None:
        return min(self.findings, key=lambda f: f.seq or 0) if self.findings else None

    def summary(self) -> str:
        if self.cancelled:
            return "Vérification interrompue avant la fin."
        if self.ok:
            return (
                f"Journal intègre : {_n(self.records)} enregistrements vérifiés "
                f"(empreintes, signatures, numérotation, {_n(self.closures)} clôtures) ; "
                f"dernière empreinte {self.last_hash[:16]}…"
            )
        first = self.first_problem
        assert first is not None
        more = len(self.findings) - 1
        tail = f" ({_n(more)} autre(s) anomalie(s))" if more else ""
        return f"Journal NON intègre : {first.message}{tail}"


def _n(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def record_name(seq: int, rtype: str | None, number: int | None) -> str:
    if rtype in RECORD_LABELS and number is not None:
        label = RECORD_LABELS[RecordType(rtype)]
        return f"l'enregistrement n°{seq} ({label} {document_number(rtype, number)})"
    return f"l'enregistrement n°{seq}"


# -- per-chunk work (runs in worker processes) -------------------------------------------
_JOURNAL_COLUMNS = (
    "seq, record_type, number, ts, business_date, till, operator, is_sale, ref_seq, period, "
    "total_cents, key_id, canonical_version, canonical, prev_hash, hash, signature"
)


class _Rows(Protocol):
    def __iter__(self) -> Iterator[tuple[Any, ...]]: ...
    def fetchone(self) -> tuple[Any, ...] | None: ...


class _Reader(Protocol):
    """What the checks need of a connection: sqlite3's ``execute`` with ``?`` marks."""

    def execute(self, sql: str, params: tuple[Any, ...] = ..., /) -> _Rows: ...
    def close(self) -> None: ...


class _PostgresReader:
    """A read-only psycopg connection that takes the ``?`` marks of the queries here."""

    def __init__(self, url: str) -> None:
        import psycopg

        try:
            self._conn = psycopg.connect(
                libpq_url(url),
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_S,
                options="-c default_transaction_read_only=on",
            )
        except psycopg.OperationalError as exc:
            raise unreachable(url, exc) from exc

    def execute(self, sql: str, params: tuple[Any, ...] = (), /) -> _Rows:
        return self._conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]

    def close(self) -> None:
        self._conn.close()


def _read_errors(conn: _Reader) -> tuple[type[Exception], ...]:
    if isinstance(conn, _PostgresReader):
        import psycopg

        return (psycopg.Error,)
    return (sqlite3.Error,)


def _connect(target: str) -> _Reader:
    """A reading connection: ``target`` is the resolved path of a SQLite file or a
    PostgreSQL URL."""
    if is_url(target):
        return _PostgresReader(target)
    return sqlite3.connect(f"file:{target}?mode=ro", uri=True)


@dataclass
class RunningTotals:
    """Ticket turnover summed as records are read, to be compared with a closure
    (also by archive verification, which must judge closures the same way)."""

    tickets: int = 0
    refunds: int = 0
    abs_total: int = 0
    vat: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    payments: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add_ticket(self, body: dict[str, Any]) -> None:
        self.tickets += 1
        total = body["total"]
        self.refunds += total < 0
        self.abs_total += abs(total)
        for v in body["vat"]:
            acc = self.vat[v["rate"]]
            acc[0] += v["base"]
            acc[1] += v["vat"]
            acc[2] += v["total"]
        for p in body["payments"]:
            self.payments[p["method"]] += p["amount"]

    def merge(self, other: RunningTotals) -> None:
        self.tickets += other.tickets
        self.refunds += other.refunds
        self.abs_total += other.abs_total
        for rate, (b, v, t) in other.vat.items():
            acc = self.vat[rate]
            acc[0] += b
            acc[1] += v
            acc[2] += t
        for method, amount in other.payments.items():
            self.payments[method] += amount

    def as_plain(self) -> tuple[Any, ...]:
        return (
            self.tickets,
            self.refunds,
            self.abs_total,
            {r: list(v) for r, v in self.vat.items()},
            dict(self.payments),
        )

    @classmethod
    def from_plain(cls, plain: tuple[Any, ...]) -> RunningTotals:
        totals = cls()
        totals.tickets, totals.refunds, totals.abs_total = plain[0], plain[1], plain[2]
        for rate, values in plain[3].items():
            totals.vat[rate] = list(values)
        for method, amount in plain[4].items():
            totals.payments[method] = amount
        return totals


@dataclass
class _Chunk:
    lo: int
    hi: int
    rows: int = 0
    first_seq: int | None = None
    first_prev: str | None = None
    first_hash: str | None = None
    first_ts: str | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    last_ts: str | None = None
    findings: list[tuple[int | None, str, str]] = field(default_factory=list)
    numbers: dict[str, list[int]] = field(default_factory=dict)  # type -> [first, last, seq]
    # Pieces of ticket totals cut at each closure: ("closure", seq, type, body, prev_hash,
    # totals since the previous cut) and a final ("tail", totals).
    pieces: list[tuple[Any, ...]] = field(default_factory=list)


def _active_key(keys: list[tuple[int, str, bytes]], seq: int) -> str | None:
    active = None
    for introduced, key_id, _der in keys:
        if introduced < seq:
            active = key_id
        else:
            break
    return active


def scan_chunk(
    target: str,
    lo: int,
    hi: int,
    ledger_id: str,
    keys: list[tuple[int, str, bytes]],
    purged: Purged = NOTHING_PURGED,
) -> _Chunk:
    """Check records lo..hi (inclusive) on their own; return what must be stitched.
    ``purged``: what PURGE events excuse (gaps, links and numbers of archived years)."""
    public = {key_id: load_public_der(der) for _s, key_id, der in keys}
    introduced_at = {key_id: seq for seq, key_id, _der in keys}
    out = _Chunk(lo, hi)
    conn = _connect(target)
    try:
        vat_rows: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
        for seq, rate, base, vat, total in conn.execute(
            "SELECT seq, rate_bp, base_cents, vat_cents, total_cents FROM journal_vat "
            "WHERE seq BETWEEN ? AND ? ORDER BY seq, rate_bp DESC",
            (lo, hi),
        ):
            vat_rows[seq].append((rate, base, vat, total))
        pay_rows: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for seq, method, amount in conn.execute(
            "SELECT seq, method, amount_cents FROM journal_payment "
            "WHERE seq BETWEEN ? AND ? ORDER BY seq, idx",
            (lo, hi),
        ):
            pay_rows[seq].append((method, amount))
        cursor = conn.execute(
            f"SELECT {_JOURNAL_COLUMNS} FROM journal WHERE seq BETWEEN ? AND ? ORDER BY seq",
            (lo, hi),
        )
        running = RunningTotals()
        prev_seq: int | None = None
        prev_hash: str | None = None
        prev_ts: str | None = None
        findings = out.findings
        numbers = out.numbers
        sha256, fromhex, loads = hashlib.sha256, bytes.fromhex, json.loads
        ticket, key_type = RecordType.TICKET.value, RecordType.KEY.value
        for row in cursor:
            (
                seq,
                rtype,
                number,
                ts,
                bdate,
                till,
                operator,
                is_sale,
                ref_seq,
                period,
                total_cents,
                key_id,
                cversion,
                data,
                stored_prev,
                stored_hash,
                signature,
            ) = row
            out.rows += 1

            def name(seq: int = seq, rtype: str = rtype, number: int = number) -> str:
                return record_name(seq, rtype, number)

            if out.first_seq is None:
                out.first_seq, out.first_prev, out.first_ts = seq, stored_prev, ts
                out.first_hash = stored_hash
            elif seq != prev_seq + 1 and not purged.covers(prev_seq + 1, seq - 1):  # type: ignore[operator]
                findings.append(
                    (
                        seq,
                        "sequence",
                        (
                            f"la séquence passe de {prev_seq} à {seq} : "
                            f"{seq - prev_seq - 1} enregistrement(s) manquant(s)."
                        ),
                    )
                )  # type: ignore[operator]
            if (
                prev_hash is not None
                and stored_prev != prev_hash
                and not purged.bridged(prev_seq, seq, stored_hash)  # type: ignore[arg-type]
            ):
                findings.append(
                    (
                        seq,
                        "chain",
                        (
                            f"{name()} ne suit pas l'enregistrement précédent "
                            "(chaînage rompu : enregistrement supprimé, inséré ou déplacé)."
                        ),
                    )
                )
            if sha256(fromhex(stored_prev) + data).hexdigest() != stored_hash:
                findings.append(
                    (
                        seq,
                        "hash",
                        (
                            f"{name()} a été modifié : son empreinte ne correspond plus "
                            "à son contenu."
                        ),
                    )
                )
            try:
                envelope = loads(data)
                body = envelope["body"]
            except (ValueError, KeyError, TypeError):
                findings.append(
                    (seq, "format", f"{name()} est illisible (contenu canonique corrompu).")
                )
                prev_seq, prev_hash, prev_ts = seq, stored_hash, ts
                continue
            # Signature: by the key the chain says is active for this record.
            signer = envelope.get("key")
            if rtype == key_type:
                if seq == 1 or not body.get("endorsed"):
                    allowed = body.get("key_id")
                else:
                    allowed = _active_key(keys, seq)
            else:
                allowed = _active_key(keys, seq)
            key = public.get(signer)
            if signer != allowed or key is None or introduced_at.get(signer, seq + 1) > seq:
                findings.append(
                    (
                        seq,
                        "key",
                        (
                            f"{name()} est signé par une clé ({signer}) qui n'était pas la clé "
                            "en vigueur."
                        ),
                    )
                )
            else:
                try:
                    key.verify(signature, fromhex(stored_hash), _ALGO)
                except (InvalidSignature, ValueError):
                    findings.append((seq, "signature", f"{name()} porte une signature invalide."))
            # The envelope is the truth; the columns are copies and must agree.
            get = envelope.get
            if (
                get("seq"),
                get("type"),
                get("number"),
                get("ts"),
                get("date"),
                get("till"),
                get("operator"),
                get("ref"),
                get("period"),
                get("key"),
                get("v"),
            ) != (
                seq,
                rtype,
                number,
                ts,
                bdate,
                till,
                operator,
                ref_seq,
                period,
                key_id,
                cversion,
            ):
                findings.append(
                    (
                        seq,
                        "copy",
                        (
                            f"{name()} : les colonnes de la base ne correspondent pas au "
                            "contenu signé (modification directe de la base)."
                        ),
                    )
                )
            if get("ledger") != ledger_id:
                findings.append((seq, "ledger", f"{name()} appartient à un autre journal."))
            if prev_ts is not None and ts < prev_ts:
                findings.append(
                    (seq, "time", f"{name()} est daté avant l'enregistrement qui le précède.")
                )
            try:
                vat, pays, total = derived_rows(rtype, body)
            except (KeyError, TypeError, ValueError):
                vat, pays, total = [], [], "?"
            if (
                bool(is_sale) != (rtype in _SALE_TYPE_VALUES)
                or total != total_cents
                or (
                    vat != vat_rows.get(seq, [])
                    and sorted(vat, reverse=True) != vat_rows.get(seq, [])
                )
                or pays != pay_rows.get(seq, [])
            ):
                findings.append(
                    (
                        seq,
                        "copy",
                        (
                            f"{name()} : les montants de la base ne correspondent pas au "
                            "contenu signé (modification directe de la base)."
                        ),
                    )
                )
            nums = numbers.get(rtype)
            if nums is None:
                numbers[rtype] = [number, number, seq]
            else:
                if number != nums[1] + 1 and not (
                    number > nums[1] and purged.numbers_cover(rtype, nums[1] + 1, number - 1)
                ):
                    findings.append((seq, "numbering", numbering_message(rtype, nums[1], number)))
                nums[1] = number
            if purged and purged.number_purged(rtype, number):
                findings.append((seq, "numbering", reused_message(rtype, number)))
            if rtype == ticket:
                problem = ticket_problem(body)
                if problem:
                    findings.append((seq, "ticket", f"{name()} : {problem}"))
                else:
                    running.add_ticket(body)
            elif rtype in _CLOSURE_VALUES:
                out.pieces.append(("closure", seq, rtype, body, stored_prev, running.as_plain()))
                running = RunningTotals()
            prev_seq, prev_hash, prev_ts = seq, stored_hash, ts
        out.last_seq, out.last_hash, out.last_ts = prev_seq, prev_hash, prev_ts
        out.pieces.append(("tail", running.as_plain()))
    finally:
        conn.close()
    return out


def numbering_message(rtype: str, last: int, number: int) -> str:
    label = RECORD_LABELS[RecordType(rtype)] if rtype in RECORD_LABELS else rtype
    if number <= last:
        return f"numérotation des documents « {label} » : le n°{number} est en double."
    return (
        f"numérotation des documents « {label} » : après le n°{last} vient le n°{number} "
        f"({number - last - 1} numéro(s) manquant(s))."
    )


def reused_message(rtype: str, number: int) -> str:
    label = RECORD_LABELS[RecordType(rtype)] if rtype in RECORD_LABELS else rtype
    return (
        f"numérotation des documents « {label} » : le n°{number} avait déjà été attribué à "
        "un document purgé."
    )


def ticket_problem(body: dict[str, Any]) -> str | None:
    try:
        total = body["total"]
        if sum(line["total"] for line in body["lines"]) != total:
            return "la somme des lignes ne correspond pas au total."
        if sum(v["total"] for v in body["vat"]) != total:
            return "la ventilation de TVA ne correspond pas au total."
        if any(v["base"] + v["vat"] != v["total"] for v in body["vat"]):
            return "une ligne de TVA est incohérente (HT + TVA ≠ TTC)."
        if sum(p["amount"] for p in body["payments"]) != total:
            return "les règlements ne correspondent pas au total."
        # Totals are summed per rate and per method: keys of the wrong type would make
        # those sums fail (or mislead) instead of being reported.
        if any(type(v["rate"]) is not int for v in body["vat"]) or any(
            type(p["method"]) is not str for p in body["payments"]
        ):
            return "le contenu du ticket est mal formé (taux ou moyen de paiement)."
    except (KeyError, TypeError):
        return "le contenu du ticket est incomplet."
    return None


# -- stitching ----------------------------------------------------------------------------
def _keys_of(
    conn: _Reader,
) -> tuple[list[tuple[int, str, bytes]], list[Finding]]:
    keys: list[tuple[int, str, bytes]] = []
    unendorsed: list[Finding] = []
    for seq, data in conn.execute(
        "SELECT seq, canonical FROM journal WHERE record_type = 'KEY' ORDER BY seq"
    ):
        try:
            body = json.loads(data)["body"]
            der = base64.b64decode(body["public_key"])
            load_public_der(der)
        except (ValueError, KeyError, TypeError):
            continue  # the chunk scan reports the record as corrupted
        keys.append((seq, body["key_id"], der))
        if seq > 1 and not body.get("endorsed"):
            unendorsed.append(
                Finding(
                    seq,
                    "key_unendorsed",
                    f"changement de clé de signature non endossé par la clé précédente à "
                    f"l'enregistrement n°{seq} (motif : {body.get('reason', '?')}) : les "
                    "enregistrements suivants ne sont plus garantis par la clé d'origine.",
                )
            )
    return keys, unendorsed


def _ledger_id(conn: _Reader) -> str | None:
    row = conn.execute("SELECT ledger_id FROM ledger_meta").fetchone()
    return row[0] if row else None


def _chunks(lo: int, hi: int, size: int) -> Iterator[tuple[int, int]]:
    start = lo
    while start <= hi:
        yield start, min(hi, start + size - 1)
        start += size


class _Stitcher:
    """Joins chunk results in order and checks what spans chunks: links, numbering,
    closures and the perpetual grand total."""

    def __init__(self, report: Report, purged: Purged = NOTHING_PURGED) -> None:
        self.report = report
        self.purged = purged
        self.by_archive = 0  # day closures whose tickets were purged
        self.prev_seq = 0
        self.prev_hash = GENESIS_PREV_HASH
        self.prev_ts = ""
        self.numbers: dict[str, int] = {}
        self.since_day = RunningTotals()
        self.last: dict[str, tuple[int, dict[str, Any]]] = {}  # closure type -> (seq, body)
        self.parts: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        self.hashes: dict[int, str] = {}

    def add(self, chunk: _Chunk) -> None:
        report = self.report
        report.findings.extend(Finding(*f) for f in chunk.findings)
        report.records += chunk.rows
        if chunk.first_seq is None:
            return
        purged = self.purged
        gap = chunk.first_seq != self.prev_seq + 1
        if gap and not purged.covers(self.prev_seq + 1, chunk.first_seq - 1):
            report.findings.append(
                Finding(
                    chunk.first_seq,
                    "sequence",
                    f"la séquence passe de {self.prev_seq} à {chunk.first_seq} : "
                    f"{chunk.first_seq - self.prev_seq - 1} enregistrement(s) manquant(s).",
                )
            )
        if chunk.first_prev != self.prev_hash and not (
            gap and purged.bridged(self.prev_seq, chunk.first_seq, chunk.first_hash or "")
        ):
            report.findings.append(
                Finding(
                    chunk.first_seq,
                    "chain",
                    f"l'enregistrement n°{chunk.first_seq} ne suit pas l'enregistrement précédent "
                    "(chaînage rompu : enregistrement supprimé, inséré ou déplacé).",
                )
            )
        if chunk.first_ts is not None and chunk.first_ts < self.prev_ts:
            report.findings.append(
                Finding(
                    chunk.first_seq,
                    "time",
                    f"l'enregistrement n°{chunk.first_seq} est daté avant celui qui le précède.",
                )
            )
        for rtype, (first, last, first_seq) in chunk.numbers.items():
            expected = self.numbers.get(rtype, 0) + 1
            if first != expected and not (
                first > expected and purged.numbers_cover(rtype, expected, first - 1)
            ):
                report.findings.append(
                    Finding(first_seq, "numbering", numbering_message(rtype, expected - 1, first))
                )
            self.numbers[rtype] = last
        for piece in chunk.pieces:
            if piece[0] == "tail":
                self.since_day.merge(RunningTotals.from_plain(piece[1]))
                continue
            _kind, seq, rtype, body, prev_hash, plain = piece
            self.since_day.merge(RunningTotals.from_plain(plain))
            self._closure(seq, rtype, body, prev_hash)
        self.prev_seq = chunk.last_seq or self.prev_seq
        self.prev_hash = chunk.last_hash or self.prev_hash
        self.prev_ts = chunk.last_ts or self.prev_ts

    def _closure(self, seq: int, rtype: str, body: dict[str, Any], prev_hash: str) -> None:
        report = self.report
        report.closures += 1
        label = RECORD_LABELS[RecordType(rtype)].lower()
        name = f"la {label} du {body.get('period', '?')} (enregistrement n°{seq})"

        def fail(message: str) -> None:
            report.findings.append(Finding(seq, "closure", f"{name} : {message}"))

        try:
            previous = self.last.get(rtype)
            expected_first = previous[0] + 1 if previous else 1
            if body["first_seq"] != expected_first or body["last_seq"] != seq - 1:
                fail("la plage d'enregistrements couverte est incorrecte.")
            if body["last_hash"] != prev_hash:
                fail("l'empreinte du dernier enregistrement couvert est incorrecte.")
            computed: RunningTotals | None
            if rtype == RecordType.DAY_CLOSURE.value:
                computed = self.since_day
                self.since_day = RunningTotals()
                if self.purged.intersects(body["first_seq"], body["last_seq"]):
                    # Its tickets were purged: the archive recomputed it; here its hash,
                    # signature, range and perpetual totals are still checked.
                    computed = None
                    self.by_archive += 1
            else:
                part_type = (
                    RecordType.DAY_CLOSURE
                    if rtype == RecordType.MONTH_CLOSURE.value
                    else RecordType.MONTH_CLOSURE
                ).value
                parts = self.parts.pop(part_type, [])
                listed = [(p["seq"], p["period"]) for p in body["parts"]]
                if listed != [(s, b["period"]) for s, b in parts]:
                    fail("la liste des clôtures regroupées est incorrecte.")
                computed = RunningTotals()
                for _s, part in parts:
                    computed.merge(totals_of_body(part))
            problem = compare_totals(body, computed) if computed is not None else None
            if problem:
                fail(problem)
            before = previous[1] if previous else {"perpetual_total": 0, "perpetual_abs_total": 0}
            if body["grand_total"] != body["total"]:
                fail("le grand total de la période ne correspond pas au total.")
            if body["perpetual_total"] != before["perpetual_total"] + body["total"] or (
                body["perpetual_abs_total"] != before["perpetual_abs_total"] + body["abs_total"]
            ):
                fail("le grand total perpétuel ne prolonge pas celui de la clôture précédente.")
        except (KeyError, TypeError):
            fail("le contenu de la clôture est incomplet.")
        self.last[rtype] = (seq, body)
        self.parts[rtype].append((seq, body))


def totals_of_body(body: dict[str, Any]) -> RunningTotals:
    totals = RunningTotals()
    totals.tickets, totals.refunds, totals.abs_total = (
        body["tickets"],
        body["refunds"],
        body["abs_total"],
    )
    for v in body["vat"]:
        totals.vat[v["rate"]] = [v["base"], v["vat"], v["total"]]
    for p in body["payments"]:
        totals.payments[p["method"]] += p["amount"]
    return totals


def _fmt(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}{_n(euros)},{rest:02d} €"


def compare_totals(body: dict[str, Any], computed: RunningTotals) -> str | None:
    if body["tickets"] != computed.tickets:
        return (
            f"{body['tickets']} tickets enregistrés dans la clôture, "
            f"{computed.tickets} retrouvés dans le journal."
        )
    recorded = {v["rate"]: [v["base"], v["vat"], v["total"]] for v in body["vat"]}
    # A rate sold and refunded within the period nets to zero: the closure keeps its row,
    # the recomputation may not; both mean the same, so zero rows are left out of both.
    if {r: v for r, v in recorded.items() if any(v)} != {
        r: v for r, v in computed.vat.items() if any(v)
    }:
        actual = computed.vat
        total = sum(v[2] for v in actual.values())
        return (
            f"total TTC enregistré {_fmt(body['total'])}, recalculé {_fmt(total)} "
            "(ventilation par taux de TVA différente)."
        )
    if (
        sum(v[2] for v in recorded.values()) != body["total"]
        or body["total_vat"] != sum(v[1] for v in recorded.values())
        or body["total_excl"] != sum(v[0] for v in recorded.values())
    ):
        return "les totaux HT, TVA et TTC ne correspondent pas à la ventilation par taux."
    paid = {p["method"]: p["amount"] for p in body["payments"]}
    if paid != {m: a for m, a in computed.payments.items() if a or m in paid}:
        return "les totaux par moyen de paiement ne correspondent pas aux tickets."
    if body["refunds"] != computed.refunds or body["abs_total"] != computed.abs_total:
        return "les compteurs d'annulations ne correspondent pas aux tickets."
    return None


# -- entry point --------------------------------------------------------------------------
Progress = Callable[[int, int], None]


def verify_ledger(
    target: Path | str,
    *,
    workers: int | None = None,
    chunk_size: int = CHUNK,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Report:
    """Verify the ledger at ``target`` (a SQLite file's path or a PostgreSQL URL, as
    ``Ledger.target``); never writes to it."""
    resolved = resolve_target(target)
    path = str(resolved.resolve()) if isinstance(resolved, Path) else resolved
    report = Report()
    conn = _connect(path)
    try:
        ledger_id = _ledger_id(conn)
        lo, hi = conn.execute("SELECT MIN(seq), MAX(seq) FROM journal").fetchone()
        keys, unendorsed = _keys_of(conn)
        purged = _purges_of(conn)
    except _read_errors(conn):  # not a ledger: no such tables
        ledger_id, lo, hi, keys, unendorsed = None, None, None, [], []
        purged = NOTHING_PURGED
    finally:
        conn.close()
    report.keys = len(keys)
    # A key the previous key did not vouch for could be anyone's: a finding, not a remark.
    report.findings.extend(unendorsed)
    if ledger_id is None or lo is None:
        report.findings.append(Finding(None, "empty", "le journal est vide ou illisible."))
        return report
    stitcher = _Stitcher(report, purged)
    ranges = list(_chunks(lo, hi, chunk_size))
    total = hi - lo + 1
    workers = workers if workers is not None else min(len(ranges), os.cpu_count() or 1)
    for done, chunk in enumerate(_run(path, ranges, ledger_id, keys, workers, purged)):
        if cancelled is not None and cancelled():
            report.cancelled = True
            break
        stitcher.add(chunk)
        if progress is not None:
            progress(min(total, (done + 1) * chunk_size), total)
    report.last_seq = stitcher.prev_seq
    report.last_hash = stitcher.prev_hash
    if not report.cancelled:
        _check_anchor(path, ledger_id, report)
        report.notices.extend(_purge_notices(purged, stitcher.by_archive))
    report.findings.sort(key=lambda f: f.seq or 0)
    return report


def _purges_of(conn: _Reader) -> Purged:
    dialect = "postgresql" if isinstance(conn, _PostgresReader) else "sqlite"
    return read_purges(conn.execute(purge_events_sql(dialect), (PURGE_MARKER,)))


def _purge_notices(purged: Purged, by_archive: int) -> list[str]:
    """What a reader of the verdict must know about archived years no longer online."""
    notices = [
        f"Exercice {note.year} purgé (enregistrement n°{note.seq}) : {_n(note.records)} "
        f"enregistrements retirés du journal, conservés dans l'archive {note.archive_file} "
        "(vérifiez-la avec « comptoir archive verify »)."
        for note in purged.notes
    ]
    if by_archive == 1:
        notices.append(
            "1 clôture vérifiée par son archive : ses tickets ont été purgés ; son empreinte, "
            "sa signature et ses grands totaux perpétuels sont vérifiés ici."
        )
    elif by_archive:
        notices.append(
            f"{_n(by_archive)} clôtures vérifiées par leur archive : leurs tickets ont été "
            "purgés ; leurs empreintes, signatures et grands totaux perpétuels sont vérifiés ici."
        )
    return notices


def _check_anchor(path: str, ledger_id: str, report: Report) -> None:
    anchor = read_anchor(ledger_id)
    if anchor is None:
        return
    conn = _connect(path)
    try:
        row = conn.execute("SELECT hash FROM journal WHERE seq = ?", (anchor.seq,)).fetchone()
    finally:
        conn.close()
    if row is None:
        report.findings.append(
            Finding(
                anchor.seq,
                "anchor",
                (
                    f"le journal s'arrête au n°{report.last_seq} alors que la clôture "
                    f"n°{anchor.seq} du {anchor.ts[:10]} y figurait : "
                    "des enregistrements ont été supprimés."
                ),
            )
        )
    elif row[0] != anchor.hash:
        report.findings.append(
            Finding(
                anchor.seq,
                "anchor",
                (
                    f"l'enregistrement n°{anchor.seq} n'est plus la clôture connue de ce poste : "
                    "le journal a été remplacé ou réécrit."
                ),
            )
        )


def _run(
    path: str,
    ranges: list[tuple[int, int]],
    ledger_id: str,
    keys: list[tuple[int, str, bytes]],
    workers: int,
    purged: Purged = NOTHING_PURGED,
) -> Iterator[_Chunk]:
    if workers <= 1 or len(ranges) == 1:
        for lo, hi in ranges:
            yield scan_chunk(path, lo, hi, ledger_id, keys, purged)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        window: list[Future[_Chunk]] = []
        pending = iter(ranges)
        try:
            for lo, hi in pending:
                window.append(pool.submit(scan_chunk, path, lo, hi, ledger_id, keys, purged))
                if len(window) >= workers * 2:
                    yield window.pop(0).result()
            while window:
                yield window.pop(0).result()
        finally:
            for future in window:
                future.cancel()
