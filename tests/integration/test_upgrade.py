"""A newer Comptoir opens a ledger an older one left: it keeps a copy, migrates the schema,
journals the change of version, and every old record still verifies."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from app import __version__
from app.errors import LedgerError
from app.ledger import canonical, migrate, store
from app.ledger.closures import close_day
from app.ledger.db import make_engine
from app.ledger.store import Ledger
from app.ledger.verify.engine import verify_ledger
from tests.conftest import FakeClock
from tests.helpers import ring

OLD_VERSION = "0.0.9"


def _alembic() -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    return config


def _previous_revision() -> str:
    """The schema of the release before this one: the revision under head."""
    script = ScriptDirectory.from_config(_alembic())
    previous = script.get_revision(script.get_current_head()).down_revision
    assert isinstance(previous, str), "head has no single previous revision"
    return previous


def _revision(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        conn.close()


def _records(path: Path) -> list[tuple[int, str, bytes, bytes]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT seq, hash, canonical, signature FROM journal ORDER BY seq"
        ).fetchall()
    finally:
        conn.close()


def _events(path: Path) -> list[dict]:
    return [
        canonical.decode(data)["body"]
        for seq, _hash, data, _sig in _records(path)
        if canonical.decode(data)["type"] == "EVENT"
    ]


def _shop_day(path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """A day of sales and its closure, written by an older version of the software."""
    with monkeypatch.context() as older:
        older.setattr(store, "__version__", OLD_VERSION)
        with Ledger.open(path, clock=clock, operator="test") as ledger:
            ring(ledger, ("Pain", 130, 2, 550))
            ring(ledger, ("Vin", 1150, 1, 2000), ("Pommes", 349, "0.75", 550))
            clock.advance(hours=10)
            with ledger.transaction() as session:
                close_day(session, clock.today, operator="Alice")


def _downgrade(path: Path, revision: str) -> None:
    engine = make_engine(path)
    config = _alembic()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
    engine.dispose()


@pytest.fixture
def old_ledger(ledger_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Path:
    _shop_day(ledger_path, clock, monkeypatch)
    _downgrade(ledger_path, _previous_revision())
    clock.advance(days=1)
    return ledger_path


def _backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.avant-migration-*"))


def test_opening_an_older_ledger_backs_it_up_migrates_and_journals_the_change(
    old_ledger: Path, clock: FakeClock
) -> None:
    previous, head = _previous_revision(), migrate.head_revision()
    assert _revision(old_ledger) == previous
    before = _records(old_ledger)
    assert verify_ledger(old_ledger).ok

    with Ledger.open(old_ledger, clock=clock, operator="test"):
        pass

    assert _revision(old_ledger) == head
    [backup] = _backups(old_ledger)
    stamp = clock.now.strftime("%Y%m%dT%H%M%SZ")
    assert backup.name == f"{old_ledger.name}.avant-migration-{previous}-{stamp}"
    assert _revision(backup) == previous
    assert _records(backup) == before  # the copy is the ledger as it was
    assert verify_ledger(backup).ok

    after = _records(old_ledger)
    assert after[: len(before)] == before  # not one old record touched
    assert len(after) == len(before) + 1
    change = _events(old_ledger)[-1]
    assert change == {
        "code": "VERSION_CHANGE",
        "detail": {
            "previous_version": OLD_VERSION,
            "software_version": __version__,
            "schema_from": previous,
            "schema_to": head,
            "migrations": [head],
            "backup": backup.name,
        },
    }
    report = verify_ledger(old_ledger)
    assert report.ok, report.summary()
    assert report.records == len(after)


def test_the_next_opening_changes_nothing(old_ledger: Path, clock: FakeClock) -> None:
    with Ledger.open(old_ledger, clock=clock, operator="test"):
        pass
    migrated = _records(old_ledger)
    clock.advance(minutes=5)
    with Ledger.open(old_ledger, clock=clock, operator="test"):
        pass
    assert _records(old_ledger) == migrated
    assert len(_backups(old_ledger)) == 1


def test_a_new_version_on_the_same_schema_is_journaled_without_a_backup(
    ledger_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _shop_day(ledger_path, clock, monkeypatch)
    with Ledger.open(ledger_path, clock=clock, operator="test"):
        pass
    assert _backups(ledger_path) == []
    assert _events(ledger_path)[-1] == {
        "code": "VERSION_CHANGE",
        "detail": {"previous_version": OLD_VERSION, "software_version": __version__},
    }
    assert verify_ledger(ledger_path).ok


def test_a_new_ledger_journals_no_version_change(ledger_path: Path, clock: FakeClock) -> None:
    with Ledger.open(ledger_path, clock=clock, operator="test"):
        pass
    with Ledger.open(ledger_path, clock=clock, operator="test"):
        pass
    assert [event["code"] for event in _events(ledger_path)] == ["LEDGER_CREATED"]
    assert _backups(ledger_path) == []


def test_a_failed_migration_leaves_the_ledger_as_it_was_and_names_the_copy(
    old_ledger: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _records(old_ledger)

    def broken(_engine: object) -> bool:
        raise RuntimeError("disk full")

    monkeypatch.setattr(migrate, "upgrade", broken)
    with pytest.raises(LedgerError) as raised:
        Ledger.open(old_ledger, clock=clock, operator="test")
    [backup] = _backups(old_ledger)
    assert str(backup) in raised.value.message
    assert _revision(old_ledger) == _previous_revision()
    assert _records(old_ledger) == before
