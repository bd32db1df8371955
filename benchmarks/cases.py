"""The benchmarks themselves. Each takes the run's context and returns Results."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from datetime import time as clock_time
from pathlib import Path
from statistics import median
from typing import Any

from app.ledger.closures import close_day, close_month, close_year
from app.ledger.service import record_verification
from app.ledger.store import Ledger
from app.ledger.verify.engine import Report, verify_ledger
from app.sales.service import record_sale
from benchmarks import (
    anchor_case,
    app_cases,
    archive_case,
    audit_case,
    bundle_cases,
    cache,
    central_case,
    demo_case,
    ereporting_case,
    terminal_case,
    timestamp_case,
    viewer_case,
)
from benchmarks.common import (
    MANAGER,
    OPERATOR,
    BenchClock,
    Result,
    Sale,
    calibrate,
    checkpoint,
    fast_writes,
    file_size,
    five_line_sales,
    log,
    open_ledger,
    percentile,
    ring_day,
    synchronous_level,
    watch,
)


@dataclass(frozen=True)
class Sizes:
    record_warmup: int
    record_tickets: int
    close_day_tickets: int
    close_day_runs: int
    year_tickets_per_day: int
    verify_records: int
    history_tickets: int


FULL = Sizes(
    record_warmup=50,
    record_tickets=3_000,
    close_day_tickets=5_000,
    close_day_runs=5,
    year_tickets_per_day=3,
    verify_records=1_000_000,
    history_tickets=500,
)
QUICK = Sizes(
    record_warmup=20,
    record_tickets=300,
    close_day_tickets=1_000,
    close_day_runs=3,
    year_tickets_per_day=1,
    verify_records=50_000,
    history_tickets=100,
)

VERIFY_OVER_FLOOR = 1.3  # full verification within 1.3 x records x one verify / cores
INCREMENTAL_TICKETS = 1_000


@dataclass
class Context:
    workdir: Path
    sizes: Sizes
    quick: bool
    shared: dict[str, Any] = field(default_factory=dict)
    _sales: list[Sale] | None = None

    @property
    def sales(self) -> list[Sale]:
        if self._sales is None:
            self._sales = five_line_sales()
        return self._sales


def _ms(seconds: float) -> float:
    return seconds * 1000


def _check_durable(ledger: Ledger) -> None:
    """The timed ledger runs with the app's own settings: WAL, synchronous=FULL."""
    raw = ledger.engine.raw_connection()
    try:
        mode = raw.driver_connection.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        raw.close()
    level = synchronous_level(ledger)
    if mode != "wal" or level != 2:
        raise RuntimeError(f"ledger not durable as the app sets it: {mode=}, synchronous={level}")


def _ring_timed(
    ledger: Ledger, clock: BenchClock, sales: list[Sale], count: int, warmup: int
) -> tuple[list[float], list[float], list[float], float]:
    """Record ``warmup + count`` tickets, one durable transaction each; returns per-ticket
    total, in-transaction and commit times (s) and the wall time of the measured ones."""
    total: list[float] = []
    work: list[float] = []
    commit: list[float] = []
    started = 0.0
    perf = time.perf_counter
    for i in range(warmup + count):
        if i == warmup:
            started = perf()
        clock.now += timedelta(seconds=1)
        sale = sales[i % len(sales)]
        t0 = perf()
        with ledger.transaction() as session:
            record_sale(session, sale.cart, sale.payments, OPERATOR)
            t1 = perf()
        t2 = perf()
        if i >= warmup:
            total.append(t2 - t0)
            work.append(t1 - t0)
            commit.append(t2 - t1)
    return total, work, commit, perf() - started


# -- 1. recording a ticket ----------------------------------------------------------------
def _record_run(ctx: Context) -> dict[str, Any]:
    if "record" in ctx.shared:
        return ctx.shared["record"]
    sizes = ctx.sizes
    path = ctx.workdir / "record.sqlite"
    clock = BenchClock()
    clock.set_local(date(2025, 3, 3), clock_time(8, 0))
    ledger = open_ledger(path, clock)
    try:
        _check_durable(ledger)
        checkpoint(path)
        size_before = file_size(path)
        log(f"record: {sizes.record_tickets:,} tickets, one durable transaction each")
        total, work, commit, wall = _ring_timed(
            ledger, clock, ctx.sales, sizes.record_tickets, sizes.record_warmup
        )
    finally:
        ledger.close()
    checkpoint(path)
    run = {
        "path": path,
        "tickets": sizes.record_tickets + sizes.record_warmup,
        "measured": sizes.record_tickets,
        "size_before": size_before,
        "size_after": file_size(path),
        "total": total,
        "work": work,
        "commit": commit,
        "wall": wall,
    }
    ctx.shared["record"] = run
    return run


def bench_record(ctx: Context) -> list[Result]:
    run = _record_run(ctx)
    total, work, commit, n = run["total"], run["work"], run["commit"], run["measured"]
    note = f"n={n:,}, 5 lines, 2 payments, WAL + synchronous=FULL"
    return [
        Result("record_ticket.p50", _ms(percentile(total, 50)), "ms", ("<=", 2.0), note),
        Result(
            "record_ticket.p99",
            _ms(percentile(total, 99)),
            "ms",
            ("<=", 2.0),
            f"max {_ms(max(total)):.2f} ms",
        ),
        Result("record_ticket.throughput", n / run["wall"], "tickets/s", (">=", 1000.0), note),
        Result(
            "record_ticket.p50_in_transaction",
            _ms(percentile(work, 50)),
            "ms",
            note="BEGIN IMMEDIATE + record_sale + flush, before commit",
        ),
        Result(
            "record_ticket.p50_commit",
            _ms(percentile(commit, 50)),
            "ms",
            note=f"COMMIT incl. fsync; p99 {_ms(percentile(commit, 99)):.2f} ms",
        ),
    ]


# -- 5. database size -----------------------------------------------------------------------
def bench_size(ctx: Context) -> list[Result]:
    run = _record_run(ctx)
    grown = run["size_after"] - run["size_before"]
    return [
        Result(
            "db_bytes_per_ticket",
            grown / run["tickets"],
            "bytes",
            note=(
                f"growth of file+WAL (checkpointed) over {run['tickets']:,} 5-line tickets; "
                f"whole file / tickets = {run['size_after'] / run['tickets']:,.0f}"
            ),
        )
    ]


# -- 3. day closure -------------------------------------------------------------------------
def bench_close_day(ctx: Context) -> list[Result]:
    sizes = ctx.sizes
    path = ctx.workdir / "close_day.sqlite"
    clock = BenchClock()
    clock.set_local(date(2025, 3, 3), clock_time(7, 0))
    ledger = open_ledger(path, clock)
    timings: list[float] = []
    try:
        for run in range(sizes.close_day_runs):
            day = date(2025, 3, 3) + timedelta(days=run)
            with fast_writes(ledger):
                ring_day(ledger, clock, day, sizes.close_day_tickets, ctx.sales, close=False)
            _check_durable(ledger)
            clock.set_local(day, clock_time(20, 0))
            t0 = time.perf_counter()
            with ledger.transaction() as session:
                record = close_day(session, day, operator=MANAGER)
            timings.append(time.perf_counter() - t0)
            if record.body["tickets"] != sizes.close_day_tickets:
                raise RuntimeError(f"day closure counted {record.body['tickets']} tickets")
    finally:
        ledger.close()
    samples = ", ".join(f"{_ms(t):.1f}" for t in timings)
    return [
        Result(
            f"close_day.{sizes.close_day_tickets}_tickets",
            _ms(median(timings)),
            "ms",
            ("<=", 100.0),
            f"median of {len(timings)} days (ms: {samples}), incl. commit",
            extra={"samples_ms": [_ms(t) for t in timings]},
        )
    ]


# -- 4. year closure ------------------------------------------------------------------------
def bench_close_year(ctx: Context) -> list[Result]:
    per_day = ctx.sizes.year_tickets_per_day
    path = ctx.workdir / "close_year.sqlite"
    clock = BenchClock()
    clock.set_local(date(2025, 1, 1), clock_time(7, 0))
    ledger = open_ledger(path, clock)
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(365)]
    try:
        log(f"close_year: generating 365 days of {per_day} ticket(s) with closures")
        with fast_writes(ledger):
            for day in days:
                ring_day(ledger, clock, day, per_day, ctx.sales)
        _check_durable(ledger)
        clock.set_local(date(2026, 1, 1), clock_time(7, 0))
        t0 = time.perf_counter()
        with ledger.transaction() as session:
            month = close_month(session, "2025-12", operator=MANAGER)
        month_s = time.perf_counter() - t0
        clock.advance(minutes=1)
        t0 = time.perf_counter()
        with ledger.transaction() as session:
            year = close_year(session, 2025, operator=MANAGER)
        year_s = time.perf_counter() - t0
    finally:
        ledger.close()
    if len(year.body["parts"]) != 12 or year.body["tickets"] != 365 * per_day:
        raise RuntimeError("the year closure does not cover the generated year")
    if len(month.body["parts"]) != 31:
        raise RuntimeError("the December closure does not cover 31 days")
    return [
        Result(
            "close_year.365_days",
            _ms(year_s),
            "ms",
            ("<=", 1000.0),
            f"12 month closures over 365 closed days ({per_day} ticket(s)/day), incl. commit",
        ),
        Result("close_month.31_days", _ms(month_s), "ms", note="December, incl. commit"),
    ]


# -- 2. verification ------------------------------------------------------------------------
def _warm(path: Path) -> None:
    """Read the file once so that every verification runs on a warm OS page cache."""
    with path.open("rb") as handle:
        while handle.read(16 * 2**20):
            pass


def _verify_timed(
    path: Path, records: int, workers: int | None, *, incremental: bool = False
) -> tuple[float, str, Report, float]:
    with watch() as seen:
        report = verify_ledger(path, workers=workers, incremental=incremental)
    seconds = seen["wall_s"]
    if not report.ok or (not incremental and report.records != records):
        raise RuntimeError(f"verification failed: {report.summary()}")
    log(f"verify (workers={workers or 'default'}): {seconds:.2f} s — {report.summary()}")
    cpu = f"{seen['own_cpu_s']:.0f} s CPU incl. workers, other load {seen['other_load_pct']:.0f}%"
    return seconds, cpu, report, seen["own_cpu_s"]


def _incremental(ctx: Context, cached: cache.CachedLedger, full: Report) -> tuple[float, Report]:
    """On a copy of the ledger that ``full`` verified: its checkpoint journaled as the
    shop's computer does, a day of ``INCREMENTAL_TICKETS`` tickets and its closure, then
    the incremental verification timed."""
    path = cache.writable_copy(cached, ctx.workdir / "incremental.sqlite")
    clock = BenchClock()
    day = cache.last_day() + timedelta(days=1)
    clock.set_local(day, clock_time(7, 0))
    ledger = open_ledger(path, clock)
    try:
        with ledger.transaction() as session:
            record_verification(session, full, operator=MANAGER)
        ring_day(ledger, clock, day, INCREMENTAL_TICKETS, ctx.sales)
    finally:
        ledger.close()
    _warm(path)
    seconds, _cpu, report, _c = _verify_timed(path, 0, None, incremental=True)
    if report.since_seq != full.last_seq:
        raise RuntimeError("the incremental verification did not start at the checkpoint")
    return seconds, report


def bench_verify(ctx: Context) -> list[Result]:
    records = ctx.sizes.verify_records
    cached = cache.get_ledger(records)
    ctx.shared["cached"] = cached
    _warm(cached.path)
    cores = os.cpu_count() or 1
    one_verify_us = calibrate()
    floor_s = records * one_verify_us / 1e6 / cores
    verify_cpu_us = calibrate(clock=time.process_time)
    default_s, default_cpu, full, cpu_s = _verify_timed(cached.path, records, None)
    after_us = calibrate()
    # The floor is taken before and after the run: the machine's speed may drift.
    floor_s = records * min(one_verify_us, after_us) / 1e6 / cores
    results = [
        Result(
            f"verify.{records}_records",
            default_s,
            "s",
            ("<=", round(VERIFY_OVER_FLOOR * floor_s, 1)),
            f"default workers (all cores), warm cache, {default_cpu}; target "
            f"{VERIFY_OVER_FLOOR} x the signature floor",
        ),
        Result(
            f"verify.{records}_records.signature_floor",
            floor_s,
            "s",
            note=(
                f"records x one ECDSA verify ({min(one_verify_us, after_us):.1f} µs, "
                f"{one_verify_us:.1f} before / {after_us:.1f} after) / {cores} cores"
            ),
        ),
        Result(
            "verify.over_floor",
            default_s / floor_s,
            "x",
            ("<=", VERIFY_OVER_FLOOR),
            "full verification / signature floor, same run",
        ),
        Result(
            "verify.cpu_over_signatures",
            cpu_s / (records * verify_cpu_us / 1e6),
            "x",
            ("<=", VERIFY_OVER_FLOOR),
            note=(
                f"{cpu_s:.0f} s CPU for the whole verification (all processes) / CPU of its "
                f"signatures alone ({verify_cpu_us:.1f} µs CPU each): the wall ratio on an "
                "otherwise idle machine"
            ),
        ),
        Result(
            "verify.throughput",
            records / default_s,
            "records/s",
            note="hashes, signatures, copies, numbering, closures",
        ),
    ]
    if records <= 100_000:  # one worker is informative, and long on a large ledger
        single_s, single_cpu, _r, _c = _verify_timed(cached.path, records, 1)
        results.append(
            Result(
                f"verify.{records}_records.workers_1",
                single_s,
                "s",
                note=f"{records / single_s:,.0f} records/s, {single_cpu}",
            )
        )
    incremental_s, incremental = _incremental(ctx, cached, full)
    results.append(
        Result(
            f"verify.incremental.{INCREMENTAL_TICKETS}_tickets",
            incremental_s,
            "s",
            ("<=", 1.0),
            f"from the checkpoint at n°{incremental.since_seq:,} ({incremental.records:,} "
            "records: a day's tickets, its Z, the VERIFY event)",
        )
    )
    generation = cached.meta["generation_seconds"]
    size_mib = cached.meta["bytes"] / 2**20
    results.append(
        Result(
            f"generate.{records}_records",
            generation,
            "s",
            note=(
                ("cached, generated earlier" if cached.reused else "generated in this run")
                + f"; {cached.meta['days']} days, {size_mib:,.0f} MiB"
            ),
        )
    )
    return results


# -- extra: the same operations on a ledger with a long history ---------------------------------
def bench_history(ctx: Context) -> list[Result]:
    """Record tickets and close a day on a copy of the verification ledger, to see whether
    costs grow with the history behind them."""
    sizes = ctx.sizes
    cached = ctx.shared.get("cached") or cache.get_ledger(sizes.verify_records)
    path = cache.writable_copy(cached, ctx.workdir / "history.sqlite")
    day = cache.last_day() + timedelta(days=1)
    clock = BenchClock()
    clock.set_local(day, clock_time(8, 0))
    ledger = open_ledger(path, clock)
    label = f"{cached.records // 1000}k"
    try:
        if cache.record_count(ledger) != cached.records:  # a KEY record was added
            raise RuntimeError("the cached ledger's signing key was not found")
        _check_durable(ledger)
        log(f"history: {sizes.history_tickets} durable tickets after {cached.records:,} records")
        total, work, commit, wall = _ring_timed(ledger, clock, ctx.sales, sizes.history_tickets, 20)
        extra = sizes.close_day_tickets - sizes.history_tickets - 20
        with fast_writes(ledger):
            ring_day(ledger, clock, day, extra, ctx.sales, close=False)
        _check_durable(ledger)
        clock.set_local(day, clock_time(20, 0))
        t0 = time.perf_counter()
        with ledger.transaction() as session:
            record = close_day(session, day, operator=MANAGER)
        close_s = time.perf_counter() - t0
        if record.body["tickets"] != sizes.close_day_tickets:
            raise RuntimeError(f"day closure counted {record.body['tickets']} tickets")
    finally:
        ledger.close()
    n = sizes.history_tickets
    return [
        Result(
            f"history_{label}.record_ticket.p50",
            _ms(percentile(total, 50)),
            "ms",
            ("<=", 2.0),
            f"n={n}, after {cached.records:,} records",
        ),
        Result(
            f"history_{label}.record_ticket.p99",
            _ms(percentile(total, 99)),
            "ms",
            ("<=", 2.0),
            f"{n / wall:,.0f} tickets/s",
        ),
        Result(
            f"history_{label}.record_ticket.p50_in_transaction",
            _ms(percentile(work, 50)),
            "ms",
        ),
        Result(
            f"history_{label}.record_ticket.p50_commit",
            _ms(percentile(commit, 50)),
            "ms",
            note=f"p99 {_ms(percentile(commit, 99)):.2f} ms",
        ),
        Result(
            f"history_{label}.close_day.{sizes.close_day_tickets}_tickets",
            _ms(close_s),
            "ms",
            ("<=", 100.0),
            f"after {cached.records:,} records, incl. commit",
        ),
    ]


BENCHMARKS: dict[str, Callable[[Context], list[Result]]] = {
    "record": bench_record,
    "size": bench_size,
    "close_day": bench_close_day,
    "close_year": bench_close_year,
    "verify": bench_verify,
    "history": bench_history,
    "till": app_cases.bench_till,
    "invoice": app_cases.bench_invoice,
    "outbox": app_cases.bench_outbox,
    "ereporting": ereporting_case.bench_ereporting,
    "archive": archive_case.bench_archive,
    "audit": audit_case.bench_audit,
    "viewer": viewer_case.bench_viewer,
    "bundle": bundle_cases.bench_bundle,
    "central": central_case.bench_central,
    "card": terminal_case.bench_card_payment,
    "timestamp": timestamp_case.bench_timestamp,
    "anchor": anchor_case.bench_anchor,
    "demo": demo_case.bench_demo,
}
