"""Shared pieces: a hand-moved clock, ticket builders, bulk filling, results, timing."""

from __future__ import annotations

import math
import os
import random
import resource
import sqlite3
import sys
import time as _time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event

from app.demo import demo_catalog
from app.ledger.closures import close_day, close_pending
from app.ledger.store import Ledger
from app.sales.cart import Cart, CartLine, Discount
from app.sales.payments import Payment, PaymentMethod
from app.sales.service import record_sale

PARIS = ZoneInfo("Europe/Paris")
OPERATOR = "Bench"
MANAGER = "Gérant"
TILL = "CAISSE-1"


# -- clock ------------------------------------------------------------------------------
class BenchClock:
    """A clock the benchmark moves by hand (same contract as tests' FakeClock)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 1, 1, 8, 0, tzinfo=PARIS).astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def set_local(self, day: date, at: time = time(9, 0)) -> None:
        moment = datetime.combine(day, at, PARIS).astimezone(UTC)
        # A ledger refuses a clock going backwards; never move it back.
        self.now = max(self.now, moment)


# -- results ----------------------------------------------------------------------------
@dataclass
class Result:
    """One measured figure; ``target`` is (operator, threshold) or None (informative)."""

    name: str
    value: float
    unit: str
    target: tuple[str, float] | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "-"
        op, threshold = self.target
        ok = self.value <= threshold if op == "<=" else self.value >= threshold
        return "OK" if ok else "MISS"

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "-"
        op, threshold = self.target
        return f"{op} {fmt_number(threshold)} {self.unit}"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["target"] = (
            None
            if self.target is None
            else {"op": self.target[0], "value": self.target[1], "text": self.target_text}
        )
        data["verdict"] = self.verdict
        return data


def fmt_number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}".replace(",", " ")
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def log(message: str) -> None:
    print(f"[bench {_time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- ledgers ----------------------------------------------------------------------------
def open_ledger(path: Path, clock: BenchClock) -> Ledger:
    return Ledger.open(path, clock=clock, till_id=TILL, operator=MANAGER)


def checkpoint(path: Path) -> None:
    """Fold the WAL into the database file (no ledger connection may be open)."""
    conn = sqlite3.connect(str(path))
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()


def file_size(path: Path) -> int:
    """Database file size plus its WAL, if any."""
    total = path.stat().st_size
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        total += wal.stat().st_size
    return total


def synchronous_level(ledger: Ledger) -> int:
    raw = ledger.engine.raw_connection()
    try:
        return raw.driver_connection.execute("PRAGMA synchronous").fetchone()[0]
    finally:
        raw.close()


@contextmanager
def fast_writes(ledger: Ledger) -> Iterator[None]:
    """For generating data only: the ledger's connections skip fsync (synchronous=OFF)
    and get a large page cache. The app's own settings (FULL) come back on exit, on
    fresh connections."""

    def _fast(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA synchronous=OFF")
        dbapi_conn.execute("PRAGMA cache_size=-262144")

    event.listen(ledger.engine, "connect", _fast)
    ledger.engine.dispose()  # later connections run the app's pragmas, then ours
    try:
        yield
    finally:
        event.remove(ledger.engine, "connect", _fast)
        ledger.engine.dispose()
    assert synchronous_level(ledger) == 2, "synchronous=FULL was not restored"


# -- tickets ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Sale:
    cart: Cart
    payments: tuple[Payment, ...]


def five_line_sales(count: int = 97, seed: int = 2026) -> list[Sale]:
    """Prebuilt 5-line carts from the demo catalogue, each paid by card and cash
    (the cash part tendered with change), so one ticket has 2 payments."""
    rng = random.Random(seed)
    catalog = demo_catalog()
    sales = []
    for _ in range(count):
        cart = Cart()
        for product in rng.sample(catalog, 5):
            if product.weighed:
                qty = Decimal(rng.randint(150, 1500)) / 1000
            else:
                qty = Decimal(rng.choice((1, 1, 2, 3)))
            discount = Discount.percent_of(Decimal(10)) if rng.random() < 0.1 else None
            cart.add(
                CartLine(
                    product.name,
                    product.price_cents,
                    qty,
                    product.vat_rate_bp,
                    discount=discount,
                    ean=product.ean,
                    weighed=product.weighed,
                )
            )
        total = cart.totals().total_cents
        card = total // 2
        rest = total - card
        cash = (rest // 500 + 1) * 500  # next 5 € note: there is change to give
        sales.append(
            Sale(cart, (Payment(PaymentMethod.CARD, card), Payment(PaymentMethod.CASH, cash)))
        )
    return sales


def ring_day(
    ledger: Ledger,
    clock: BenchClock,
    day: date,
    tickets: int,
    sales: Sequence[Sale],
    *,
    per_transaction: int = 5_000,
    close: bool = True,
    first: time = time(8, 0),
    last: time = time(19, 30),
) -> None:
    """One day of business: pending closures, ``tickets`` sales (batched, many per
    transaction) spread between ``first`` and ``last``, then the day closure."""
    clock.set_local(day, time(7, 30))
    with ledger.transaction() as session:
        close_pending(session, operator=MANAGER)
    clock.set_local(day, first)
    span = datetime.combine(day, last) - datetime.combine(day, first)
    step = span / max(tickets, 1)
    done = 0
    while done < tickets:
        batch = min(per_transaction, tickets - done)
        with ledger.transaction() as session:
            for i in range(done, done + batch):
                sale = sales[i % len(sales)]
                record_sale(session, sale.cart, sale.payments, OPERATOR)
                clock.now += step
        done += batch
    if close:
        clock.set_local(day, time(20, 0))
        with ledger.transaction() as session:
            close_day(session, day, operator=MANAGER)


# -- measuring conditions ----------------------------------------------------------------
def _own_cpu() -> float:
    """CPU seconds of this process and of its waited-for children (verify's workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _machine_busy() -> float:
    """CPU seconds the whole machine spent busy since boot (all cores)."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            values = [int(v) for v in handle.readline().split()[1:9]]
    except OSError:
        return math.nan
    idle = values[3] + values[4]
    return (sum(values) - idle) / os.sysconf("SC_CLK_TCK")


@contextmanager
def watch() -> Iterator[dict[str, float]]:
    """Wall time, our CPU time and the CPU time the rest of the machine used meanwhile:
    figures taken while something else was busy are not comparable."""
    out: dict[str, float] = {}
    wall, own, busy = _time.perf_counter(), _own_cpu(), _machine_busy()
    yield out
    out["wall_s"] = _time.perf_counter() - wall
    out["own_cpu_s"] = _own_cpu() - own
    others = (_machine_busy() - busy) - out["own_cpu_s"]
    out["other_load_pct"] = max(0.0, 100 * others / (out["wall_s"] * (os.cpu_count() or 1)))


def calibrate(rounds: int = 3_000, clock: Callable[[], float] = _time.perf_counter) -> float:
    """Microseconds per ECDSA P-256 verification on one core: a yardstick of how fast
    the machine was at the time (verification is mostly this). ``clock``: wall time by
    default; ``time.process_time`` gives the CPU it costs, whatever else the machine does."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    algorithm = ec.ECDSA(utils.Prehashed(hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    digest = bytes(range(32))
    signature = key.sign(digest, algorithm)
    public = key.public_key()
    started = clock()
    for _ in range(rounds):
        public.verify(signature, digest, algorithm)
    return (clock() - started) / rounds * 1e6


def env_summary() -> dict[str, Any]:
    import cryptography
    import sqlalchemy

    return {
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "cryptography": cryptography.__version__,
        "cpus": os.cpu_count(),
        "platform": sys.platform,
        "loadavg": os.getloadavg(),
    }
