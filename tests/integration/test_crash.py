"""SIGKILL at random moments while sales are being recorded never breaks the ledger.

A child process rings sales in a loop on the real clock; the parent kills it with
SIGKILL a random fraction of a second after it starts, again and again on the same
file. After every kill the ledger must verify, ticket numbers must have no gap, and
every ticket the child reported as committed must be there.
"""

from __future__ import annotations

import os
import random
import selectors
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import IO

import pytest

from app.ledger.store import Ledger
from app.ledger.verify.engine import verify_ledger
from tests.helpers import ring

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("crash_child.py")
KILLS = 20
SEED = 20261122
START_TIMEOUT_S = 30.0


def _start(path: Path, stderr: IO[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(path)],
        cwd=ROOT,
        env=os.environ.copy(),  # the test's data folder, where the signing key is
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )


def _first_line(child: subprocess.Popen[str], errors: Path) -> str:
    """Wait for the child's first committed ticket (it has opened the ledger by then)."""
    assert child.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(child.stdout, selectors.EVENT_READ)
        ready = selector.select(START_TIMEOUT_S)
    line = child.stdout.readline() if ready else ""
    if not line:
        child.kill()
        child.wait()
        pytest.fail(f"the child recorded nothing:\n{errors.read_text()}")
    return line


def _ticket_numbers(path: Path) -> list[int]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT number FROM journal WHERE record_type = 'TICKET' ORDER BY number"
        )
        return [number for (number,) in rows]


@pytest.mark.slow
def test_sigkill_while_recording_sales(ledger_path: Path, tmp_path: Path) -> None:
    # Created here, so that every kill lands while sales are being recorded.
    Ledger.open(ledger_path, operator="test").close()
    rng = random.Random(SEED)
    errors = tmp_path / "child-stderr.txt"
    printed: set[int] = set()
    with errors.open("a", encoding="utf-8") as stderr:
        for kill in range(1, KILLS + 1):
            child = _start(ledger_path, stderr)
            try:
                first = _first_line(child, errors)
                time.sleep(rng.uniform(0.05, 0.4))
                child.send_signal(signal.SIGKILL)
                rest, _ = child.communicate(timeout=10)
            finally:
                if child.poll() is None:
                    child.kill()
                    child.wait()
            assert child.returncode == -signal.SIGKILL, errors.read_text()
            printed.update(int(word) for word in (first + rest).split())

            report = verify_ledger(ledger_path, workers=1)
            assert report.ok, f"after kill {kill}: {report.summary()}"
            numbers = _ticket_numbers(ledger_path)
            assert numbers == list(range(1, len(numbers) + 1)), f"gap after kill {kill}"
            missing = printed - set(numbers)
            assert not missing, f"committed tickets lost after kill {kill}: {sorted(missing)}"

    assert len(printed) > KILLS
    # The ledger goes on after the last crash, with the next number.
    recorded = len(_ticket_numbers(ledger_path))
    with Ledger.open(ledger_path, operator="test") as ledger:
        assert ring(ledger).number == recorded + 1
    assert verify_ledger(ledger_path, workers=1).ok
