"""The archive viewer over a large ledger: time to the first rows, scrolling to the end
and to the middle, a type filter, a full-scan filter, a record's detail, and the memory
the viewer adds. It runs in a fresh process (offscreen Qt) so that the memory figures
are the viewer's own, not what earlier benchmarks left behind.

It uses the cached 1,000,000-record ledger of the verification benchmark when it exists
and never generates it (that takes the better part of an hour); without it, it falls
back to the 50,000-record ledger (generated if missing) and says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks import cache
from benchmarks.common import Result, log

BIG = 1_000_000
FALLBACK = 50_000

PROBE = r"""
import json, resource, sys, time
from pathlib import Path
from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QAbstractItemView, QApplication

app = QApplication(sys.argv)
from app.ledger.store import Ledger
from app.ui.archive_viewer import ArchiveViewer
from app.ui.context import AppContext


def rss_kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def reset_peak():
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def paint(viewer):
    viewer.table.viewport().repaint()
    app.processEvents()


def settle(viewer):
    viewer.filters.flush()
    while viewer.searching:
        app.processEvents()
        time.sleep(0.002)
    paint(viewer)


out = {}
app.processEvents()
base = rss_kib("VmRSS")
out["peak_reset"] = reset_peak()
t0 = time.perf_counter()
ledger = Ledger.open(Path(sys.argv[1]), kind=None, readonly=True)
viewer = ArchiveViewer(AppContext(ledger, None))
viewer.resize(1110, 770)
viewer.show()
app.processEvents()
paint(viewer)
model = viewer.model
assert model.rowCount() > 0 and model.row_at(0).seq == 1
out["first_rows_s"] = time.perf_counter() - t0
out["rows"] = model.rowCount()

t0 = time.perf_counter()
viewer.table.scrollToBottom()
paint(viewer)
out["scroll_end_s"] = time.perf_counter() - t0
assert model.row_at(model.rowCount() - 1).seq == out["rows"]

t0 = time.perf_counter()
middle = model.rowCount() // 2
viewer.table.scrollTo(model.index(middle, 0), QAbstractItemView.ScrollHint.PositionAtCenter)
paint(viewer)
out["scroll_middle_s"] = time.perf_counter() - t0

t0 = time.perf_counter()
viewer.table.selectRow(middle)
app.processEvents()
assert viewer.detail is not None and viewer.detail.seq == model.seq_at(middle)
out["detail_s"] = time.perf_counter() - t0
out["signature"] = viewer.detail.signature_status.value

t0 = time.perf_counter()
viewer.filters.set_type_group("Tickets")
settle(viewer)
out["type_filter_s"] = time.perf_counter() - t0
out["tickets"] = model.rowCount()

t0 = time.perf_counter()
viewer.table.scrollToBottom()
paint(viewer)
out["filtered_scroll_end_s"] = time.perf_counter() - t0

t0 = time.perf_counter()
viewer.filters.set_type_group(None)
viewer.filters.operator.setCurrentText("Gérant")
settle(viewer)
out["scan_filter_s"] = time.perf_counter() - t0
out["scan_rows"] = model.rowCount()

out["rss_added_mib"] = (rss_kib("VmRSS") - base) / 1024
out["peak_added_mib"] = (rss_kib("VmHWM") - base) / 1024
print("RESULT " + json.dumps(out), flush=True)
"""


def _cached(records: int) -> bool:
    stem = cache.CACHE_DIR / f"ledger-v{cache.CACHE_VERSION}-{records}"
    return all(Path(f"{stem}{ext}").exists() for ext in (".sqlite", ".pem", ".json"))


def bench_viewer(ctx) -> list[Result]:  # type: ignore[no-untyped-def]
    records = BIG if not ctx.quick and _cached(BIG) else FALLBACK
    note = ""
    if records != BIG and not ctx.quick:
        note = f"; the {BIG:,}-record ledger is not cached: measured on {records:,} records"
        log(f"viewer: no cached {BIG:,}-record ledger, using {records:,} records")
    cached = ctx.shared.get("cached")
    if cached is None or cached.records != records:
        cached = cache.get_ledger(records)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(cached.path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"viewer probe failed: {done.stderr[-2000:]}")
    got = json.loads(lines[-1].removeprefix("RESULT "))
    log(f"viewer: {got}")
    label = f"viewer.{records // 1000}k"
    peak = "peak since the viewer opened" if got["peak_reset"] else "process peak"
    return [
        Result(
            f"{label}.first_rows",
            got["first_rows_s"] * 1000,
            "ms",
            ("<=", 1000.0),
            f"open the ledger read-only, build the screen, paint the first rows{note}",
        ),
        Result(f"{label}.scroll_to_end", got["scroll_end_s"] * 1000, "ms", ("<=", 200.0)),
        Result(f"{label}.scroll_to_middle", got["scroll_middle_s"] * 1000, "ms", ("<=", 200.0)),
        Result(
            f"{label}.record_detail",
            got["detail_s"] * 1000,
            "ms",
            note=f"receipt as printed + signature check ({got['signature']})",
        ),
        Result(
            f"{label}.type_filter",
            got["type_filter_s"] * 1000,
            "ms",
            ("<=", 3000.0),
            f"Tickets: {got['tickets']:,} rows, then painted (searched off the GUI thread)",
        ),
        Result(
            f"{label}.filtered_scroll_to_end",
            got["filtered_scroll_end_s"] * 1000,
            "ms",
            ("<=", 200.0),
        ),
        Result(
            f"{label}.operator_filter_full_scan",
            got["scan_filter_s"] * 1000,
            "ms",
            note=f"reads every record ({got['scan_rows']:,} rows match); OS cache as found",
        ),
        Result(
            f"{label}.memory_added",
            got["peak_added_mib"],
            "MiB",
            ("<=", 150.0),
            f"{peak}, over a process with Qt and the app imported; "
            f"{got['rss_added_mib']:.0f} MiB still held at the end",
        ),
    ]
