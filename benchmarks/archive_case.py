"""Archiving a fiscal year: write the signed archive of a closed year of 100,000 tickets,
then verify it as an auditor would, from the file alone."""

from __future__ import annotations

import json
import zipfile
from datetime import time as clock_time
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from app.ledger.archive.check import verify_archive
from app.ledger.archive.write import create_archive
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType
from app.ledger.store import Ledger
from benchmarks import cache
from benchmarks.common import MANAGER, BenchClock, Result, log, open_ledger, watch

if TYPE_CHECKING:
    from benchmarks.cases import Context

YEAR = "2025"  # the cached ledgers' first year, closed on their first day of 2026
YEAR_TICKETS = 100_000
# The cached ledger whose year 2025 holds exactly YEAR_TICKETS tickets: the generator spreads
# its tickets evenly over cache.DAYS days (the first days get one more), so 273 a day and
# one more on the first 355 days; plus the KEY and LEDGER_CREATED records, one day closure
# a day, 13 month closures and one year closure.
FULL_RECORDS = 2 + cache.DAYS + 13 + 1 + (cache.DAYS * 273 + 355)


def bench_archive(ctx: Context) -> list[Result]:
    records = ctx.sizes.verify_records if ctx.quick else FULL_RECORDS
    cached = cache.get_ledger(records)
    path = cache.writable_copy(cached, ctx.workdir / "archive.sqlite")
    clock = BenchClock()
    clock.set_local(cache.last_day() + timedelta(days=1), clock_time(8, 0))
    ledger = open_ledger(path, clock)
    try:
        # Opening may journal a schema migration, but must not have replaced the key.
        if _key_records(ledger) != 1:
            raise RuntimeError("the cached ledger's signing key was not found")
        log(f"archive: writing the archive of {YEAR} from {cached.records:,} records")
        with watch() as made:
            result = create_archive(ledger, YEAR, operator=MANAGER, out_dir=ctx.workdir / "arch")
    finally:
        ledger.close()
    log(f"archive: verifying {result.path.name}")
    with watch() as checked:
        report = verify_archive(result.path)
    if not report.ok:
        raise RuntimeError(f"archive verification failed: {report.summary()}")
    with zipfile.ZipFile(result.path) as archive:
        tickets = json.loads(archive.read("manifest.json"))["counts"]["TICKET"]
        expanded = sum(info.file_size for info in archive.infolist())
    if not ctx.quick and tickets != YEAR_TICKETS:
        raise RuntimeError(f"the archived year holds {tickets} tickets, not {YEAR_TICKETS}")
    size = result.path.stat().st_size
    label = f"{tickets // 1000}k_tickets"
    span = f"{result.records:,} records (n°{result.first_seq}..{result.last_seq})"
    return [
        Result(
            f"archive.create.year_{label}",
            made["wall_s"],
            "s",
            note=f"{span}, CSV + JSON + chain, ZIP, signature, ARCHIVE record; "
            f"other load {made['other_load_pct']:.0f}%",
        ),
        Result(
            f"archive.verify.year_{label}",
            checked["wall_s"],
            "s",
            note=f"{result.records / checked['wall_s']:,.0f} records/s, one process; "
            f"other load {checked['other_load_pct']:.0f}%",
        ),
        Result(
            f"archive.file_size.year_{label}",
            size / 2**20,
            "MiB",
            note=f"{expanded / 2**20:,.0f} MiB uncompressed, {size / tickets:,.0f} bytes/ticket",
        ),
    ]


def _key_records(ledger: Ledger) -> int:
    with ledger.reader() as session:
        return (
            session.scalar(select(func.count()).where(JournalRecord.record_type == RecordType.KEY))
            or 0
        )
