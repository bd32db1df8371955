"""A small demo ledger (tickets, day closures, invoices, credit notes) built once per test
process and copied for each test: building it takes seconds, copying it milliseconds."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from functools import lru_cache
from pathlib import Path

import pytest

from app import config
from app.ledger import keys

TODAY = date(2026, 3, 21)  # the demo fills the four days before: Tuesday 17 to Friday 20
DAYS = (date(2026, 3, 17), date(2026, 3, 18), date(2026, 3, 19), date(2026, 3, 20))


@lru_cache(maxsize=1)
def _built() -> tuple[Path, Path, str]:
    from app.demo import run_demo

    work = Path(tempfile.mkdtemp(prefix="comptoir-viewer-demo-"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COMPTOIR_DATA_DIR", str(work / "data"))
        patch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
        ledger = run_demo(work / "demo.sqlite", days=len(DAYS), today=TODAY, with_invoices=True)
        ledger_id = ledger.ledger_id
        ledger.close()
        key = keys._key_file(ledger_id)
    return work / "demo.sqlite", key, ledger_id


def _anchor_log(key: Path, ledger_id: str) -> Path:
    """The demo's anchor log, beside its key (``app.ledger.anchor``)."""
    return key.with_name(f"{ledger_id}.anchors")


def demo_copy(folder: Path, *, with_key: bool = True) -> Path:
    """A fresh copy of the demo ledger in ``folder``; its signing key and its anchor log go
    into the current data folder (this computer is then the shop's), unless ``with_key`` is
    false."""
    source, key, ledger_id = _built()
    dest = folder / "demo.sqlite"
    shutil.copyfile(source, dest)
    if with_key:
        target = config.data_dir() / "keys" / f"{ledger_id}.pem"
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copyfile(key, target)
        target.chmod(0o600)
        shutil.copyfile(_anchor_log(key, ledger_id), target.with_name(f"{ledger_id}.anchors"))
    return dest
