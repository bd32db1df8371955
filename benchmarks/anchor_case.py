"""What the anchors outside the ledger file cost (``app.ledger.anchor``).

Per sale: the signed head appended to the anchor log (one ECDSA signature, one line, one
fsync, as the ledger's own synchronous=FULL commit), timed apart from the sale around it.
Per day closure: the closure of a day of tickets with its anchor, commit included.
Per verification: the comparison of the ledger with a log of one line per sale.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from datetime import time as clock_time
from typing import TYPE_CHECKING, Any

from benchmarks.common import (
    MANAGER,
    OPERATOR,
    BenchClock,
    Result,
    fast_writes,
    log,
    open_ledger,
    percentile,
    ring_day,
)

if TYPE_CHECKING:
    from benchmarks.cases import Context


def _ms(seconds: float) -> float:
    return seconds * 1000


def _timing(spent: list[float], original: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - t0)

    return timed


def bench_anchor(ctx: Context) -> list[Result]:
    from app.ledger import anchor as anchors
    from app.ledger.closures import close_day
    from app.ledger.verify import engine
    from app.sales.service import record_sale

    sizes = ctx.sizes
    path = ctx.workdir / "anchor.sqlite"
    clock = BenchClock()
    clock.set_local(date(2025, 3, 3), clock_time(8, 0))
    ledger = open_ledger(path, clock)
    per_sale: list[float] = []
    sale_total: list[float] = []
    closures: list[float] = []
    closure_anchor: list[float] = []
    original = anchors.keep_head
    try:
        anchors.keep_head = _timing(per_sale, original)  # type: ignore[assignment]
        count = sizes.record_tickets
        log(f"anchor: {count:,} tickets, one durable transaction and one anchor each")
        for i in range(sizes.record_warmup + count):
            clock.now += timedelta(seconds=1)
            sale = ctx.sales[i % len(ctx.sales)]
            t0 = time.perf_counter()
            with ledger.transaction() as session:
                record_sale(session, sale.cart, sale.payments, OPERATOR)
            sale_total.append(time.perf_counter() - t0)
        per_sale = per_sale[sizes.record_warmup :]
        sale_total = sale_total[sizes.record_warmup :]
        for run in range(sizes.close_day_runs):
            day = date(2025, 3, 4) + timedelta(days=run)
            with fast_writes(ledger):
                ring_day(ledger, clock, day, sizes.close_day_tickets, ctx.sales, close=False)
            clock.set_local(day, clock_time(20, 0))
            spent: list[float] = []
            anchors.keep_head = _timing(spent, original)  # type: ignore[assignment]
            t0 = time.perf_counter()
            with ledger.transaction() as session:
                close_day(session, day, operator=MANAGER)
            closures.append(time.perf_counter() - t0)
            closure_anchor.append(sum(spent))
    finally:
        anchors.keep_head = original  # type: ignore[assignment]
        ledger.close()
    log_lines = anchors.read_log(ledger.ledger_id)
    lines = len(log_lines[0]) if log_lines else 0
    check_spent: list[float] = []
    check = engine.check_anchors
    engine.check_anchors = _timing(check_spent, check)  # type: ignore[assignment]
    try:
        report = engine.verify_ledger(path)
    finally:
        engine.check_anchors = check  # type: ignore[assignment]
    if not report.ok:
        raise RuntimeError(f"the anchored ledger does not verify: {report.findings[:3]}")
    return [
        Result(
            "anchor.per_sale_p50",
            _ms(percentile(per_sale, 50)),
            "ms",
            ("<=", 5.0),
            f"sign + append + fsync, n={len(per_sale):,}; "
            f"whole sale p50 {_ms(percentile(sale_total, 50)):.2f} ms",
        ),
        Result(
            "anchor.per_sale_p99",
            _ms(percentile(per_sale, 99)),
            "ms",
            note=f"max {_ms(max(per_sale)):.2f} ms",
        ),
        Result(
            f"anchor.close_day_{sizes.close_day_tickets}_tickets",
            _ms(sorted(closures)[len(closures) // 2]),
            "ms",
            ("<=", 50.0),
            "day closure with its anchor, commit included; anchor alone "
            f"{_ms(sorted(closure_anchor)[len(closure_anchor) // 2]):.2f} ms",
        ),
        Result(
            "anchor.verify_extra",
            _ms(sum(check_spent)),
            "ms",
            note=f"ledger against {lines:,} anchor lines, of {report.records:,} records",
        ),
    ]
