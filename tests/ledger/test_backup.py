"""Backups taken while the till records sales, their rotation and failures, and restores."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from datetime import time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.ledger import canonical
from app.ledger.anchor import read_anchor
from app.ledger.backup.copies import (
    BackupFailed,
    backup_line,
    backup_now,
    last_backup,
    list_backups,
    save_backup_settings,
)
from app.ledger.backup.restore import RestoreRefused, read_identity, restore_backup
from app.ledger.closures import close_day
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType
from app.ledger.store import Ledger
from app.ledger.verify.engine import verify_ledger
from tests.conftest import FakeClock
from tests.helpers import ring

# Backups and restores copy and read the SQLite file itself; a PostgreSQL ledger is
# refused in plain words (tests/ledger/test_postgresql.py).
pytestmark = pytest.mark.sqlite_only("copies the SQLite file")


def _hashes(path: Path) -> dict[int, str]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return dict(conn.execute("SELECT seq, hash FROM journal"))


def _events(ledger: Ledger, code: str) -> list[dict]:
    with ledger.reader() as session:
        rows = session.scalars(
            select(JournalRecord.canonical)
            .where(JournalRecord.record_type == RecordType.EVENT)
            .order_by(JournalRecord.seq)
        ).all()
    bodies = [canonical.decode(data)["body"] for data in rows]
    return [b["detail"] for b in bodies if b["code"] == code]


def _close_day(ledger: Ledger, clock: FakeClock) -> None:
    day = clock.today
    clock.set_local(day, time(20, 0))
    with ledger.transaction() as session:
        close_day(session, day, operator="Gérant")


def _folder(ledger_path: Path) -> Path:
    return ledger_path.with_name("ledger-sauvegardes")


# -- taking copies --------------------------------------------------------------------
def test_backup_while_sales_are_recorded_then_restore_it(ledger, ledger_path, clock) -> None:
    """A second connection records sales without pause; the copy taken meanwhile is one
    consistent state holding everything committed before it started."""
    stop, warmed_up = threading.Event(), threading.Event()
    recorded: list[int] = []
    errors: list[BaseException] = []

    def sell() -> None:
        try:
            with Ledger.open(ledger_path, clock=clock, operator="caisse 2") as second:
                while not stop.is_set():
                    recorded.append(ring(second, ("Café", 180, 1, 1000)).seq)
                    if len(recorded) >= 30:
                        warmed_up.set()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            warmed_up.set()

    writer = threading.Thread(target=sell)
    writer.start()
    try:
        assert warmed_up.wait(120), "the writer never got going"
        assert not errors
        before = _hashes(ledger_path)  # every record committed before the backup starts
        sales_before = len(recorded)
        result = backup_now(ledger, operator="Gérant")
        while len(recorded) < sales_before + 10 and not errors:  # the till went on selling
            stop.wait(0.01)
    finally:
        stop.set()
        writer.join()
    assert not errors

    assert result.path.parent == _folder(ledger_path)
    assert result.path.name == "ledger-20260302-090000.sqlite"
    copy = _hashes(result.path)
    assert max(before) <= result.last_seq == max(copy)
    assert copy[result.last_seq] == result.last_hash
    assert all(copy[seq] == link for seq, link in before.items())
    assert verify_ledger(result.path).ok
    assert not Path(f"{result.path}-wal").exists()  # one self-contained file
    with ledger.reader() as session:
        status = last_backup(session)
    assert status is not None and status.ok and status.last_seq == result.last_seq
    [event] = _events(ledger, "BACKUP")
    assert event["file"] == result.path.name and event["last_seq"] == result.last_seq

    live_last = max(_hashes(ledger_path))
    ledger.close()
    with pytest.raises(RestoreRefused, match="enregistrement"):
        restore_backup(result.path, ledger_path, operator="Gérant", clock=clock)
    restored = restore_backup(result.path, ledger_path, operator="Gérant", force=True, clock=clock)

    assert restored.lost == live_last - result.last_seq
    assert verify_ledger(ledger_path).ok
    after = _hashes(ledger_path)
    assert all(after[seq] == link for seq, link in before.items())
    assert restored.event_seq == result.last_seq + 1
    assert read_identity(restored.kept_aside).last_seq == live_last


def test_keeps_the_newest_copies_of_this_ledger_only(ledger, ledger_path, clock, tmp_path) -> None:
    folder = _folder(ledger_path)
    folder.mkdir()
    with Ledger.open(tmp_path / "other" / "ledger.sqlite", clock=clock) as other:
        foreign = backup_now(other, operator="x", folder=folder).path  # same name pattern
    notes = folder / "notes.txt"
    notes.write_text("à garder", encoding="utf-8")
    with ledger.transaction() as session:
        save_backup_settings(session, "", 3, operator="Camille")
    made = []
    for _ in range(5):
        ring(ledger)
        clock.advance(minutes=1)
        made.append(backup_now(ledger, operator="Gérant"))

    kept = [c.path for c in list_backups(folder, "ledger", ledger.ledger_id)]
    assert kept == [m.path for m in made[-3:]]
    assert [p.name for p in made[-1].removed] == [made[1].path.name]
    assert foreign.exists() and notes.exists()
    assert [c.last_seq for c in list_backups(folder, "ledger", ledger.ledger_id)] == [
        m.last_seq for m in made[-3:]
    ]


def test_two_copies_in_the_same_second_both_stay(ledger, ledger_path) -> None:
    first = backup_now(ledger, operator="Gérant")
    second = backup_now(ledger, operator="Gérant")
    assert first.path.name == "ledger-20260302-090000.sqlite"
    assert second.path.name == "ledger-20260302-090000-2.sqlite"
    assert first.path.exists() and second.path.exists()


def test_status_line_for_the_z_report(ledger, clock) -> None:
    with ledger.reader() as session:
        assert backup_line(session) == "Dernière sauvegarde : aucune"
    clock.set_local(clock.today, time(19, 5))
    result = backup_now(ledger, operator="Gérant")
    with ledger.reader() as session:
        assert backup_line(session) == f"Dernière sauvegarde : {result.path} (02/03/2026 19:05)"


def test_a_folder_that_cannot_be_written_fails_in_french_and_is_recorded(
    ledger, tmp_path, clock
) -> None:
    good = backup_now(ledger, operator="Gérant")
    clock.advance(minutes=1)
    # A regular file where the folder should be: tests may run as root, who ignores
    # permission bits, so a read-only folder would not do.
    blocked = tmp_path / "clé-usb"
    blocked.write_text("pas un dossier", encoding="utf-8")
    with pytest.raises(BackupFailed, match="n'est pas un dossier") as caught:
        backup_now(ledger, operator="Gérant", folder=blocked)
    assert caught.value.message.startswith("Sauvegarde impossible : ")
    with ledger.reader() as session:
        status = last_backup(session)
        line = backup_line(session)
    assert status is not None and not status.ok
    assert status.error == caught.value.reason and status.path == str(blocked)
    assert line.startswith("Dernière sauvegarde : échec : ")
    assert f"précédente : {good.path}" in line
    assert len(_events(ledger, "BACKUP")) == 1  # only the successful one is journaled

    with pytest.raises(BackupFailed, match="introuvable"):
        backup_now(ledger, operator="Gérant", folder=tmp_path / "débranchée")


def test_a_full_disk_leaves_no_partial_copy(ledger, ledger_path, monkeypatch) -> None:
    def full(source: Path, target: Path) -> None:
        target.write_bytes(b"partial")
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr("app.ledger.backup.copies._copy_database", full)
    with pytest.raises(BackupFailed, match="le disque est plein"):
        backup_now(ledger, operator="Gérant")
    assert list(_folder(ledger_path).iterdir()) == []
    with ledger.reader() as session:
        assert "le disque est plein" in last_backup(session).error


# -- restoring -------------------------------------------------------------------------
def test_restore_refuses_a_copy_that_does_not_verify(ledger, ledger_path, clock) -> None:
    ring(ledger)
    copy = backup_now(ledger, operator="Gérant").path
    ledger.close()
    with closing(sqlite3.connect(copy)) as conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("UPDATE journal SET operator = 'Mallory' WHERE seq = 3")
        conn.commit()
    before = ledger_path.read_bytes()

    with pytest.raises(RestoreRefused, match=r"n'est pas intègre : .*n°3"):
        restore_backup(copy, ledger_path, operator="Gérant", clock=clock)
    garbage = ledger_path.with_name("garbage.sqlite")
    garbage.write_bytes(b"ceci n'est pas une base" * 100)
    with pytest.raises(RestoreRefused, match="n'est pas une sauvegarde lisible"):
        restore_backup(garbage, ledger_path, operator="Gérant", clock=clock)
    assert ledger_path.read_bytes() == before
    assert not list(ledger_path.parent.glob("*avant-restauration*"))


def test_restore_refuses_another_ledger(ledger, ledger_path, clock, tmp_path) -> None:
    with Ledger.open(tmp_path / "ailleurs" / "shop.sqlite", clock=clock) as other:
        foreign = backup_now(other, operator="x").path
    ledger.close()
    with pytest.raises(RestoreRefused, match="autre journal"):
        restore_backup(foreign, ledger_path, operator="Gérant", clock=clock)
    with pytest.raises(RestoreRefused, match="journal de formation"):
        restore_backup(foreign, ledger_path, operator="Gérant", kind="training", clock=clock)


def test_restore_refuses_while_the_ledger_is_open(ledger, ledger_path, clock) -> None:
    copy = backup_now(ledger, operator="Gérant").path
    with pytest.raises(RestoreRefused, match="fermez l'application"):
        restore_backup(copy, ledger_path, operator="Gérant", force=True, clock=clock)
    assert not list(ledger_path.parent.glob("*avant-restauration*"))


def test_a_newer_copy_replaces_an_older_file_without_force(
    ledger, ledger_path, clock, tmp_path
) -> None:
    ring(ledger)
    ledger.close()
    stale = tmp_path / "stale.sqlite"
    with closing(sqlite3.connect(ledger_path)) as src, closing(sqlite3.connect(stale)) as dst:
        src.backup(dst)
    with Ledger.open(ledger_path, clock=clock, create=False) as reopened:
        ring(reopened)
        newer = backup_now(reopened, operator="Gérant")
    for suffix in ("-wal", "-shm"):
        Path(f"{ledger_path}{suffix}").unlink(missing_ok=True)
    stale.replace(ledger_path)  # the file in place went back in time

    result = restore_backup(newer.path, ledger_path, operator="Gérant", clock=clock)

    assert result.lost == 0 and not result.forced and not result.anchor_reset
    assert result.previous_last_seq < newer.last_seq
    assert result.kept_aside is not None and result.kept_aside.exists()
    assert verify_ledger(ledger_path).ok
    assert _hashes(ledger_path)[newer.last_seq] == newer.last_hash


def test_the_latest_copy_restores_without_force(ledger, ledger_path, clock) -> None:
    ring(ledger)
    latest = backup_now(ledger, operator="Gérant")  # its BACKUP event follows the copy
    ledger.close()

    result = restore_backup(latest.path, ledger_path, operator="Gérant", clock=clock)

    assert result.lost == 0 and not result.forced
    assert verify_ledger(ledger_path).ok


def test_a_sale_after_the_copy_still_needs_force(ledger, ledger_path, clock) -> None:
    copy = backup_now(ledger, operator="Gérant")
    ring(ledger)
    ledger.close()
    with pytest.raises(RestoreRefused, match="--force"):
        restore_backup(copy.path, ledger_path, operator="Gérant", clock=clock)


def test_forced_restore_of_an_older_copy_is_journaled_and_verifies(
    ledger, ledger_path, clock
) -> None:
    ring(ledger)
    older = backup_now(ledger, operator="Gérant")
    ring(ledger)
    ring(ledger)
    _close_day(ledger, clock)  # the anchor now names a closure the copy lacks
    closure_seq = read_anchor(ledger.ledger_id).seq
    previous_last = max(_hashes(ledger_path))
    ledger.close()
    clock.set_local(clock.today + timedelta(days=1))

    with pytest.raises(RestoreRefused, match=f"clôture n°{closure_seq} du 02/03/2026"):
        restore_backup(older.path, ledger_path, operator="Gérant", clock=clock)
    result = restore_backup(older.path, ledger_path, operator="Gérant", force=True, clock=clock)

    assert result.forced and result.anchor_reset
    assert result.lost == previous_last - older.last_seq
    assert result.kept_aside.name == "ledger.sqlite.avant-restauration-20260303-090000"
    assert read_identity(result.kept_aside).last_seq == previous_last
    report = verify_ledger(ledger_path)
    assert report.ok, report.findings
    anchor = read_anchor(read_identity(ledger_path).ledger_id)
    assert anchor.seq == result.event_seq == report.last_seq
    with Ledger.open(ledger_path, clock=clock, create=False) as restored:
        [event] = _events(restored, "RESTORE")
    assert event == {
        "backup_file": older.path.name,
        "backup_last_seq": older.last_seq,
        "backup_last_hash": older.last_hash,
        "previous_file": str(result.kept_aside),
        "previous_last_seq": previous_last,
        "lost_records": previous_last - older.last_seq,
        "forced": True,
        "anchor_reset": True,
        "previous_anchor_seq": closure_seq,
    }


def test_a_missing_ledger_is_restored_from_its_copy(ledger, ledger_path, clock) -> None:
    ring(ledger)
    copy = backup_now(ledger, operator="Gérant")
    ledger.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{ledger_path}{suffix}").unlink(missing_ok=True)
    result = restore_backup(copy.path, ledger_path, operator="Gérant", clock=clock)
    assert result.kept_aside is None and result.previous_last_seq is None
    assert verify_ledger(ledger_path).ok
    assert _hashes(ledger_path)[copy.last_seq] == copy.last_hash


def test_an_unreadable_ledger_may_be_replaced_by_any_verified_copy(
    ledger, ledger_path, clock, tmp_path
) -> None:
    with Ledger.open(tmp_path / "ailleurs" / "shop.sqlite", clock=clock) as other:
        ring(other)
        foreign = backup_now(other, operator="x")
    ledger.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{ledger_path}{suffix}").unlink(missing_ok=True)
    ledger_path.write_bytes(b"\x00" * 4096)  # a disk that failed

    result = restore_backup(foreign.path, ledger_path, operator="Gérant", clock=clock)

    assert result.kept_aside.read_bytes() == b"\x00" * 4096
    assert result.previous_last_seq is None
    assert read_identity(ledger_path).ledger_id == read_identity(foreign.path).ledger_id
    assert verify_ledger(ledger_path).ok
