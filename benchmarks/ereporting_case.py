"""E-reporting: building and checking the Flux 10.3 report of a busy month.

A month of 10,000 five-line tickets (about 323 a day, every day closed) on a shop taxed
monthly (réel simplifié: one 10.3 period per month); then the report of that month is
built from the ledger and validated against the official XSD and PPF schematron, as
``comptoir pdp report`` does before sending. The first build compiles the schematron
(once per process); the target is on the following ones.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import date, timedelta
from statistics import median

from benchmarks.common import BenchClock, Result, fast_writes, log, open_ledger, ring_day

MONTH_TICKETS = 10_000
QUICK_TICKETS = 2_000
RUNS = 5


def bench_ereporting(ctx) -> list[Result]:  # type: ignore[no-untyped-def]
    from app.demo import DEMO_SHOP
    from app.einvoice.pdp.ereporting.periods import Period
    from app.einvoice.pdp.ereporting.report import build_report
    from app.einvoice.pdp.flux10 import TRANSACTIONS
    from app.ledger.settings import record_fiscal_settings

    tickets = QUICK_TICKETS if ctx.quick else MONTH_TICKETS
    os.environ.setdefault("COMPTOIR_PDP_MATRICULE", "0042")
    clock = BenchClock()
    first = date(2025, 3, 1)
    clock.set_local(first)
    ledger = open_ledger(ctx.workdir / "ereporting.sqlite", clock)
    try:
        with ledger.transaction() as session:
            record_fiscal_settings(
                session, replace(DEMO_SHOP, vat_regime="reel_simplifie"), operator="Gérant"
            )
        days = 31
        per_day = [tickets // days + (1 if i < tickets % days else 0) for i in range(days)]
        with fast_writes(ledger):
            for offset, count in enumerate(per_day):
                ring_day(ledger, clock, first + timedelta(days=offset), count, ctx.sales)
        period = Period(TRANSACTIONS, first, date(2025, 3, 31))
        timings, cpu = [], []
        for _ in range(RUNS + 1):
            started, used = time.perf_counter(), time.process_time()
            with ledger.reader() as session:
                report = build_report(session, period)
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
        if not report.validation.ok:
            raise RuntimeError("the 10.3 report breaks the official rules")
        counted = sum(block.transactions for block in report.days)
        log(f"ereporting: {len(report.days)} day × category blocks, {counted} counts")
    finally:
        ledger.close()
    cold, warm = timings[0], median(timings[1:])
    return [
        Result(
            f"ereporting.flux10_3_month_{tickets}_tickets",
            warm,
            "s",
            ("<=", 2.0),
            f"build + XSD + PPF schematron, median of {RUNS} (CPU {median(cpu[1:]):.2f} s; "
            f"first, compiling: {cold:.2f} s)",
            extra={"cold_s": cold, "samples_s": timings[1:], "cpu_s": cpu[1:]},
        )
    ]
