"""The tax-audit pack of a year of 100,000 tickets: verification, closures, events, the
year's archive, the FEC and its A47 A-1 check, signature and ZIP. It runs in a fresh
process so that its peak memory is its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import time as clock_time
from datetime import timedelta
from typing import TYPE_CHECKING

from benchmarks import cache
from benchmarks.archive_case import FULL_RECORDS, YEAR
from benchmarks.common import MANAGER, BenchClock, Result, log, open_ledger

if TYPE_CHECKING:
    from benchmarks.cases import Context

PROBE = r"""
import json, sys, time
from pathlib import Path

def rss_kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0

from app.audit.pack import build_audit_pack
from app.ledger.store import Ledger
from benchmarks.common import MANAGER, BenchClock
from benchmarks import cache
from datetime import time as clock_time, timedelta

clock = BenchClock()
clock.set_local(cache.last_day() + timedelta(days=1), clock_time(9, 0))
base = rss_kib("VmRSS")
try:
    Path("/proc/self/clear_refs").write_text("5")
    reset = True
except OSError:
    reset = False
started = time.perf_counter()
with Ledger.open(Path(sys.argv[1]), clock=clock, till_id="CAISSE-1", operator=MANAGER) as ledger:
    pack = build_audit_pack(ledger, int(sys.argv[2]), Path(sys.argv[3]), operator=MANAGER)
wall = time.perf_counter() - started
size = pack.zip_path.stat().st_size
print("RESULT " + json.dumps({
    "wall_s": wall, "peak_added_mib": (rss_kib("VmHWM") - base) / 1024, "reset": reset,
    "verified": pack.verified, "fec": pack.fec, "files": len(pack.files),
    "zip_mib": size / 2**20,
}))
"""


def bench_audit(ctx: Context) -> list[Result]:
    records = ctx.sizes.verify_records if ctx.quick else FULL_RECORDS
    cached = cache.get_ledger(records)
    path = cache.writable_copy(cached, ctx.workdir / "audit.sqlite")
    clock = BenchClock()
    clock.set_local(cache.last_day() + timedelta(days=1), clock_time(8, 0))
    ledger = open_ledger(path, clock)
    try:  # the shop's identity (the FEC is named after its SIREN) and the year's archive,
        # as a year closure writes it, so that the pack copies it
        from app.demo import DEMO_SHOP
        from app.ledger.archive.write import create_archive
        from app.ledger.settings import record_fiscal_settings

        with ledger.transaction() as session:
            record_fiscal_settings(session, DEMO_SHOP, operator=MANAGER)
        create_archive(ledger, YEAR, operator=MANAGER, out_dir=ctx.workdir / "audit-archives")
    finally:
        ledger.close()
    log(f"audit: the pack of {YEAR} from {cached.records:,} records")
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(path), YEAR, str(ctx.workdir / "audit-pack")],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"audit pack probe failed: {done.stderr[-2000:]}")
    got = json.loads(lines[-1].removeprefix("RESULT "))
    log(f"audit: {got}")
    if not got["verified"]:
        raise RuntimeError("the audit pack's verification failed on a sound ledger")
    label = f"audit.pack.{records // 1000}k_records"
    peak = "peak since the pack started" if got["reset"] else "process peak"
    return [
        Result(
            f"{label}.wall",
            got["wall_s"],
            "s",
            ("<=", 60.0),
            f"full verification, closures, JET, archive copy, FEC + A47 A-1 check, "
            f"signature, ZIP ({got['zip_mib']:.0f} MiB, {got['files']} files)",
        ),
        Result(f"{label}.memory_added", got["peak_added_mib"], "MiB", ("<=", 300.0), peak),
    ]
