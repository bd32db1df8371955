"""The demo shop: ``comptoir demo --days 7``'s work (a week of sales, closures, invoices
and credit notes, written and signed), and what opening it in the window adds: the
plateforme de démonstration and the card terminal simulator started on 127.0.0.1, then
stopped."""

from __future__ import annotations

import time
from statistics import median

from benchmarks.common import Result


def bench_demo(ctx) -> list[Result]:  # type: ignore[no-untyped-def]
    from app.demo import DemoServices, run_demo
    from app.ledger.store import Ledger

    runs = 1 if ctx.quick else 3
    fill: list[float] = []
    for n in range(runs):
        path = ctx.workdir / f"demo-{n}.sqlite"
        started = time.perf_counter()
        run_demo(path, days=7, with_invoices=True).close()
        fill.append(time.perf_counter() - started)
    services: list[float] = []
    with Ledger.open(path, kind="demo", operator="système") as ledger:
        for _ in range(3 if ctx.quick else 10):
            started = time.perf_counter()
            DemoServices(ledger).start("Gérant").stop()
            services.append(time.perf_counter() - started)
    return [
        Result("demo.week_s", median(fill), "s",
               note=f"run_demo(days=7) with invoices, median of {runs} (informative)"),
        Result("demo.services_start_stop_ms", median(services) * 1000, "ms", ("<=", 500.0),
               note="demo platform and terminal simulator started on 127.0.0.1, then "
               "stopped: what the demo window adds to its opening and closing"),
    ]  # fmt: skip
