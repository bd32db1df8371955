"""Where Comptoir keeps its files."""

from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs

from app import APP_NAME

DB_ENV = "COMPTOIR_DB"
DATA_DIR_ENV = "COMPTOIR_DATA_DIR"
LEDGER_FILENAME = "comptoir.sqlite"
TRAINING_MARK = ".formation"  # shop.sqlite -> shop.formation.sqlite
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def data_dir() -> Path:
    """The per-user data folder (created on demand); COMPTOIR_DATA_DIR overrides it."""
    override = os.environ.get(DATA_DIR_ENV)
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def ledger_path(cli_value: str | os.PathLike[str] | None = None) -> Path | str:
    """The ledger: --db wins, then COMPTOIR_DB, then the data folder. Either a file's path
    or a database URL (``postgresql+psycopg://…``), which is returned as it is given."""
    for value in (cli_value, os.environ.get(DB_ENV)):
        if value and is_url(value):
            return str(value)
        if value:
            return Path(value).expanduser()
    return data_dir() / LEDGER_FILENAME


def is_url(text: object) -> bool:
    """Whether ``text`` is a database URL (``postgresql+psycopg://…``) rather than a path."""
    return isinstance(text, str) and bool(_URL.match(text))


def training_path(real: Path) -> Path:
    """The training ledger that belongs to a real one: a sibling file."""
    return real.with_name(f"{real.stem}{TRAINING_MARK}{real.suffix or '.sqlite'}")


def real_path(training: Path) -> Path | None:
    """The real ledger a training file belongs to (the inverse of ``training_path``), or
    None when the name is not that of a training sibling."""
    if not training.stem.endswith(TRAINING_MARK) or training.stem == TRAINING_MARK:
        return None
    return training.with_name(training.stem.removesuffix(TRAINING_MARK) + training.suffix)
