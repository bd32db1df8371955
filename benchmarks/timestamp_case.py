"""Date certaine: what time-stamping a day closure costs, against a local RFC 3161
authority (tests/tsa.py: ``openssl ts -reply`` behind HTTP on 127.0.0.1), and what the
tokens add to ``comptoir verify``.

The stamping of one closure is split into the round trip to the authority (the HTTP
exchange and openssl's signature: what a real authority replaces by its own) and the
rest, which is the product's own cost: the request, the offline check of the token and
its commit (fsync) into the ledger.
"""

from __future__ import annotations

import tempfile
import time
from datetime import date, timedelta
from datetime import time as clock_time
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING, Any

from app.ledger.closures import close_day
from app.ledger.timestamps.queue import set_tsa_url
from app.ledger.verify.engine import verify_ledger
from app.ledger.verify.timestamps import time_stamp_findings
from app.timestamping.client import post_query
from app.timestamping.service import stamp_pending
from benchmarks.common import MANAGER, BenchClock, Result, log, open_ledger, ring_day

if TYPE_CHECKING:
    from benchmarks.cases import Context

TICKETS_PER_DAY = 200


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def bench_timestamp(ctx: Context) -> list[Result]:
    from tests.tsa import LocalTsa  # the tests' own authority

    days = 20 if ctx.quick else 365
    path = ctx.workdir / "timestamps.sqlite"
    clock = BenchClock()
    clock.set_local(date(2025, 1, 1), clock_time(7, 0))
    tsa = LocalTsa(Path(tempfile.mkdtemp(dir=ctx.workdir, prefix="tsa-")))
    ledger = open_ledger(path, clock)
    round_trips: list[float] = []

    def timed_post(url: str, query: bytes, **kwargs: Any) -> bytes:
        t0 = time.perf_counter()
        try:
            return post_query(url, query, **kwargs)
        finally:
            round_trips.append(time.perf_counter() - t0)

    own: list[float] = []  # per token
    trips: list[float] = []  # per token
    try:
        with ledger.transaction() as session:
            set_tsa_url(session, tsa.url, operator=MANAGER)
        log(f"timestamp: {days} days of {TICKETS_PER_DAY} tickets, each closure stamped")
        for n in range(days):
            day = date(2025, 1, 1) + timedelta(days=n)
            ring_day(ledger, clock, day, TICKETS_PER_DAY, ctx.sales, close=False)
            clock.set_local(day, clock_time(20, 0))
            with ledger.transaction() as session:
                close_day(session, day, operator=MANAGER)
            round_trips.clear()
            t0 = time.perf_counter()
            outcome = stamp_pending(ledger, post=timed_post)
            total = time.perf_counter() - t0
            count = len(outcome.stamped)  # a month closure of the morning comes along
            if outcome.error or not count or len(round_trips) != count:
                raise RuntimeError(f"stamping failed: {outcome.summary()}")
            own.extend([(total - sum(round_trips)) / count] * count)
            trips.extend(round_trips)
    finally:
        ledger.close()
        tsa.stop()

    t0 = time.perf_counter()
    findings, _ = time_stamp_findings(str(path))
    tokens_s = time.perf_counter() - t0
    tokens = len(own)
    if findings:
        raise RuntimeError(f"tokens do not verify: {findings[0].message}")
    t0 = time.perf_counter()
    report = verify_ledger(path, workers=1)
    verify_s = time.perf_counter() - t0
    if not report.ok:
        raise RuntimeError(f"verify failed: {report.summary()}")
    return [
        Result(
            "timestamp.close_day_own_cost",
            _ms(median(own)),
            "ms",
            ("<=", 50.0),
            f"median of {len(own)} closures: request, offline check of the token, commit; "
            "the round trip to the authority aside",
        ),
        Result(
            "timestamp.close_day_round_trip",
            _ms(median(trips)),
            "ms",
            None,
            "median HTTP round trip to the local authority (openssl ts -reply per request)",
        ),
        Result(
            "timestamp.verify_tokens",
            _ms(tokens_s),
            "ms",
            None,
            f"verify's token check over {tokens} stamped closures "
            f"({_ms(tokens_s / tokens)} ms a token); whole verify of the ledger "
            f"({report.records} records, 1 worker): {_ms(verify_s)} ms",
            extra={"per_token_ms": _ms(tokens_s / tokens), "verify_ms": _ms(verify_s)},
        ),
    ]
