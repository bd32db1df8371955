"""The auditor's test purchase: the receipt's verification code, read back from the PDF the
till printed, proves or disproves a rewrite of the day with ``comptoir verify --receipt``.

The rewrite is the one a shop holding its own key can make: the ledger file is put back to
the evening before, and the day is rung again through the application itself (real
signatures, a sound chain, closure totals recomputed), minus one sale. Only a paper that
names a record can tell: at its number the ledger now holds another record.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import date, time
from pathlib import Path

import pytest

from app.demo import DEMO_SHOP
from app.documents.printing import output_receipt
from app.ledger.closures import close_day
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from app.sales.payments import PaymentMethod
from tests.conftest import FakeClock
from tests.documents import pdf_text
from tests.helpers import ring

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"C1-[A-Z2-7]{8}-\d+-[A-Z2-7]{16}-[A-Z2-7]{8}")
DAY1, DAY2 = date(2026, 3, 2), date(2026, 3, 3)
# The second day's sales: (minute after 9:00, line); the auditor buys the croissants.
DAY2_SALES = [
    (5, ("Baguette", 130, 2, 550)),
    (12, ("Croissant", 115, 4, 550)),
    (20, ("Café", 180, 1, 1000)),
    (31, ("Jus d'orange", 350, 1, 550)),
]
TEST_PURCHASE = 1


def _verify_receipt(path: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "--db", str(path), "verify", "--receipt", code],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _snapshot(path: Path, to: Path) -> None:
    """A consistent copy of the ledger file (its WAL included), as a backup would be."""
    with closing(sqlite3.connect(path)) as source, closing(sqlite3.connect(to)) as copy:
        source.backup(copy)


def _ring_day2(ledger: Ledger, clock: FakeClock, *, skip: int | None = None) -> None:
    for index, (minute, line) in enumerate(DAY2_SALES):
        if index == skip:
            continue
        clock.set_local(DAY2, time(9, minute))
        sale = ring(ledger, line, method=PaymentMethod.CASH)
        if index == TEST_PURCHASE and skip is None:
            with ledger.transaction() as session:
                output_receipt(session, sale.number, operator="Alice")


def _close(ledger: Ledger, clock: FakeClock, day: date) -> None:
    clock.set_local(day, time(19, 30))
    with ledger.transaction() as session:
        close_day(session, day, operator="Gérant")


@pytest.fixture
def shop(ledger_path: Path, tmp_path: Path) -> tuple[Path, Path, str]:
    """A shop's ledger after two closed days, the copy of its file taken on the first
    evening, and the code read from the test purchase's PDF receipt."""
    clock = FakeClock()
    clock.set_local(DAY1, time(8))
    evening = tmp_path / "evening-copy.sqlite"
    with Ledger.open(ledger_path, clock=clock, operator="test") as ledger:
        with ledger.transaction() as session:
            record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        clock.set_local(DAY1, time(10))
        ring(ledger, ("Pain", 130, 1, 550))
        _close(ledger, clock, DAY1)
        _snapshot(ledger_path, evening)
        _ring_day2(ledger, clock)
        _close(ledger, clock, DAY2)
    (receipt,) = ledger_path.parent.glob("*-documents/tickets/T000003.pdf")
    codes = CODE.findall(pdf_text(receipt.read_bytes()).replace("\n", ""))
    assert len(codes) == 1, "the receipt carries one verification code"
    return ledger_path, evening, codes[0]


def _rewrite_day2(ledger_path: Path, evening: Path, tmp_path: Path, *, skip: int | None) -> None:
    """Put the evening's copy back and ring the day again through the application, with
    the shop's own key (kept in a fresh data folder: nothing else of the old one)."""
    data = Path(os.environ["COMPTOIR_DATA_DIR"])
    forger = tmp_path / "forger-data"
    shutil.copytree(data / "keys", forger / "keys")
    for leftover in ledger_path.parent.glob(f"{ledger_path.name}*"):
        leftover.unlink()
    shutil.copy(evening, ledger_path)
    os.environ["COMPTOIR_DATA_DIR"] = str(forger)  # undone by the test's monkeypatch
    clock = FakeClock()
    clock.set_local(DAY2, time(8))
    with Ledger.open(ledger_path, clock=clock, operator="test", create=False) as ledger:
        _ring_day2(ledger, clock, skip=skip)
        _close(ledger, clock, DAY2)


def test_an_untouched_ledger_confirms_the_test_purchase(shop) -> None:
    ledger_path, _evening, code = shop
    done = _verify_receipt(ledger_path, code)
    assert done.returncode == 0, done.stderr
    assert "CONFORME" in done.stdout and "Ticket T000003" in done.stdout


@pytest.mark.parametrize(
    "skip", [TEST_PURCHASE, 0], ids=["the test purchase dropped", "an earlier sale dropped"]
)
def test_a_day_replayed_minus_a_sale_is_caught_by_the_test_purchase(
    shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, skip: int
) -> None:
    monkeypatch.setenv("COMPTOIR_DATA_DIR", os.environ["COMPTOIR_DATA_DIR"])
    ledger_path, evening, code = shop
    _rewrite_day2(ledger_path, evening, tmp_path, skip=skip)
    done = _verify_receipt(ledger_path, code)
    assert done.returncode == 1, done.stderr
    assert "MODIFIÉ" in done.stdout
    assert "son empreinte n'est pas celle du document" in done.stdout
    assert "Le journal a été réécrit après l'émission du document" in done.stdout


def test_a_ledger_put_back_to_the_evening_before_is_caught(shop) -> None:
    ledger_path, evening, code = shop
    for leftover in ledger_path.parent.glob(f"{ledger_path.name}*"):
        leftover.unlink()
    shutil.copy(evening, ledger_path)
    done = _verify_receipt(ledger_path, code)
    assert done.returncode == 1, done.stderr
    assert "ABSENT" in done.stdout and "tronqué ou ramené en arrière" in done.stdout


def test_an_unreadable_code_exits_2_in_french(shop) -> None:
    ledger_path, _evening, code = shop
    done = _verify_receipt(ledger_path, code[:20])
    assert done.returncode == 2
    assert done.stderr.startswith("Erreur : Code de vérification illisible")
    assert "Traceback" not in done.stderr
