"""Command line of the benchmarks. Imports only the standard library at import time:
``main`` sets up a temporary data folder before anything from ``app`` is imported (and
worker processes spawned by the verification re-import this module cheaply)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

NAMES = (
    "record",
    "size",
    "close_day",
    "close_year",
    "verify",
    "history",
    "till",
    "invoice",
    "outbox",
    "ereporting",
    "archive",
    "audit",
    "viewer",
    "bundle",
    "central",
    "card",
    "timestamp",
    "anchor",
    "demo",
)
RESULTS_JSON = Path(__file__).resolve().parent / "results.json"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Comptoir ledger benchmarks (real code paths, temporary data folder).",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes, for a smoke run (minutes)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=NAMES,
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(NAMES)}",
    )
    parser.add_argument(
        "--json", type=Path, default=RESULTS_JSON, help=f"results file (default {RESULTS_JSON})"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a target is missed"
    )
    return parser.parse_args(argv)


def _isolate(data_dir: Path) -> None:
    """Must run before ``app`` is imported: a throw-away data folder, no OS keyring
    (the signing keys then live in files in that folder)."""
    os.environ["COMPTOIR_DATA_DIR"] = str(data_dir)
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    os.environ.pop("COMPTOIR_DB", None)
    # Expected here: "no keyring, the key is kept in a file".
    logging.getLogger("app.ledger.keys").setLevel(logging.ERROR)


def _table(rows: list[dict[str, Any]]) -> str:
    from benchmarks.common import fmt_number

    header = ("benchmark", "value", "unit", "target", "verdict")
    lines = [
        (
            r["name"],
            fmt_number(r["value"]) if r["value"] is not None else "-",
            r["unit"],
            r["target"]["text"] if r["target"] else "-",
            r["verdict"],
        )
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]

    def fmt(row: tuple[Any, ...]) -> str:
        name, value, unit, target, verdict = (str(cell) for cell in row)
        return "  ".join(
            (
                name.ljust(widths[0]),
                value.rjust(widths[1]),
                unit.ljust(widths[2]),
                target.ljust(widths[3]),
                verdict.ljust(widths[4]),
            )
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(line) for line in lines)])


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    names = [n for n in NAMES if not args.only or n in args.only]
    with tempfile.TemporaryDirectory(prefix="comptoir-bench-") as tmp:
        work = Path(tmp)
        _isolate(work / "data")

        from benchmarks.cases import BENCHMARKS, FULL, QUICK, Context
        from benchmarks.common import calibrate, env_summary, log, watch

        ctx = Context(workdir=work, sizes=QUICK if args.quick else FULL, quick=args.quick)
        rows: list[dict[str, Any]] = []
        errors = 0
        started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        started = time.perf_counter()
        conditions: dict[str, dict[str, float]] = {}
        calibration = {"start": calibrate()}
        for name in names:
            log(f"--- {name}")
            try:
                with watch() as seen:
                    results = BENCHMARKS[name](ctx)
            except Exception as exc:  # report and go on with the others
                errors += 1
                traceback.print_exc()
                rows.append(
                    {
                        "name": name,
                        "value": None,
                        "unit": "",
                        "target": None,
                        "verdict": "ERROR",
                        "note": f"{type(exc).__name__}: {exc}",
                        "extra": {},
                    }
                )
                continue
            rows.extend(result.as_json() for result in results)
            conditions[name] = {k: round(v, 2) for k, v in seen.items()}
            log(f"--- {name} done in {seen['wall_s']:.1f} s")
        calibration["end"] = calibrate()
        payload = {
            "mode": "quick" if args.quick else "full",
            "benchmarks": names,
            "started_at": started_at,
            "duration_seconds": round(time.perf_counter() - started, 1),
            "environment": env_summary(),
            "results": rows,
            "conditions": conditions,
            "calibration_ecdsa_verify_us": {k: round(v, 1) for k, v in calibration.items()},
        }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print()
    print(_table(rows))
    for row in rows:
        if row["note"]:
            print(f"  {row['name']}: {row['note']}")
    print("\nconditions (other_load = CPU used by other processes while it ran):")
    for name, seen in payload["conditions"].items():
        print(
            f"  {name}: {seen['wall_s']:.1f} s wall, {seen['own_cpu_s']:.1f} s CPU, "
            f"other_load {seen['other_load_pct']:.0f}%"
        )
    cal = payload["calibration_ecdsa_verify_us"]
    print(
        f"  machine yardstick, one ECDSA P-256 verify: {cal['start']:.1f} µs at start, "
        f"{cal['end']:.1f} µs at end"
    )
    print(f"\nresults written to {args.json}")
    missed = any(row["verdict"] == "MISS" for row in rows)
    if errors:
        return 2
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
