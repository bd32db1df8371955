"""A snapshot of a central ledger, as a ledger file the archive viewer can browse.

``central_snapshot`` copies one chain out of the central into a new SQLite file with the
ledger tables (``ledger_meta``, ``signing_key``, ``journal``, ``journal_vat``,
``journal_payment``): either one till's chain, rebuilt from ``till_record`` and
``till_key`` exactly as that till signed it, or the shop's own chain (closures, uploads,
settings). The viewer then uses the queries it uses on a live ledger. It is a copy taken
at one moment: records uploaded afterwards are not in it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from app.errors import InvalidInput, LedgerError
from app.ledger import canonical
from app.ledger.archive.reopen import LedgerFileRows, create_ledger_tables, insert_ledger_meta
from app.ledger.central.models import CENTRAL_KIND, TillChain, TillKey, TillRecord
from app.ledger.models import JournalPayment, JournalRecord, JournalVat, LedgerMeta, SigningKey
from app.ledger.store import Ledger

_FLUSH = 2000


def central_snapshot(central: Ledger | Path | str, dest: Path, till: str | None = None) -> Path:
    """Write to ``dest`` (replaced if present) the chain of ``till``, or the shop's own chain
    when ``till`` is None; returns ``dest``. The file is built under a temporary name."""
    dest = Path(dest)
    temporary = dest.with_name(f".{dest.name}.tmp")
    temporary.unlink(missing_ok=True)
    owned = not isinstance(central, Ledger)
    ledger = Ledger.open(central, kind=CENTRAL_KIND, readonly=True) if owned else central  # type: ignore[arg-type]
    try:
        engine = create_engine(f"sqlite:///{temporary}")
        try:
            create_ledger_tables(engine)
            with engine.begin() as out, ledger.reader() as session:
                source = session.connection()
                if till is None:
                    _copy_shop(source, out)
                else:
                    _copy_till(source, out, till, ledger.timezone)
        finally:
            engine.dispose()
        os.replace(temporary, dest)
    except SQLAlchemyError as exc:
        temporary.unlink(missing_ok=True)
        raise LedgerError(
            "L'instantané du serveur central n'a pas pu être écrit.", detail=repr(exc)
        ) from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        if owned:
            ledger.close()
    return dest


def _copy_shop(source: Connection, out: Connection) -> None:
    """The central's own chain, table by table, as it is."""
    for model in (LedgerMeta, SigningKey, JournalRecord, JournalVat, JournalPayment):
        table = model.__table__
        batch: list[dict[str, Any]] = []
        for row in source.execute(select(table)).mappings():
            batch.append(dict(row))
            if len(batch) >= _FLUSH:
                out.execute(insert(table), batch)
                batch.clear()
        if batch:
            out.execute(insert(table), batch)


def _copy_till(source: Connection, out: Connection, till: str, timezone: str) -> None:
    """One till's chain rebuilt into the ledger tables; the copies (VAT, payments, the
    journal's columns) are derived from the signed envelopes as ``journal.append`` does."""
    chain_row = source.execute(select(TillChain).where(TillChain.till_id == till)).first()
    if chain_row is None:
        raise InvalidInput(f"Aucune caisse « {till} » n'est inscrite au serveur central.")
    ledger_id = chain_row.ledger_id
    first_ts = source.scalar(
        select(TillRecord.ts).where(TillRecord.ledger_id == ledger_id, TillRecord.seq == 1)
    )
    insert_ledger_meta(
        out,
        ledger_id=ledger_id,
        kind="real",
        created_at=first_ts or chain_row.registered_at,
        timezone=chain_row.timezone or timezone,
    )
    journal = LedgerFileRows(out, batch=_FLUSH)
    rows = source.execute(
        select(TillRecord)
        .where(TillRecord.ledger_id == ledger_id)
        .order_by(TillRecord.seq)
        .execution_options(yield_per=_FLUSH)
    )
    for row in rows:
        envelope = canonical.decode(row.canonical)
        journal.add(
            {
                "seq": row.seq,
                "record_type": row.record_type,
                "number": row.number,
                "ts": row.ts,
                "business_date": row.business_date,
                "till": row.till,
                "operator": row.operator,
                "ref_seq": envelope.get("ref"),
                "period": row.period,
                "key_id": row.key_id,
                "canonical_version": row.canonical_version,
                "canonical": row.canonical,
                "prev_hash": row.prev_hash,
                "hash": row.hash,
                "signature": row.signature,
            },
            envelope["body"],
        )
    journal.flush()
    keys = [
        {"key_id": key_id, "public_key": der, "registered_seq": seq}
        for key_id, der, seq in source.execute(
            select(TillKey.key_id, TillKey.public_key, TillKey.registered_seq).where(
                TillKey.ledger_id == ledger_id
            )
        )
    ]
    if keys:
        out.execute(insert(SigningKey.__table__), keys)
