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

import sqlite3
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from app.errors import ComptoirError
from app.ledger import canonical, chain
from app.ledger.db import require_file
from app.ledger.export.records import (
    AMOUNT_COLUMN,
    CLOSURES_SQL,
    COLUMNS,
    ROW_COLUMNS,
    TYPE_GROUPS,
    ClosureEntry,
    RecordDetail,
    RecordFilter,
    RecordRow,
    SignatureStatus,
    YearPeriods,
    missing_row,
    row_of,
    shop_time,
)
from app.ledger.export.search import (
    Cancelled,
    SearchCancelled,
    bounds,
    connect,
    date_at_or_after,
    find_seqs,
    first_seq_on_or_after,
    select_seqs,
)
from app.ledger.records import RecordType, document_number

__all__ = [
    "AMOUNT_COLUMN",
    "BLOCK",
    "COLUMNS",
    "FILE_ONLY",
    "TYPE_GROUPS",
    "ClosureEntry",
    "LedgerBrowser",
    "RecordDetail",
    "RecordFilter",
    "RecordIndex",
    "RecordRow",
    "SearchCancelled",
    "SignatureStatus",
    "YearPeriods",
    "find_seqs",
    "first_seq_on_or_after",
    "shop_time",
]

BLOCK = 128
CACHE_BLOCKS = 48


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
        return bounds(self.conn)

    def index(self, flt: RecordFilter, cancelled: Cancelled | None = None) -> RecordIndex:
        return RecordIndex(self, select_seqs(self.conn, flt, cancelled), flt)

    def index_of(self, seqs: Sequence[int], flt: RecordFilter) -> RecordIndex:
        """An index over sequence numbers found elsewhere (``find_seqs`` on a worker)."""
        return RecordIndex(self, seqs, flt)

    def rows_for(self, seqs: Sequence[int]) -> list[RecordRow]:
        """The rows of these records, in the order given."""
        if not seqs:
            return []
        if isinstance(seqs, range) and seqs.step == 1:
            found = self.conn.execute(
                f"SELECT {ROW_COLUMNS} FROM journal WHERE seq BETWEEN ? AND ?",
                (seqs.start, seqs.stop - 1),
            ).fetchall()
        else:
            found = []
            wanted = list(seqs)
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                found += self.conn.execute(
                    f"SELECT {ROW_COLUMNS} FROM journal "
                    f"WHERE seq IN ({', '.join('?' * len(part))})",
                    part,
                ).fetchall()
        by_seq = {values[0]: values for values in found}
        return [row_of(by_seq[s], self.timezone) if s in by_seq else missing_row(s) for s in seqs]

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
        first = date_at_or_after(self.conn, lo)
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
            found = date_at_or_after(self.conn, start) if start <= hi else None
            if found is not None and found[1] < following.isoformat():
                years.setdefault(month.year, []).append(month.month)
            month = following
        return [YearPeriods(year, tuple(months)) for year, months in years.items()]

    def closures(self) -> list[ClosureEntry]:
        rows = self.conn.execute(
            f"SELECT seq, record_type, number, period, hash FROM journal "
            f"WHERE record_type IN {CLOSURES_SQL} ORDER BY seq"
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
