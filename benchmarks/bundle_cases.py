"""Figures of the desktop bundle (dist/comptoir, built by `make build`): its size on disk
and how long the binary takes to start, run as a shop runs it, without any Python."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from statistics import median

from benchmarks.common import Result, log

BUNDLE = Path(__file__).resolve().parent.parent / "dist" / "comptoir"


def _size_bytes(folder: Path) -> tuple[int, int]:
    """Bytes and files under ``folder``, as `du` counts them (links not followed)."""
    total = files = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            total += os.lstat(Path(root) / name).st_size
            files += 1
    return total, files


def _clean_env(data_dir: Path) -> dict[str, str]:
    """What a shop's session gives the program: no virtualenv, no PYTHONPATH."""
    return {
        "HOME": os.environ.get("HOME", str(data_dir)),
        "LANG": "C.UTF-8",
        "PATH": "/usr/bin:/bin",
        "COMPTOIR_DATA_DIR": str(data_dir),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "QT_QPA_PLATFORM": "offscreen",
    }


def _timed_runs(args: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[1:])} failed: {done.stderr[-2000:]}")
        times.append(elapsed)
    return times


def _small_ledger(ctx) -> Path:  # type: ignore[no-untyped-def]
    """Two demo days (about a hundred records), written by the code in this checkout."""
    from app.demo import run_demo

    path = ctx.workdir / "bundle-verify.sqlite"
    run_demo(path, days=2, seed=2026).close()
    return path


def bench_bundle(ctx) -> list[Result]:  # type: ignore[no-untyped-def]
    binary = BUNDLE / ("comptoir.exe" if os.name == "nt" else "comptoir")
    if not binary.is_file():
        reason = f"skipped: no bundle at {BUNDLE} (run `make build` first)"
        log(f"bundle: {reason}")
        print(f"bundle: {reason}")
        return []
    size, files = _size_bytes(BUNDLE)
    env = _clean_env(Path(os.environ["COMPTOIR_DATA_DIR"]))
    runs = 3 if ctx.quick else 7
    version = _timed_runs([str(binary), "--version"], env, runs)
    ledger = _small_ledger(ctx)
    verify = _timed_runs([str(binary), "--db", str(ledger), "verify"], env, runs)
    log(f"--version: {', '.join(f'{t:.2f}' for t in version)} s")
    log(f"verify: {', '.join(f'{t:.2f}' for t in verify)} s")
    return [
        Result("bundle.size", size / 1_000_000, "MB", note=f"{files} files in {BUNDLE.name}/"),
        Result(
            "bundle.cold_start_version",
            median(version),
            "s",
            note=f"`comptoir --version`, new process (median of {runs}, first {version[0]:.2f} s)",
        ),
        Result(
            "bundle.cold_start_verify_small_ledger",
            median(verify),
            "s",
            note=f"`comptoir verify`, two demo days (median of {runs}, first {verify[0]:.2f} s)",
        ),
    ]
