"""Several tills, one central ledger: each till is a process that rings tickets at full
speed into its own SQLite ledger while its background sender (``app.ledger.central.sync``)
uploads them to the one central (PostgreSQL when a throwaway server can be started with
tests/pg.py, else a SQLite file); at the end every till closes its day and the shop day
is closed on the central. The figure is tickets per second for the whole shop, from the
first ticket to the last one received by the central.

``run_shop`` is also what the load test (tests/integration/test_central_load.py) runs,
with small numbers and one till cut off from the central and reconnected twice.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from benchmarks.common import Result, log

if TYPE_CHECKING:
    from benchmarks.cases import Context

PARIS = ZoneInfo("Europe/Paris")
FULL_TICKETS = 10_000
QUICK_TICKETS = 500
TILL_COUNTS = (1, 2, 4)
WAIT_S = 60.0  # how long a till waits for what it expects (a failure while cut off)


class TickClock:
    """A till's clock: one millisecond further at each reading, from 09:00 of ``day``;
    safe to read from the sender's thread too."""

    def __init__(self, day: date) -> None:
        self.base = datetime.combine(day, clock_time(9, 0), PARIS).astimezone(UTC)
        self._ticks = itertools.count()

    def __call__(self) -> datetime:
        return self.base + timedelta(milliseconds=next(self._ticks))

    def evening(self) -> None:
        self.base += timedelta(hours=10)


@dataclass(frozen=True)
class TillPlan:
    name: str
    ledger: str
    tickets: int
    cuts: tuple[tuple[int, int], ...] = ()  # (from ticket, to ticket): no central between
    upload_gap: float = 2.0  # the sender's least time between two uploads (as in the app)


@dataclass(frozen=True)
class TillOutcome:
    name: str
    ledger_id: str
    last_seq: int
    ring_s: float
    failures_per_cut: tuple[int, ...]
    retries: int  # final uploads tried again (the central busy with the other tills)


def till_process(plan: TillPlan, central: str, day: str, data_dir: str, out: Any) -> None:
    """A till in its own process (started with ``spawn``): ring, upload, close the day."""
    os.environ["COMPTOIR_DATA_DIR"] = data_dir
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    try:
        out.put(_run_till(plan, central, date.fromisoformat(day)))
    except BaseException as exc:  # the parent reports it; the exit code says it too
        out.put(f"{plan.name}: {type(exc).__name__}: {exc}")
        raise


def _run_till(plan: TillPlan, central: str, day: date) -> TillOutcome:
    from sqlalchemy.exc import OperationalError

    from app.ledger.central import upload as central_upload
    from app.ledger.central.service import UploadRefused, local_head, open_central, upload_to
    from app.ledger.central.sync import SyncWorker
    from app.ledger.closures import close_day
    from app.ledger.preferences import save_till_id
    from app.ledger.store import Ledger
    from app.sales.service import record_sale
    from benchmarks.common import five_line_sales

    cut = threading.Event()
    failures = [0] * len(plan.cuts)
    current = [-1]

    def refuse_while_cut(what: str) -> None:
        if cut.is_set():
            failures[current[0]] += 1
            raise OperationalError(what, {}, ConnectionRefusedError("coupure du réseau"))

    real_store = central_upload._store_batch

    def store(*args: Any, **kwargs: Any) -> Any:
        refuse_while_cut("upload")  # the network falls in the middle of an upload
        return real_store(*args, **kwargs)

    def opener(target: Any) -> Any:
        refuse_while_cut("connect")
        return open_central(target)

    central_upload._store_batch = store
    sales = five_line_sales()
    clock = TickClock(day)
    with Ledger.open(plan.ledger, clock=clock, till_id=plan.name, operator="bench") as ledger:
        with ledger.transaction() as session:
            save_till_id(session, plan.name, operator="Camille")
        worker = SyncWorker(
            lambda: ledger,
            lambda _ledger: central,
            interval=0.05,
            min_gap=plan.upload_gap,
            max_backoff=0.5,
            opener=opener,
            now=lambda: datetime.now(UTC),
        )
        worker.start()
        started = time.perf_counter()
        connected_at = 1  # the last record written while the central was reachable
        for i in range(plan.tickets):
            for k, (first, last) in enumerate(plan.cuts):
                if i == first:  # cut off once something went through since the last cut
                    _wait(
                        lambda at=connected_at: _received(worker) >= at, "an upload while connected"
                    )
                    current[0] = k
                    cut.set()
                elif i == last:
                    _wait(lambda k=k: failures[k] > 0, "a failed upload while cut off")
                    cut.clear()
                    connected_at = local_head(ledger) + 1
            sale = sales[i % len(sales)]
            with ledger.transaction() as session:
                record_sale(session, sale.cart, sale.payments, "bench")
            worker.wake()
        ring_s = time.perf_counter() - started
        cut.clear()
        clock.evening()
        with ledger.transaction() as session:
            close_day(session, day, operator="bench")
        worker.stop(WAIT_S)
        retries, deadline = 0, time.monotonic() + WAIT_S
        while True:  # the last records, whatever the worker had time for
            try:
                result = upload_to(ledger, central, till_id=plan.name)
                break
            except UploadRefused:
                raise
            except Exception:  # the central busy with the other tills: again
                retries += 1
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        return TillOutcome(
            plan.name,
            ledger.ledger_id,
            result.last_seq,
            ring_s,
            tuple(failures),
            retries,
        )


def _received(worker: Any) -> int:
    """The last record the central acknowledged to this till's sender."""
    result = worker.state.last_result
    return result.last_seq if result is not None else 0


def _wait(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what}")
        time.sleep(0.005)


@dataclass
class ShopRun:
    wall_s: float
    outcomes: dict[str, TillOutcome] = field(default_factory=dict)


def run_shop(
    central: str, folder: Path, plans: list[TillPlan], day: date, data_dir: str
) -> ShopRun:
    """Start one process per till, wait until each has rung, closed and uploaded."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [
        context.Process(target=till_process, args=(plan, central, day.isoformat(), data_dir, queue))
        for plan in plans
    ]
    started = time.perf_counter()
    for process in processes:
        process.start()
    run = ShopRun(0.0)
    errors = []
    try:
        for _ in processes:
            got = queue.get(timeout=3600)
            if isinstance(got, TillOutcome):
                run.outcomes[got.name] = got
            else:
                errors.append(got)
        run.wall_s = time.perf_counter() - started
    finally:
        for process in processes:
            process.join(60)
            if process.is_alive():
                process.kill()
    if errors:
        raise RuntimeError("; ".join(errors))
    bad = [p.exitcode for p in processes if p.exitcode != 0]
    if bad:
        raise RuntimeError(f"till processes ended with {bad}")
    return run


# -- the benchmark -------------------------------------------------------------------------
def _central_backend(ctx: Context) -> tuple[str, Any]:
    """A PostgreSQL database of a throwaway server, else a SQLite file; and the server."""
    try:
        from tests.pg import ServerUnavailable, start_cluster
    except ImportError as exc:
        log(f"central: tests/pg.py unavailable ({exc}); SQLite central")
        return "sqlite", None
    try:
        cluster = start_cluster()
    except ServerUnavailable as exc:
        log(f"central: no PostgreSQL server ({exc}); SQLite central")
        return "sqlite", None
    return "postgresql", cluster


def _cuts(tickets: int) -> tuple[tuple[int, int], ...]:
    """Two spells without the central, in tickets rung: 20-35 % and 60-75 % of the day."""
    return (
        (tickets * 20 // 100, tickets * 35 // 100),
        (tickets * 60 // 100, tickets * 75 // 100),
    )


def bench_central(ctx: Context) -> list[Result]:
    from app.ledger.central.service import close_shop_day, open_central, verify_central

    tickets = QUICK_TICKETS if ctx.quick else FULL_TICKETS
    backend, cluster = _central_backend(ctx)
    day = date.today() - timedelta(days=1)
    results = []
    try:
        for count in TILL_COUNTS:
            folder = ctx.workdir / f"central-{count}"
            folder.mkdir()
            if cluster is not None:
                central = cluster.url(cluster.create_database())
            else:
                central = str(folder / "central.sqlite")
            open_central(central, create=True).close()
            # With four tills, the second one loses the central twice while it sells, as
            # in the load test, at full size.
            cuts = _cuts(tickets) if count == 4 else ()
            plans = [
                TillPlan(
                    f"CAISSE-{n}",
                    str(folder / f"caisse-{n}.sqlite"),
                    tickets,
                    cuts if n == 2 else (),
                )
                for n in range(1, count + 1)
            ]
            log(f"central: {count} till(s) × {tickets:,} tickets, {backend} central")
            run = run_shop(central, folder, plans, day, os.environ["COMPTOIR_DATA_DIR"])
            with open_central(central, operator="bench") as shop:
                closed = close_shop_day(shop, day, operator="bench").body
            report = verify_central(central)
            if not report.ok or closed["tickets"] != count * tickets:
                raise RuntimeError(f"central did not verify: {report.summary()}")
            if cuts and not all(run.outcomes["CAISSE-2"].failures_per_cut):
                raise RuntimeError("the cut-off till never noticed the central was gone")
            ring = max(o.ring_s for o in run.outcomes.values())
            where = (
                "PostgreSQL (throwaway test server, fsync=off)"
                if backend == "postgresql"
                else "SQLite (WAL, synchronous=FULL)"
            )
            results.append(
                Result(
                    f"central.{backend}.tills_{count}",
                    count * tickets / run.wall_s,
                    "tickets/s",
                    note=(
                        f"{count} process(es) × {tickets:,} five-line tickets, each in its own "
                        f"SQLite ledger (synchronous=FULL) and uploaded to one {where} "
                        f"central; {run.wall_s:.1f} s to the last upload (ringing "
                        f"{ring:.1f} s); shop day closed and verified"
                        + ("; CAISSE-2 cut off from the central twice" if cuts else "")
                    ),
                    extra={"backend": backend, "tills": count, "tickets_per_till": tickets},
                )
            )
    finally:
        if cluster is not None:
            cluster.stop()
    return results
