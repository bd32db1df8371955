"""Shared fixtures: every test gets its own data folder and no OS keyring.

The ledger suite (``LEDGER_SUITE``) runs each test that uses the ``ledger`` fixture (or
``ledger_target``) twice: on a SQLite file and on a PostgreSQL database of a throwaway
server (tests/pg.py). A test that must stay on SQLite says why with
``@pytest.mark.sqlite_only("reason")``; the reason shows in its id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.ledger.store import Ledger
from tests.pg import TEMPLATE, PgCluster, ServerUnavailable, start_cluster
from tests.tsa import LocalTsa

PARIS = ZoneInfo("Europe/Paris")
BACKENDS = ("sqlite", "postgresql")
LEDGER_SUITE = ("tests/ledger/", "tests/integration/test_tamper.py")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sqlite_only(reason): in the ledger suite, run on SQLite only, for the reason given",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Both backends for the ledger suite; one for the rest (and for ``sqlite_only``)."""
    if "ledger_backend" not in metafunc.fixturenames or _parametrized_by_test(metafunc):
        return
    if not metafunc.definition.nodeid.startswith(LEDGER_SUITE):
        return
    only = metafunc.definition.get_closest_marker("sqlite_only")
    if only is not None:
        reason = only.args[0] if only.args else "SQLite only"
        params = [pytest.param("sqlite", id=f"sqlite-only: {reason}")]
        metafunc.parametrize("ledger_backend", params, indirect=True)
        return
    metafunc.parametrize("ledger_backend", BACKENDS, indirect=True)


def _parametrized_by_test(metafunc: pytest.Metafunc) -> bool:
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if isinstance(names, str):
            names = [name.strip() for name in names.split(",")]
        if "ledger_backend" in names:
            return True
    return False


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(data))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("COMPTOIR_DB", raising=False)
    # Fixture ledgers (the demo, old shops) were recorded on fixed dates and are opened with
    # the real clock: months ahead of their last record. Tests of the clock confirmation
    # itself remove this (see tests/ledger/test_clock_jump.py).
    monkeypatch.setenv("COMPTOIR_CLOCK_JUMP_LIMIT_HOURS", str(200 * 365 * 24))
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


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """The session's PostgreSQL server, started on first use. A server that cannot start
    fails the tests that need it, saying why: they are never skipped."""
    try:
        cluster = start_cluster()
    except ServerUnavailable as exc:
        reason = str(exc)
    else:
        yield cluster
        cluster.stop()
        return
    pytest.fail(f"PostgreSQL test server unavailable: {reason}", pytrace=False)


@pytest.fixture
def pg_url_factory(request: pytest.FixtureRequest) -> Iterator[Callable[..., str]]:
    """``pg_url_factory()``: the URL of a new, empty database (dropped after the test);
    ``pg_url_factory(schema=True)``: one that already has the tables (quicker to open)."""
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    made: list[str] = []

    def make(*, schema: bool = False) -> str:
        made.append(cluster.create_database(template=TEMPLATE if schema else None))
        return cluster.url(made[-1])

    yield make
    for name in made:
        cluster.drop_database(name)


@pytest.fixture
def ledger_backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` unless the test is parametrised (see ``pytest_generate_tests``)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def ledger_target(
    ledger_backend: str, ledger_path: Path, request: pytest.FixtureRequest
) -> Path | str:
    """Where the test's ledger lives: a file's path, or a PostgreSQL URL."""
    if ledger_backend == "sqlite":
        return ledger_path
    return request.getfixturevalue("pg_url_factory")(schema=True)


@pytest.fixture
def ledger(ledger_target: Path | str, clock: FakeClock) -> Iterator[Ledger]:
    with Ledger.open(ledger_target, clock=clock, operator="test") as opened:
        yield opened


@pytest.fixture
def local_tsa(tmp_path: Path) -> Iterator[LocalTsa]:
    """A time-stamping authority on 127.0.0.1 (``openssl ts -reply``): see tests/tsa.py."""
    tsa = LocalTsa(tmp_path / "tsa")
    yield tsa
    tsa.stop()


@pytest.fixture
def closed_port() -> str:
    """The address of an authority that is down: a port nothing listens on."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsr"
