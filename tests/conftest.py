"""Shared fixtures: every test gets its own data folder and no OS keyring."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.ledger.store import Ledger

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(data))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("COMPTOIR_DB", raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")


class FakeClock:
    """A clock tests move by hand; starts on a Monday morning, shop time."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 9, 0, tzinfo=PARIS).astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def set_local(self, day: date, at: time = time(9, 0)) -> None:
        self.now = datetime.combine(day, at, PARIS).astimezone(UTC)

    @property
    def today(self) -> date:
        return self.now.astimezone(PARIS).date()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.sqlite"


@pytest.fixture
def ledger(ledger_path: Path, clock: FakeClock) -> Iterator[Ledger]:
    with Ledger.open(ledger_path, clock=clock, operator="test") as opened:
        yield opened
