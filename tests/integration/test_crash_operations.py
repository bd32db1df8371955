"""SIGKILL in the middle of closures (day, month, year), archives and backups.

Each operation runs as the real command line in a child process (``crash_ops_child.py``)
that stops dead at a chosen point — inside the closure's transaction, with the archive's
readable files staged, with the ZIP half written or complete but not renamed, with the
backup copied but not checked — where the parent kills it with SIGKILL. After every kill,
as at the next start of the application:

- opening the ledger removes what the dead process left (staging folder, temporaries),
  and nothing readable is left behind: no plain CSV, no hidden temporary file;
- the ledger verifies, and the closure is there whole or not at all;
- every archive on disk verifies;

and in the end the operation runs again to completion.
"""

from __future__ import annotations

import os
import selectors
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from datetime import date, time
from pathlib import Path

import pytest

from app.demo import DEMO_SHOP
from app.ledger.archive.check import verify_archive
from app.ledger.closures import close_day, close_month
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from app.ledger.verify.engine import verify_ledger
from app.sales.payments import PaymentMethod
from tests.conftest import FakeClock
from tests.helpers import ring

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("crash_ops_child.py")
START_TIMEOUT_S = 60.0
YEAR = date.today().year - 1  # a year over on the real clock the child runs on
LAST_DAY = f"{YEAR}-12-31"
MONTH = f"{YEAR}-12"


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Sales on the last two days of last year, the first of them closed."""
    # The child runs on the real clock, a year after the sales: no manager to confirm it.
    monkeypatch.setenv("COMPTOIR_CLOCK_JUMP_LIMIT_HOURS", str(24 * 800))
    path = tmp_path / "shop.sqlite"
    clock = FakeClock()
    clock.set_local(date(YEAR, 12, 30), time(8))
    with Ledger.open(path, clock=clock, operator="test") as ledger:
        with ledger.transaction() as session:
            record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        for day in (30, 31):
            for minute in (5, 20, 40):
                clock.set_local(date(YEAR, 12, day), time(9, minute))
                ring(ledger, ("Galette", 1890, 1, 550), method=PaymentMethod.CASH)
            if day == 30:
                clock.set_local(date(YEAR, 12, day), time(19))
                with ledger.transaction() as session:
                    close_day(session, date(YEAR, 12, day), operator="Gérant")
    yield path


def _run(path: Path, point: str, *argv: str) -> subprocess.CompletedProcess[str] | None:
    """Run ``comptoir --db path ARGV`` in a child; with a point, kill it there (None)."""
    command = [sys.executable, str(CHILD), point, "--db", str(path), *argv]
    if point == "none":
        return subprocess.run(
            command,
            cwd=ROOT,
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    child = subprocess.Popen(
        command,
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(child.stdout, selectors.EVENT_READ)
            ready = selector.select(START_TIMEOUT_S)
        line = child.stdout.readline() if ready else ""
        if line.strip() != f"AT {point}":
            child.kill()
            _, errors = child.communicate(timeout=30)
            pytest.fail(f"the child never reached {point}: {line!r}\n{errors}")
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    return None


def _closures(path: Path, rtype: str, period: str) -> int:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return conn.execute(
            "SELECT COUNT(*) FROM journal WHERE record_type = ? AND period = ?", (rtype, period)
        ).fetchone()[0]


def _archive_records(path: Path) -> int:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return conn.execute(
            "SELECT COUNT(*) FROM journal WHERE record_type = 'ARCHIVE'"
        ).fetchone()[0]


def _leftovers(folder: Path) -> list[Path]:
    """Hidden temporaries, staging folders and plain CSV files anywhere under ``folder``."""
    return sorted(
        p for p in folder.rglob("*") if p.name.startswith(".") or p.suffix in (".csv", ".tmp")
    )


def _private(path: Path) -> bool:
    return (path.stat().st_mode & 0o077) == 0


def _after_the_crash(path: Path, point: str) -> list[Path]:
    """What the next start finds: it cleans, the ledger is sound, archives verify.
    Returns what the dead process had left, each kept to its owner until then."""
    folder = path.parent
    left = _leftovers(folder)
    # Each one kept to its owner, or inside a staging folder that is.
    unreadable = [
        p for p in left if _private(p) or any(d in left and _private(d) for d in p.parents)
    ]
    assert unreadable == left, [(p.name, oct(p.stat().st_mode)) for p in left]
    with Ledger.open(path, create=False, operator="test"):
        pass  # the next start: leftovers of the dead process are removed
    assert _leftovers(folder) == [], f"after a kill at {point}"
    report = verify_ledger(path, workers=1)
    assert report.ok, f"after a kill at {point}: {report.summary()}"
    for archive in folder.rglob("*.zip"):
        checked = verify_archive(archive)
        assert checked.ok, f"after a kill at {point}: {archive.name}: {checked.summary()}"
    return left


def _done(path: Path, *argv: str) -> str:
    done = _run(path, "none", *argv)
    assert done is not None and done.returncode == 0, done and done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout + done.stderr


def _closed(path: Path, *, month: bool) -> None:
    """The last day closed (and its month), here: only what is killed runs in a child."""
    with Ledger.open(path, create=False, operator="test") as ledger:
        with ledger.transaction() as session:
            close_day(session, date(YEAR, 12, 31), operator="Gérant")
        if month:
            with ledger.transaction() as session:
                close_month(session, MONTH, operator="Gérant")


@pytest.mark.slow
def test_day_closure_and_its_backup_killed(shop: Path) -> None:
    close = ("close", "--day", LAST_DAY)
    _run(shop, "record:DAY_CLOSURE", *close)
    _after_the_crash(shop, "day closure before its commit")
    assert _closures(shop, "DAY_CLOSURE", LAST_DAY) == 0  # not half there: absent

    # The closure is committed; its backup is killed, copied but not yet checked.
    _run(shop, "call:app.ledger.backup.copies:_check_copy", *close)
    _after_the_crash(shop, "the day closure's backup")
    assert _closures(shop, "DAY_CLOSURE", LAST_DAY) == 1  # whole
    assert not list(shop.parent.rglob("shop-sauvegardes/*.sqlite"))

    refused = _run(shop, "none", *close)
    assert refused is not None and refused.returncode == 2
    assert "Traceback" not in refused.stderr and "déjà" in refused.stderr
    assert "Sauvegarde écrite" in _done(shop, "backup", "create")


@pytest.mark.slow
def test_backup_killed_at_each_step(shop: Path) -> None:
    for point, temporaries in (
        ("partial-copy", {".tmp", ".tmp-journal"}),  # half copied
        ("call:app.ledger.backup.copies:_check_copy", {".tmp"}),  # copied, not checked
        ("replace:.sqlite", {".tmp"}),  # checked and flushed, not renamed
        ("record:EVENT:BACKUP", set()),  # renamed, not journaled
    ):
        _run(shop, point, "backup", "create")
        left = _after_the_crash(shop, point)
        assert {p.name.rsplit(".", 1)[-1] for p in left} == {t[1:] for t in temporaries}
    copies = list(shop.parent.rglob("shop-sauvegardes/*.sqlite"))
    assert len(copies) == 1  # the one renamed before its event: whole, usable
    assert verify_ledger(copies[0], workers=1).ok
    assert "Sauvegarde écrite" in _done(shop, "backup", "create")


@pytest.mark.slow
def test_month_and_year_closures_and_the_years_archive_killed(shop: Path) -> None:
    _closed(shop, month=False)
    _run(shop, "record:MONTH_CLOSURE", "close", "--month", MONTH)
    _after_the_crash(shop, "month closure before its commit")
    assert _closures(shop, "MONTH_CLOSURE", MONTH) == 0
    _done(shop, "close", "--month", MONTH)
    assert _closures(shop, "MONTH_CLOSURE", MONTH) == 1

    year = ("close", "--year", str(YEAR))
    _run(shop, "record:YEAR_CLOSURE", *year)
    _after_the_crash(shop, "year closure before its commit")
    assert _closures(shop, "YEAR_CLOSURE", str(YEAR)) == 0

    # Committed; the archive that follows is killed with its readable files staged.
    _run(shop, "call:app.ledger.archive.write:_write_zip", *year)
    _after_the_crash(shop, "the year's archive, staged")
    assert _closures(shop, "YEAR_CLOSURE", str(YEAR)) == 1
    assert _archive_records(shop) == 0 and not list(shop.parent.rglob("*.zip"))
    assert "inscrit au journal" in _done(shop, "archive", "create", "--year", str(YEAR))
    assert _archive_records(shop) == 1


@pytest.mark.slow
def test_archive_killed_at_each_step(shop: Path) -> None:
    _closed(shop, month=True)
    create = ("archive", "create", "--month", MONTH)
    for point, zipping in (
        ("call:app.ledger.archive.write:_write_zip", False),  # plain CSV files staged
        ("copy:2", True),  # the ZIP half written
        ("replace:.zip", True),  # the ZIP complete, not renamed
    ):
        _run(shop, point, *create)
        left = _after_the_crash(shop, point)
        assert any(p.suffix == ".csv" for p in left), left  # the staging folder
        temporary = [p for p in left if p.suffix == ".tmp"]
        assert bool(temporary) == zipping, left
        assert not list(shop.parent.rglob("*.zip")), point
    _run(shop, "record:ARCHIVE", *create)
    _after_the_crash(shop, "archive written, its record not committed")
    assert _archive_records(shop) == 0
    assert len(list(shop.parent.rglob("*.zip"))) == 1  # whole and signed, verified above

    assert "inscrit au journal" in _done(shop, *create)
    assert _archive_records(shop) == 1
