"""Fixtures of the ledger suite's central-ledger tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def central_target(ledger_backend: str, request, tmp_path: Path) -> str | Path:
    """Where the central lives: a SQLite file, or a new PostgreSQL database (the ledger
    suite runs every test on both, see tests/conftest.py)."""
    if ledger_backend == "postgresql":
        return request.getfixturevalue("pg_url_factory")()
    return tmp_path / "central.sqlite"
