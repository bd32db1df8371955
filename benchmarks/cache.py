"""Large generated ledgers, kept in ``benchmarks/.cache/`` between runs.

A cached ledger is generated once through the real append path (``record_sale`` inside
``ledger.transaction()``, many sales per transaction, ``synchronous=OFF`` on the
generating connection only), spread over ``DAYS`` days with a day closure every day,
month closures and a year closure, so that verification covers closures too.

Files, for ``N`` records: ``ledger-v{CACHE_VERSION}-{N}.sqlite`` (the ledger),
``.pem`` (its private signing key, so that a copy can be written to), ``.json`` (what was
generated and how long it took; written last, it marks the entry complete). Change
``CACHE_VERSION`` whenever the generator or the record format changes.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from app import __version__, config
from app.ledger.db import make_engine
from app.ledger.keys import _key_file
from app.ledger.migrate import HEAD_REVISION, upgrade
from app.ledger.store import Ledger
from benchmarks.common import (
    BenchClock,
    checkpoint,
    fast_writes,
    file_size,
    five_line_sales,
    log,
    open_ledger,
    ring_day,
)

CACHE_VERSION = 1
CACHE_DIR = Path(__file__).resolve().parent / ".cache"
DAYS = 400
FIRST_DAY = date(2025, 1, 1)


@dataclass(frozen=True)
class CachedLedger:
    path: Path
    key: Path
    ledger_id: str
    records: int
    meta: dict[str, Any]
    reused: bool


def _stem(records: int) -> str:
    return f"ledger-v{CACHE_VERSION}-{records}"


def _plan(records: int, base: int) -> tuple[list[date], list[int], int, int]:
    """Days, tickets per day, month and year closures for exactly ``records`` records
    on a ledger that starts with ``base`` records."""
    days = [FIRST_DAY + timedelta(days=i) for i in range(DAYS)]
    months = len({d.isoformat()[:7] for d in days}) - 1  # the last month stays open
    years = len({d.year for d in days}) - 1
    tickets = records - base - len(days) - months - years
    if tickets < len(days):
        raise ValueError(f"{records} records are too few for {DAYS} days")
    share, extra = divmod(tickets, len(days))
    return days, [share + (i < extra) for i in range(len(days))], months, years


def get_ledger(records: int) -> CachedLedger:
    """The cached ledger of ``records`` records, generated first if missing."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    stem = _stem(records)
    db, key, info = (CACHE_DIR / f"{stem}{ext}" for ext in (".sqlite", ".pem", ".json"))
    if db.exists() and key.exists() and info.exists():
        meta = json.loads(info.read_text("utf-8"))
        if meta.get("records") == records and meta.get("cache_version") == CACHE_VERSION:
            log(f"reusing cached ledger {db.name} ({records:,} records)")
            _upgrade(db)
            return CachedLedger(db, key, meta["ledger_id"], records, meta, reused=True)
    for stale in (db, key, info):
        stale.unlink(missing_ok=True)
    meta = _generate(records, db, key)
    info.write_text(json.dumps(meta, indent=2), "utf-8")
    return CachedLedger(db, key, meta["ledger_id"], records, meta, reused=False)


def _upgrade(db: Path) -> None:
    """A ledger cached under an older schema is migrated in place, as a shop's ledger is
    when the application is updated: the records stay, the tables take their new shape."""
    engine = make_engine(db)
    try:
        started = time.perf_counter()
        if upgrade(engine):
            log(f"  migrated to schema {HEAD_REVISION} in {time.perf_counter() - started:.1f} s")
    finally:
        engine.dispose()


def _generate(records: int, db: Path, key: Path) -> dict[str, Any]:
    log(f"generating a {records:,}-record ledger (cached afterwards in {CACHE_DIR})")
    work = Path(tempfile.mkdtemp(prefix=".gen-", dir=CACHE_DIR))
    try:
        path = work / "ledger.sqlite"
        clock = BenchClock()
        clock.set_local(FIRST_DAY)
        sales = five_line_sales()
        started = time.perf_counter()
        ledger = open_ledger(path, clock)
        try:
            ledger_id = ledger.ledger_id
            base = record_count(ledger)
            days, tickets, months, years = _plan(records, base)
            with fast_writes(ledger):
                last_report = started
                for i, (day, count) in enumerate(zip(days, tickets, strict=True)):
                    ring_day(ledger, clock, day, count, sales)
                    now = time.perf_counter()
                    if now - last_report > 30 or i == len(days) - 1:
                        last_report = now
                        done = record_count(ledger)
                        log(
                            f"  {done:,}/{records:,} records ({done / records:.0%}), "
                            f"{now - started:.0f} s"
                        )
            total = record_count(ledger)
        finally:
            ledger.close()
        checkpoint(path)
        seconds = time.perf_counter() - started
        if total != records:
            raise RuntimeError(f"generated {total} records instead of {records}")
        shutil.copyfile(_key_file(ledger_id), key)
        key.chmod(0o600)
        size = file_size(path)
        path.replace(db)
        log(f"generated {records:,} records in {seconds:.0f} s ({size / 2**20:,.0f} MiB)")
        return {
            "cache_version": CACHE_VERSION,
            "app_version": __version__,
            "records": records,
            "tickets": sum(tickets),
            "days": len(days),
            "month_closures": months,
            "year_closures": years,
            "ledger_id": ledger_id,
            "generation_seconds": round(seconds, 2),
            "bytes": size,
            "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def record_count(ledger: Ledger) -> int:
    raw = ledger.engine.raw_connection()
    try:
        return raw.driver_connection.execute(
            "SELECT COALESCE(MAX(seq), 0) FROM journal"
        ).fetchone()[0]
    finally:
        raw.close()


def writable_copy(cached: CachedLedger, dest: Path) -> Path:
    """A copy of a cached ledger that ``Ledger.open`` can write to: its signing key is put
    where the app looks for it (the current data folder, no keyring)."""
    shutil.copyfile(cached.path, dest)
    # Flush the copy now: its write-back would otherwise slow down the fsyncs measured next.
    with dest.open("rb+") as handle:
        os.fsync(handle.fileno())
    key = _key_file(cached.ledger_id)
    key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copyfile(cached.key, key)
    key.chmod(0o600)
    assert key.is_relative_to(config.data_dir())
    return dest


def last_day() -> date:
    return FIRST_DAY + timedelta(days=DAYS - 1)
