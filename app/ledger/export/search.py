"""A filter turned into the list of the records it matches: SQL over a read-only
connection, read in large batches, that the caller can cancel.

With no filter, or a filter on dates alone, the index is a plain ``range`` and no query
runs at all: the chain is gapless and its business dates never go back, so a date range
is a range of sequence numbers, found by bisection.
"""

from __future__ import annotations

import heapq
import re
import sqlite3
from array import array
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from app.errors import ComptoirError
from app.ledger.export.records import AMOUNT_SQL, INVOICES_SQL, TEXT_SQL, RecordFilter
from app.ledger.records import RecordType

FETCH = 50_000
PROGRESS_STEPS = 20_000  # SQLite instructions between two looks at the cancel flag

Cancelled = Callable[[], bool]

_DOC_NUMBER = re.compile(r"(ZJ|ZM|ZA|AV|[KEPTFRDA])0*(\d{1,12})")
_HEX = re.compile(r"[0-9a-f]{8,64}")


class SearchCancelled(Exception):
    """The caller gave up on a search (a newer filter replaced it, or the screen closed)."""


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


# -- the filter as SQL -------------------------------------------------------------------
def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text_condition(text: str) -> tuple[str, list[Any]]:
    """Anywhere in the canonical JSON (SQLite folds ASCII case only, so the lower and upper
    case spellings are tried too), or a document number, or the start of a hash."""
    spellings = list(dict.fromkeys((text, text.lower(), text.upper())))
    parts = [f"{TEXT_SQL} LIKE ? ESCAPE '\\'" for _ in spellings]
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
        where.append(f"{AMOUNT_SQL} >= ?")
        params.append(flt.min_cents)
    if flt.max_cents is not None:
        where.append(f"{AMOUNT_SQL} <= ?")
        params.append(flt.max_cents)
    if flt.customer.strip():
        pattern = _like(flt.customer.strip())
        where.append(
            f"(record_type IN {INVOICES_SQL} AND ("
            f"json_extract({TEXT_SQL}, '$.body.buyer.name') LIKE ? ESCAPE '\\' OR "
            f"json_extract({TEXT_SQL}, '$.body.buyer.siren') LIKE ? ESCAPE '\\'))"
        )
        params += [pattern, pattern]
    if flt.text.strip():
        sql, more = _text_condition(flt.text.strip())
        where.append(sql)
        params += more
    return where, params


# -- building an index ---------------------------------------------------------------------
def bounds(conn: sqlite3.Connection) -> tuple[int, int]:
    lo, hi = conn.execute("SELECT MIN(seq), MAX(seq) FROM journal").fetchone()
    return (1, 0) if lo is None else (lo, hi)


def date_at_or_after(conn: sqlite3.Connection, seq: int) -> tuple[int, str] | None:
    return conn.execute(
        "SELECT seq, business_date FROM journal WHERE seq >= ? ORDER BY seq LIMIT 1", (seq,)
    ).fetchone()


def first_seq_on_or_after(conn: sqlite3.Connection, day: date, lo: int, hi: int) -> int:
    """The first sequence number in [lo, hi] whose business day is ``day`` or later
    (``hi + 1`` when none is): a bisection, since business days follow the chain."""
    wanted = day.isoformat()
    while lo <= hi:
        mid = (lo + hi) // 2
        found = date_at_or_after(conn, mid)
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


def select_seqs(
    conn: sqlite3.Connection, flt: RecordFilter, cancelled: Cancelled | None
) -> Sequence[int]:
    lo, hi = bounds(conn)
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
        return select_seqs(conn, flt, cancelled)
    finally:
        conn.close()
