"""An archive reopened as a ledger file, browsed with the queries of a live ledger.

The fiscal tables are created in a new SQLite file and filled from the archive's signed
chain; the same helpers build a central's copy of a till's chain.
"""

from __future__ import annotations

import json
import os
import sqlite3
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

from sqlalchemy import create_engine, insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from app.ledger import canonical, chain
from app.ledger.archive.check import read_keys
from app.ledger.archive.folder import ArchiveError
from app.ledger.archive.format import CHAIN, FORMAT_ID, KEYS, MANIFEST, ChainRecord
from app.ledger.models import (
    FISCAL_TABLES,
    Base,
    JournalPayment,
    JournalRecord,
    JournalVat,
    LedgerMeta,
    SigningKey,
)
from app.ledger.records import SALE_TYPES, derived_rows

__all__ = [
    "LedgerFileRows",
    "create_ledger_tables",
    "insert_ledger_meta",
    "load_archive_as_ledger",
]

_SALE_VALUES = frozenset(t.value for t in SALE_TYPES)


def load_archive_as_ledger(path: Path, dest: Path) -> Path:
    """Write a SQLite file at ``dest`` with the ledger tables holding the archive's records,
    so that an archive can be browsed with the same queries as a live ledger.

    Nothing is verified here (see ``verify_archive``); an unreadable archive raises a
    ComptoirError. The file is built under a temporary name and renamed when complete.
    """
    path, dest = Path(path), Path(dest)
    temporary = dest.with_name(f".{dest.name}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read(MANIFEST))
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_ID:
                raise ValueError(f"unknown archive format {manifest.get('format')!r}")
            keys = read_keys(archive.read(KEYS))
            engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(temporary))
            try:
                create_ledger_tables(engine)
                with engine.begin() as conn, archive.open(CHAIN) as stream:
                    _load(conn, manifest, keys, stream)
            finally:
                engine.dispose()
        os.replace(temporary, dest)
    except (
        OSError,
        zipfile.BadZipFile,
        zlib.error,
        KeyError,
        ValueError,
        TypeError,
        AttributeError,
        SQLAlchemyError,
    ) as exc:
        temporary.unlink(missing_ok=True)
        raise ArchiveError(
            f"Le fichier {path.name} n'est pas une archive Comptoir lisible.", detail=repr(exc)
        ) from exc
    return dest


def create_ledger_tables(engine: Engine) -> None:
    """Create the fiscal tables of a ledger in a new file, so that a copy of a chain (an
    archive, a central's snapshot) is browsed with the queries used on a live ledger."""
    Base.metadata.create_all(engine, tables=[Base.metadata.tables[name] for name in FISCAL_TABLES])


def insert_ledger_meta(
    conn: Connection, *, ledger_id: str, kind: str, created_at: str, timezone: str
) -> None:
    """The single ``ledger_meta`` row of a ledger file."""
    conn.execute(
        insert(LedgerMeta.__table__),
        [
            {
                "id": 1,
                "ledger_id": ledger_id,
                "kind": kind,
                "created_at": created_at,
                "timezone": timezone,
            }
        ],
    )


class LedgerFileRows:
    """The journal rows of a ledger file and their VAT and payment copies, inserted every
    ``batch`` records so that a long chain never sits whole in memory. The copies and the
    total are derived from the signed body as ``journal.append`` derives them."""

    def __init__(self, conn: Connection, batch: int) -> None:
        self._conn = conn
        self._batch = batch
        self._journal: list[dict[str, Any]] = []
        self._vat: list[dict[str, Any]] = []
        self._payments: list[dict[str, Any]] = []

    def add(self, columns: dict[str, Any], body: dict[str, Any]) -> None:
        """One record: ``columns`` are its journal columns but ``is_sale`` and
        ``total_cents``, which are derived here with the copies."""
        seq, record_type = columns["seq"], columns["record_type"]
        vat_rows, payment_rows, total = derived_rows(record_type, body)
        self._journal.append(
            {**columns, "is_sale": record_type in _SALE_VALUES, "total_cents": total}
        )
        self._vat.extend(
            {"seq": seq, "rate_bp": r, "base_cents": b, "vat_cents": v, "total_cents": t}
            for r, b, v, t in vat_rows
        )
        self._payments.extend(
            {"seq": seq, "idx": i, "method": m, "amount_cents": a}
            for i, (m, a) in enumerate(payment_rows)
        )
        if len(self._journal) >= self._batch:
            self.flush()

    def flush(self) -> None:
        """Insert what was added since the last flush; call it once after the last record."""
        for table, rows in (
            (JournalRecord.__table__, self._journal),
            (JournalVat.__table__, self._vat),
            (JournalPayment.__table__, self._payments),
        ):
            if rows:
                self._conn.execute(insert(table), rows)
                rows.clear()


def _load(
    conn: Connection, manifest: dict[str, Any], keys: dict[str, Any], stream: IO[bytes]
) -> None:
    insert_ledger_meta(
        conn,
        ledger_id=manifest["ledger_id"],
        kind=manifest["ledger_kind"],
        created_at=manifest.get("ledger_created_at", ""),
        timezone=manifest["timezone"],
    )
    key_rows = [
        {
            "key_id": entry["key_id"],
            "public_key": chain.public_der(keys[entry["key_id"]]),
            "registered_seq": entry["registered_seq"] or 0,
        }
        for entry in manifest["keys"]
        if entry["key_id"] in keys
    ]
    if key_rows:
        conn.execute(insert(SigningKey.__table__), key_rows)
    rows = LedgerFileRows(conn, batch=5000)
    for line in stream:
        record = ChainRecord.from_line(line)
        envelope = canonical.decode(record.canonical)
        rows.add(
            {
                "seq": record.seq,
                "record_type": record.record_type,
                "number": record.number,
                "ts": envelope["ts"],
                "business_date": envelope["date"],
                "till": envelope["till"],
                "operator": envelope["operator"],
                "ref_seq": envelope["ref"],
                "period": envelope["period"],
                "key_id": record.key_id,
                "canonical_version": record.canonical_version,
                "canonical": record.canonical,
                "prev_hash": record.prev_hash,
                "hash": record.hash,
                "signature": record.signature,
            },
            envelope["body"],
        )
    rows.flush()
