"""Browsing a ledger read-only: filters, a compact index of the matching records, and
rows fetched only when they are shown.

The viewer must stay smooth over a million records, so nothing here loads the journal
into memory. A filter becomes a list of sequence numbers (8 bytes a record, in an
``array('q')``); the rows on screen are read by sequence number, a block at a time, and
a few blocks are kept. With no filter, or a filter on dates alone, the index is a plain
``range`` and no query runs at all: the chain is gapless and its business dates never go
back (timestamps never do, and the time zone belongs to the ledger), so a date range is
a range of sequence numbers, found by bisection.

Plain sqlite3 on a read-only URI connection: the file is never written, and an archive
loaded as a ledger file (``archive.load_archive_as_ledger``) is browsed the same way.
A ``LedgerBrowser`` belongs to the thread that made it; ``find_seqs`` opens its own
connection so that a filter can run on a worker thread while the screen scrolls.
"""

from __future__ import annotations

import heapq
import re
import sqlite3
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from app.errors import ComptoirError
from app.ledger import canonical, chain
from app.ledger.db import require_file
from app.ledger.events import EventCode
from app.ledger.journal import document_number, signature_excerpt
from app.ledger.models import CLOSURE_TYPES, RecordType
from app.values.money import format_cents

BLOCK = 128
CACHE_BLOCKS = 48
FETCH = 50_000
PROGRESS_STEPS = 20_000  # SQLite instructions between two looks at the cancel flag
SHORT_HASH = 12

Cancelled = Callable[[], bool]

TYPE_GROUPS: dict[str, frozenset[RecordType]] = {
    "Clôtures Z": frozenset(CLOSURE_TYPES),
    "Tickets": frozenset({RecordType.TICKET}),
    "Factures et avoirs": frozenset({RecordType.INVOICE, RecordType.CREDIT_NOTE}),
    "Règlements": frozenset({RecordType.PAYMENT}),
    "Événements techniques": frozenset({RecordType.EVENT}),
    "Clés, paramètres, duplicatas, archives": frozenset(
        {RecordType.KEY, RecordType.SETTINGS, RecordType.REPRINT, RecordType.ARCHIVE}
    ),
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

_INVOICES = "('INVOICE', 'CREDIT_NOTE')"
_CLOSURES = "(" + ", ".join(f"'{t.value}'" for t in CLOSURE_TYPES) + ")"
_TEXT = "CAST(canonical AS TEXT)"
# Closures keep their total in the body only; sale records also have it as a column.
_AMOUNT = (
    f"COALESCE(total_cents, CASE WHEN record_type IN {_CLOSURES} "
    f"THEN json_extract({_TEXT}, '$.body.total') END)"
)
_ROW_COLUMNS = (
    f"seq, record_type, number, ts, till, operator, {_AMOUNT}, "
    f"CASE WHEN record_type IN {_INVOICES} THEN json_extract({_TEXT}, '$.body.buyer.name') END, "
    f"CASE WHEN record_type IN {_INVOICES} THEN json_extract({_TEXT}, '$.body.number') "
    f"WHEN record_type = 'EVENT' THEN json_extract({_TEXT}, '$.body.code') "
    f"WHEN record_type = 'TICKET' THEN json_extract({_TEXT}, '$.body.kind') END, "
    "hash"
)
_DOC_NUMBER = re.compile(r"(ZJ|ZM|ZA|AV|[KEPTFRDA])0*(\d{1,12})")
_HEX = re.compile(r"[0-9a-f]{8,64}")
_TICKET_KINDS = {"cancellation": "Ticket d'annulation", "refund": "Ticket de remboursement"}


class SearchCancelled(Exception):
    """The caller gave up on a search (a newer filter replaced it, or the screen closed)."""


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


def _missing_row(seq: int) -> RecordRow:
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


def connect(path: Path | str) -> sqlite3.Connection:
    """A read-only connection; the URI form keeps odd characters of the path harmless."""
    path = Path(path).resolve()
    if not path.is_file():
        raise ComptoirError(f"Aucun journal à l'emplacement {path}.")
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        conn.execute("PRAGMA query_only = 1")
    except sqlite3.Error as exc:
        raise ComptoirError(
            f"Le fichier {path.name} ne peut pas être lu.", detail=str(exc)
        ) from exc
    return conn


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


def _row(values: tuple[Any, ...], timezone: str) -> RecordRow:
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


# -- the filter as SQL -------------------------------------------------------------------
def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text_condition(text: str) -> tuple[str, list[Any]]:
    """Anywhere in the canonical JSON (SQLite folds ASCII case only, so the lower and upper
    case spellings are tried too), or a document number, or the start of a hash."""
    spellings = list(dict.fromkeys((text, text.lower(), text.upper())))
    parts = [f"{_TEXT} LIKE ? ESCAPE '\\'" for _ in spellings]
    params: list[Any] = [_like(s) for s in spellings]
    number = _DOC_NUMBER.fullmatch(text.upper())
    if number:
        prefix = {t.prefix: t.value for t in RecordType}[number.group(1)]
        parts.append("(record_type = ? AND number = ?)")
        params += [prefix, int(number.group(2))]
    if _HEX.fullmatch(text.lower()):
        parts.append("hash LIKE ?")
        params.append(text.lower() + "%")
    return "(" + " OR ".join(parts) + ")", params


def _conditions(flt: RecordFilter) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if flt.operator.strip():
        where.append("operator = ?")
        params.append(flt.operator.strip())
    if flt.min_cents is not None:
        where.append(f"{_AMOUNT} >= ?")
        params.append(flt.min_cents)
    if flt.max_cents is not None:
        where.append(f"{_AMOUNT} <= ?")
        params.append(flt.max_cents)
    if flt.customer.strip():
        pattern = _like(flt.customer.strip())
        where.append(
            f"(record_type IN {_INVOICES} AND ("
            f"json_extract({_TEXT}, '$.body.buyer.name') LIKE ? ESCAPE '\\' OR "
            f"json_extract({_TEXT}, '$.body.buyer.siren') LIKE ? ESCAPE '\\'))"
        )
        params += [pattern, pattern]
    if flt.text.strip():
        sql, more = _text_condition(flt.text.strip())
        where.append(sql)
        params += more
    return where, params


# -- building an index ---------------------------------------------------------------------
def _bounds(conn: sqlite3.Connection) -> tuple[int, int]:
    lo, hi = conn.execute("SELECT MIN(seq), MAX(seq) FROM journal").fetchone()
    return (1, 0) if lo is None else (lo, hi)


def _date_at_or_after(conn: sqlite3.Connection, seq: int) -> tuple[int, str] | None:
    return conn.execute(
        "SELECT seq, business_date FROM journal WHERE seq >= ? ORDER BY seq LIMIT 1", (seq,)
    ).fetchone()


def first_seq_on_or_after(conn: sqlite3.Connection, day: date, lo: int, hi: int) -> int:
    """The first sequence number in [lo, hi] whose business day is ``day`` or later
    (``hi + 1`` when none is): a bisection, since business days follow the chain."""
    wanted = day.isoformat()
    while lo <= hi:
        mid = (lo + hi) // 2
        found = _date_at_or_after(conn, mid)
        if found is None or found[0] > hi:
            hi = mid - 1
        elif found[1] < wanted:
            lo = found[0] + 1
        else:
            hi = mid - 1
    return lo


def _guard(conn: sqlite3.Connection, cancelled: Cancelled | None) -> None:
    if cancelled is None:
        conn.set_progress_handler(None, 0)
    else:
        conn.set_progress_handler(lambda: 1 if cancelled() else 0, PROGRESS_STEPS)


def _stream(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any], cancelled: Cancelled | None
) -> array:
    out = array("q")
    _guard(conn, cancelled)
    try:
        cursor = conn.execute(sql, params)
        while batch := cursor.fetchmany(FETCH):
            out.extend(row[0] for row in batch)
            if cancelled is not None and cancelled():
                raise SearchCancelled
        if cancelled is not None and cancelled():  # a newer search wants the result dropped
            raise SearchCancelled
    except sqlite3.OperationalError as exc:
        if cancelled is not None and cancelled():
            raise SearchCancelled from exc
        raise
    finally:
        conn.set_progress_handler(None, 0)
    return out


def _is_sorted(seqs: array) -> bool:
    return all(a < b for a, b in pairwise(seqs))


def _by_type(
    conn: sqlite3.Connection,
    types: frozenset[RecordType],
    lo: int,
    hi: int,
    cancelled: Cancelled | None,
) -> array:
    """Types alone: each type read in number order from the (type, number) index, which
    is its chain order since numbering is gapless and chronological; then merged."""
    runs = []
    for rtype in sorted(types):
        run = _stream(
            conn,
            "SELECT seq FROM journal WHERE record_type = ? AND seq BETWEEN ? AND ? ORDER BY number",
            (rtype.value, lo, hi),
            cancelled,
        )
        if not _is_sorted(run):  # a damaged file: correct, if slower
            run = array("q", sorted(run))
        runs.append(run)
    if len(runs) == 1:
        return runs[0]
    return array("q", heapq.merge(*runs))


def _select(
    conn: sqlite3.Connection, flt: RecordFilter, cancelled: Cancelled | None
) -> Sequence[int]:
    lo, hi = _bounds(conn)
    if flt.date_from is not None:
        lo = first_seq_on_or_after(conn, flt.date_from, lo, hi)
    if flt.date_to is not None:
        hi = first_seq_on_or_after(conn, flt.date_to + timedelta(days=1), lo, hi) - 1
    if lo > hi:
        return range(0)
    if not flt.needs_scan:
        return range(lo, hi + 1) if not flt.types else _by_type(conn, flt.types, lo, hi, cancelled)
    where, params = _conditions(flt)
    if flt.types:
        where.insert(0, f"record_type IN ({', '.join('?' * len(flt.types))})")
        params = [t.value for t in sorted(flt.types)] + params
    conditions = " AND ".join(where)
    sql = f"SELECT seq FROM journal WHERE seq BETWEEN ? AND ? AND {conditions} ORDER BY seq"
    return _stream(conn, sql, [lo, hi, *params], cancelled)


def find_seqs(
    path: Path | str, flt: RecordFilter, cancelled: Cancelled | None = None
) -> Sequence[int]:
    """The sequence numbers matching ``flt``, in chain order, on a connection of its own
    (for a worker thread). Raises SearchCancelled when ``cancelled()`` turns true."""
    conn = connect(path)
    try:
        return _select(conn, flt, cancelled)
    finally:
        conn.close()


# -- the browser and its index ---------------------------------------------------------------
FILE_ONLY = (
    "Le visualiseur et les exports CSV et XLSX lisent le fichier SQLite du journal : ils ne "
    "sont pas disponibles pour un journal sur un serveur PostgreSQL."
)


class LedgerBrowser:
    """A read-only view of one ledger file, used from the thread that opened it."""

    def __init__(self, path: Path | str) -> None:
        self.path = require_file(path, FILE_ONLY)
        self.conn = connect(self.path)
        try:
            meta = self.conn.execute("SELECT ledger_id, kind, timezone FROM ledger_meta").fetchone()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise ComptoirError(
                f"Le fichier {self.path.name} n'est pas un journal Comptoir.", detail=str(exc)
            ) from exc
        if meta is None:
            self.conn.close()
            raise ComptoirError(f"Le fichier {self.path.name} n'est pas un journal Comptoir.")
        self.ledger_id, self.kind, self.timezone = meta
        self._keys: dict[str, Any] = {}

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> LedgerBrowser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def bounds(self) -> tuple[int, int]:
        """First and last sequence numbers (1, 0 when the journal is empty)."""
        return _bounds(self.conn)

    def index(self, flt: RecordFilter, cancelled: Cancelled | None = None) -> RecordIndex:
        return RecordIndex(self, _select(self.conn, flt, cancelled), flt)

    def index_of(self, seqs: Sequence[int], flt: RecordFilter) -> RecordIndex:
        """An index over sequence numbers found elsewhere (``find_seqs`` on a worker)."""
        return RecordIndex(self, seqs, flt)

    def rows_for(self, seqs: Sequence[int]) -> list[RecordRow]:
        """The rows of these records, in the order given."""
        if not seqs:
            return []
        if isinstance(seqs, range) and seqs.step == 1:
            found = self.conn.execute(
                f"SELECT {_ROW_COLUMNS} FROM journal WHERE seq BETWEEN ? AND ?",
                (seqs.start, seqs.stop - 1),
            ).fetchall()
        else:
            found = []
            wanted = list(seqs)
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                found += self.conn.execute(
                    f"SELECT {_ROW_COLUMNS} FROM journal "
                    f"WHERE seq IN ({', '.join('?' * len(part))})",
                    part,
                ).fetchall()
        by_seq = {values[0]: values for values in found}
        return [_row(by_seq[s], self.timezone) if s in by_seq else _missing_row(s) for s in seqs]

    def detail(self, seq: int) -> RecordDetail:
        row = self.conn.execute(
            "SELECT record_type, number, ts, business_date, till, operator, ref_seq, period, "
            "key_id, canonical, prev_hash, hash, signature FROM journal WHERE seq = ?",
            (seq,),
        ).fetchone()
        if row is None:
            raise ComptoirError(f"L'enregistrement n°{seq} ne figure pas dans ce journal.")
        rtype, number, ts, day, till, operator, ref, period, key_id, data, prev, link, sig = row
        try:
            body = canonical.decode(data).get("body", {})
        except ValueError:
            body = {}
        return RecordDetail(
            seq=seq,
            record_type=RecordType(rtype),
            number=number,
            doc_number=document_number(rtype, number),
            ts=ts,
            when=shop_time(ts, self.timezone),
            business_date=day,
            till=till,
            operator=operator,
            ref_seq=ref,
            period=period,
            body=body,
            hash=link,
            prev_hash=prev,
            key_id=key_id,
            signature=bytes(sig),
            hash_ok=chain.link_hash(prev, bytes(data)) == link,
            signature_status=self._signature_status(key_id, link, bytes(sig)),
            shop=self._shop_at(seq),
            timezone=self.timezone,
            ledger_id=self.ledger_id,
        )

    def _signature_status(self, key_id: str, link: str, signature: bytes) -> SignatureStatus:
        if key_id not in self._keys:
            found = self.conn.execute(
                "SELECT public_key FROM signing_key WHERE key_id = ?", (key_id,)
            ).fetchone()
            try:
                self._keys[key_id] = chain.load_public_der(bytes(found[0])) if found else None
            except ValueError:
                self._keys[key_id] = None
        key = self._keys[key_id]
        if key is None:
            return SignatureStatus.UNKNOWN_KEY
        ok = chain.signature_ok(key, link, signature)
        return SignatureStatus.VALID if ok else SignatureStatus.INVALID

    def shop(self) -> dict[str, Any]:
        """The fiscal identity in force at the last record."""
        return self._shop_at(self.bounds[1])

    def _shop_at(self, seq: int) -> dict[str, Any]:
        """The fiscal identity in force when the record was made (what its paper showed)."""
        found = self.conn.execute(
            "SELECT canonical FROM journal WHERE record_type = 'SETTINGS' AND seq <= ? "
            "ORDER BY seq DESC LIMIT 1",
            (seq,),
        ).fetchone()
        if found is None:
            return {}
        try:
            return dict(canonical.decode(found[0])["body"]["settings"])
        except (ValueError, KeyError, TypeError):
            return {}

    def periods(self) -> list[YearPeriods]:
        """The years and months that hold records, found by bisection (no scan)."""
        lo, hi = self.bounds
        if lo > hi:
            return []
        first = _date_at_or_after(self.conn, lo)
        last = self.conn.execute(
            "SELECT business_date FROM journal WHERE seq <= ? ORDER BY seq DESC LIMIT 1", (hi,)
        ).fetchone()
        if first is None or last is None:
            return []
        month = date.fromisoformat(first[1]).replace(day=1)
        end = date.fromisoformat(last[0])
        years: dict[int, list[int]] = {}
        start = lo
        while month <= end:
            following = (month + timedelta(days=32)).replace(day=1)
            start = first_seq_on_or_after(self.conn, month, start, hi)
            found = _date_at_or_after(self.conn, start) if start <= hi else None
            if found is not None and found[1] < following.isoformat():
                years.setdefault(month.year, []).append(month.month)
            month = following
        return [YearPeriods(year, tuple(months)) for year, months in years.items()]

    def closures(self) -> list[ClosureEntry]:
        rows = self.conn.execute(
            f"SELECT seq, record_type, number, period, hash FROM journal "
            f"WHERE record_type IN {_CLOSURES} ORDER BY seq"
        ).fetchall()
        return [ClosureEntry(s, RecordType(t), n, p or "", h) for s, t, n, p, h in rows]

    def operators(self) -> list[str]:
        """Every operator named in the journal: a full scan, seconds on a large file."""
        rows = self.conn.execute("SELECT DISTINCT operator FROM journal").fetchall()
        return sorted((r[0] for r in rows), key=str.casefold)


class RecordIndex:
    """The records a filter selected, as sequence numbers; rows are read on demand."""

    def __init__(self, browser: LedgerBrowser, seqs: Sequence[int], flt: RecordFilter) -> None:
        self.browser = browser
        self.seqs = seqs
        self.filter = flt
        self._blocks: OrderedDict[int, list[RecordRow]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.seqs)

    def seq_at(self, position: int) -> int:
        return self.seqs[position]

    def position_of(self, seq: int) -> int | None:
        """Where a record sits in this index, or None when the filter left it out."""
        at = bisect_left(self.seqs, seq)
        return at if at < len(self.seqs) and self.seqs[at] == seq else None

    def _block(self, number: int) -> list[RecordRow]:
        rows = self._blocks.get(number)
        if rows is not None:
            self._blocks.move_to_end(number)
            return rows
        rows = self.browser.rows_for(self.seqs[number * BLOCK : (number + 1) * BLOCK])
        self._blocks[number] = rows
        if len(self._blocks) > CACHE_BLOCKS:
            self._blocks.popitem(last=False)
        return rows

    def row(self, position: int) -> RecordRow:
        return self._block(position // BLOCK)[position % BLOCK]

    def rows(self, start: int, count: int) -> list[RecordRow]:
        """Rows start .. start + count - 1 (fewer at the end), read by blocks."""
        stop = min(len(self.seqs), start + count)
        out: list[RecordRow] = []
        position = max(0, start)
        while position < stop:
            block = self._block(position // BLOCK)
            offset = position % BLOCK
            take = min(stop - position, BLOCK - offset)
            out += block[offset : offset + take]
            position += take
        return out

    def iter_rows(self, chunk: int = 1000) -> Iterator[RecordRow]:
        """Every row, in order, a chunk at a time, bypassing the cache (exports)."""
        for start in range(0, len(self.seqs), chunk):
            yield from self.browser.rows_for(self.seqs[start : start + chunk])
