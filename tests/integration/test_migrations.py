"""Alembic migrations bring an empty database to the current schema."""

from __future__ import annotations

import sqlite3

from sqlalchemy import inspect

from app.ledger import migrate
from app.ledger.db import make_engine
from app.ledger.models import FISCAL_TABLES
from app.models_all import metadata


def test_empty_database_upgrades_to_head_with_triggers(tmp_path) -> None:
    engine = make_engine(tmp_path / "empty.sqlite")
    assert migrate.current_revision(engine) is None
    assert migrate.upgrade(engine) is True
    assert migrate.current_revision(engine) == migrate.head_revision() == migrate.HEAD_REVISION
    assert migrate.upgrade(engine) is False
    tables = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables
    engine.dispose()
    conn = sqlite3.connect(tmp_path / "empty.sqlite")
    triggers = {
        row[0] for row in conn.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
    }
    conn.close()
    assert triggers == set(FISCAL_TABLES)


def test_models_match_the_migrations(tmp_path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(tmp_path / "diff.sqlite")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []
