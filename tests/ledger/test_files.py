"""The ledger's files are its owner's only (0600, folders 0700), set when written and put
back at each opening; an interrupted backup or archive leaves nothing behind."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app import config
from app.documents.printing import documents_dir
from app.ledger.anchor import log_path
from app.ledger.archive import write as archive_write
from app.ledger.archive.folder import default_archive_dir
from app.ledger.archive.write import create_archive
from app.ledger.backup.copies import backup_now, default_folder
from app.ledger.files import clean_leftovers, write_private_bytes
from app.ledger.store import Ledger
from tests.helpers import ring
from tests.ledger.test_archive import OPERATOR, shop  # noqa: F401 (a fixture)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_ledger_wal_and_shm_are_private(tmp_path: Path, clock) -> None:
    path = tmp_path / "shop.sqlite"
    with Ledger.open(path, clock=clock) as ledger:
        ring(ledger)
        sidecars = [Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(p.exists() for p in sidecars)
        assert [mode(p) for p in (path, *sidecars)] == [0o600] * 3


def test_backups_archives_anchors_documents_and_keys_are_private(shop) -> None:  # noqa: F811
    ledger, _clock = shop
    copy = backup_now(ledger, operator=OPERATOR).path
    archive = create_archive(ledger, "2026", operator=OPERATOR).path
    pdf = documents_dir(ledger, "tickets") / "essai.pdf"
    write_private_bytes(pdf, b"%PDF-1.7")
    anchor = log_path(ledger.ledger_id)
    key = config.data_dir() / "keys" / f"{ledger.ledger_id}.pem"
    files = {copy, archive, pdf, anchor, key}
    assert {p: mode(p) for p in files} == dict.fromkeys(files, 0o600)
    folders = {
        copy.parent,
        archive.parent,
        pdf.parent,
        pdf.parent.parent,
        anchor.parent,
        key.parent,
    }
    assert {p: mode(p) for p in folders} == dict.fromkeys(folders, 0o700)
    assert copy.parent == default_folder(ledger.path)
    assert archive.parent == default_archive_dir(ledger.path)


def test_modes_are_put_back_at_the_next_opening(shop) -> None:  # noqa: F811
    ledger, clock = shop
    copy = backup_now(ledger, operator=OPERATOR).path
    path = ledger.path
    ledger.close()
    for opened_up in (path, copy, log_path(ledger.ledger_id)):
        opened_up.chmod(0o644)
    copy.parent.chmod(0o755)
    with Ledger.open(path, clock=clock):
        pass
    assert mode(path) == mode(copy) == mode(log_path(ledger.ledger_id)) == 0o600
    assert mode(copy.parent) == 0o700


def test_an_interrupted_archive_leaves_nothing_readable(shop, monkeypatch) -> None:  # noqa: F811
    ledger, _clock = shop
    seen: dict[str, int] = {}

    def killed(target: Path, staging: Path, *args) -> None:
        seen["staging"] = mode(staging)
        raise KeyboardInterrupt  # what a stop in the middle looks like from inside

    monkeypatch.setattr(archive_write, "_write_zip", killed)
    with pytest.raises(KeyboardInterrupt):
        create_archive(ledger, "2026", operator=OPERATOR)
    assert seen["staging"] == 0o700
    assert list(default_archive_dir(ledger.path).iterdir()) == []


def test_the_next_opening_removes_what_a_killed_backup_or_archive_left(shop) -> None:  # noqa: F811
    ledger, clock = shop
    path = ledger.path
    ledger.close()
    gone = dead_pid()
    archives, backups = default_archive_dir(path), default_folder(path)
    archives.mkdir()
    backups.mkdir()
    staging = archives / f".archive-{gone}-k3j4h5"
    staging.mkdir()
    (staging / "journal.csv").write_text("seq;ticket;client\n1;T000001;Café du Coin\n")
    zip_tmp = archives / f".archive-2026-20270104-080500.zip.{gone}.tmp"
    zip_tmp.write_bytes(b"PK\x03\x04 half written")
    copy_tmp = backups / f".shop-20270104-080500.sqlite.{gone}.tmp"
    copy_tmp.write_bytes(b"SQLite format 3\x00")
    alive = archives / f".archive-{os.getppid()}-running"  # another process, still writing
    alive.mkdir()
    kept = archives / "archive-2025-20260102-080000.zip"
    kept.write_bytes(b"PK")
    with Ledger.open(path, clock=clock):
        pass
    assert not staging.exists() and not zip_tmp.exists() and not copy_tmp.exists()
    assert alive.exists() and kept.exists()


def test_a_temporary_is_told_by_the_process_that_wrote_it(tmp_path: Path) -> None:
    """An archive's temporary starts like a staging folder, the year where the pid goes: the
    pid that counts is the one before ``.tmp``; a half-made backup copy's journal goes too."""
    gone, alive = dead_pid(), os.getppid()
    folder = tmp_path / "archives"
    folder.mkdir()
    zip_tmp = folder / f".archive-{alive}-12-20270104-080500.zip.{gone}.tmp"
    copy_journal = folder / f".shop-20270104-080500.sqlite.{gone}.tmp-journal"
    running = folder / f".archive-{alive}-12-20270104-080500.zip.{alive}.tmp"
    for path in (zip_tmp, copy_journal, running):
        path.write_bytes(b"partial")
    assert sorted(clean_leftovers([folder])) == sorted([zip_tmp, copy_journal])
    assert running.exists()
