"""A ledger put back, cut short or forked is named by the anchors kept outside its file.

Each scenario is what an owner could do with the file alone: copy an earlier state back,
put the application's own backup in place, ring part of a day again after restoring the
morning's copy, go back two days and trade again (closures and tickets then exist twice
with different contents), delete the anchor log and cut the ledger. The chain itself is
sound in every case; the anchors say it is not the chain they saw.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import time, timedelta
from pathlib import Path

import keyring
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from app.ledger import anchor as anchors
from app.ledger import chain
from app.ledger.anchor import Anchor
from app.ledger.backup.copies import backup_now, restore_backup
from app.ledger.central.anchors import central_anchors
from app.ledger.central.service import open_central, upload_to
from app.ledger.central.sync import CENTRAL_ENV
from app.ledger.closures import close_day
from app.ledger.service import verify_and_record
from app.ledger.store import Ledger
from app.ledger.verify.anchors import _hashes
from app.ledger.verify.engine import Report, verify_ledger
from app.ledger.verify.sources import connect
from tests.conftest import FakeClock
from tests.helpers import ring
from tests.integration.test_tamper import tampering
from tests.ledger.test_key_safety import MemoryKeyring


def _snapshot(ledger_path: Path, to: Path) -> Path:
    """A consistent copy of the ledger file, as anyone could take one."""
    with closing(sqlite3.connect(ledger_path)) as src, closing(sqlite3.connect(to)) as dst:
        src.backup(dst)
    return to


def _put_back(copy: Path, ledger_path: Path) -> None:
    """Replace the ledger file by ``copy`` behind the application's back."""
    for suffix in ("-wal", "-shm"):
        Path(f"{ledger_path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(copy, ledger_path)


def _day(ledger: Ledger, clock: FakeClock, sales: int, price: int = 130) -> None:
    for _ in range(sales):
        clock.advance(minutes=5)
        ring(ledger, ("Baguette", price, 1, 550))


def _close(ledger: Ledger, clock: FakeClock) -> None:
    clock.set_local(clock.today, time(20, 0))
    with ledger.transaction() as session:
        close_day(session, clock.today, operator="Gérant")


def _anchor_findings(report: Report) -> list[str]:
    return [f.message for f in report.findings if f.rule == "anchor"]


def _log(ledger_id: str) -> bytes:
    return anchors.log_path(ledger_id).read_bytes()


def test_a_ledger_kept_by_the_application_verifies_with_its_anchors(ledger_path, clock) -> None:
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 3)
        _close(ledger, clock)
        ledger_id = ledger.ledger_id
    report = verify_ledger(ledger_path)
    assert report.ok, report.findings
    last = anchors.read_anchor(ledger_id)
    assert last is not None and last.seq == report.last_seq and last.hash == report.last_hash
    assert anchors.log_path(ledger_id).stat().st_mode & 0o777 == 0o600


def test_rollback_by_file_copy(ledger_path, clock, tmp_path) -> None:
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 3)
    earlier = _snapshot(ledger_path, tmp_path / "earlier.sqlite")
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 2)
    _put_back(earlier, ledger_path)

    report = verify_ledger(ledger_path)

    [message] = _anchor_findings(report)
    assert message.startswith("journal ramené en arrière : il s'arrête à l'enregistrement")
    assert "registre des ancres de ce poste" in message
    assert report.summary().startswith("Journal NON intègre")


def test_rollback_to_the_applications_own_backup(ledger_path, clock) -> None:
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 3)
        copy = backup_now(ledger, operator="Gérant")
        _day(ledger, clock, 2)
        ledger_id = ledger.ledger_id
    assert anchors.beside_path(copy.path).exists()
    _put_back(copy.path, ledger_path)

    report = verify_ledger(ledger_path)
    assert any("ramené en arrière" in m for m in _anchor_findings(report))

    # Even with the log beside the key gone, the anchor on the backup medium speaks.
    anchors.log_path(ledger_id).unlink()
    report = verify_ledger(ledger_path)
    messages = _anchor_findings(report)
    assert any("registre des ancres de ce journal est introuvable" in m for m in messages)
    assert any(f"la sauvegarde {copy.path.name}" in m and "arrière" in m for m in messages)


def test_morning_copy_part_of_the_day_rung_again_and_closed(ledger_path, clock, tmp_path) -> None:
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 3)
    morning = _snapshot(ledger_path, tmp_path / "morning.sqlite")
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 6)
    _put_back(morning, ledger_path)
    with Ledger.open(ledger_path, clock=clock) as ledger:  # the day rung again, with less
        _day(ledger, clock, 2, price=90)
        _close(ledger, clock)

    report = verify_ledger(ledger_path)

    messages = _anchor_findings(report)
    assert any(m.startswith("journal réécrit : l'enregistrement n°") for m in messages), messages
    assert any("Deux versions du journal portent les mêmes numéros" in m for m in messages)


def test_two_days_back_then_normal_trading_and_closures(ledger_path, clock, tmp_path) -> None:
    """The closures of the two days and their tickets then exist twice, with different
    contents and the same numbers, and the new chain is longer than the old one."""
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 2)
        _close(ledger, clock)
        ledger_id = ledger.ledger_id
    day1 = _snapshot(ledger_path, tmp_path / "day1.sqlite")
    first_day = clock.today
    with Ledger.open(ledger_path, clock=clock) as ledger:
        for _ in range(2):
            clock.set_local(clock.today + timedelta(days=1))
            _day(ledger, clock, 2)
            _close(ledger, clock)
    original_head = verify_ledger(ledger_path).last_seq
    _put_back(day1, ledger_path)
    clock.set_local(first_day)
    with Ledger.open(ledger_path, clock=clock) as ledger:
        for _ in range(2):
            clock.set_local(clock.today + timedelta(days=1))
            _day(ledger, clock, 4, price=95)
            _close(ledger, clock)

    report = verify_ledger(ledger_path)

    assert report.last_seq > original_head  # the forged chain went past the anchored one
    messages = _anchor_findings(report)
    assert any(m.startswith("journal réécrit") for m in messages), report.findings
    # The log was never moved onto the forged chain: its last line is the original head.
    assert anchors.read_anchor(ledger_id).seq == original_head


def test_anchor_log_deleted_then_ledger_cut_short(ledger_path, clock) -> None:
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 4)
        _close(ledger, clock)
        ledger_id = ledger.ledger_id
    anchors.log_path(ledger_id).unlink()
    with tampering(ledger_path) as conn:
        for table in ("journal_vat", "journal_payment", "journal"):
            conn.execute(f"DELETE FROM {table} WHERE seq > ?", (5,))

    report = verify_ledger(ledger_path)

    [message] = _anchor_findings(report)
    assert "registre des ancres de ce journal est introuvable" in message
    assert "supprimé ou déplacé" in message


def test_a_log_begun_again_is_remarked(ledger_path, clock) -> None:
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 2)
        ledger_id = ledger.ledger_id
    anchors.log_path(ledger_id).unlink()
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 1)
    report = verify_ledger(ledger_path)
    assert report.ok, report.findings
    assert any("il a été recommencé" in notice for notice in report.notices)


def _rewrite_line(ledger_id: str, index: int, **changes: object) -> None:
    path = anchors.log_path(ledger_id)
    lines = path.read_text().splitlines()
    data = json.loads(lines[index])
    data.update(changes)
    lines[index] = json.dumps(data, sort_keys=True, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")


def test_a_tampered_anchor_line_is_named(ledger_path, clock) -> None:
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 4)
        ledger_id = ledger.ledger_id
    _rewrite_line(ledger_id, 2, hash="ab" * 32)

    report = verify_ledger(ledger_path)

    [message] = _anchor_findings(report)
    assert "dont la signature est fausse : elle a été modifiée ou fabriquée" in message


def test_an_anchor_signed_by_another_key_is_named(ledger_path, clock) -> None:
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 2)
        ledger_id = ledger.ledger_id
        last = anchors.read_anchor(ledger_id)
    stranger = ec.generate_private_key(ec.SECP256R1())
    forged = Anchor(
        ledger_id, last.seq + 10, "cd" * 32, last.ts, chain.key_id_of(stranger.public_key())
    ).signed(stranger)
    with anchors.log_path(ledger_id).open("a") as log:
        log.write(forged.line() + "\n")

    report = verify_ledger(ledger_path)

    [message] = _anchor_findings(report)
    assert "n'est pas signée par une clé de ce journal" in message


def test_a_journaled_restore_is_the_legitimate_way_back(ledger_path, clock) -> None:
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 2)
        copy = backup_now(ledger, operator="Gérant")
        _day(ledger, clock, 3)
        _close(ledger, clock)
        ledger_id = ledger.ledger_id
    before = _log(ledger_id)
    clock.advance(minutes=30)

    result = restore_backup(copy.path, ledger_path, operator="Gérant", force=True, clock=clock)

    after = _log(ledger_id)
    assert after.startswith(before)  # older lines never rewritten
    restore_line = Anchor.parse(after[len(before) :].decode().splitlines()[-1])
    assert restore_line.kind == anchors.RESTORE
    assert (restore_line.seq, restore_line.restored_seq) == (result.event_seq, copy.last_seq)
    report = verify_ledger(ledger_path)
    assert report.ok, report.findings
    assert any("Restauration" in notice for notice in report.notices)
    with Ledger.open(ledger_path, clock=clock) as ledger:  # trading goes on, anchored
        _day(ledger, clock, 2)
    report = verify_ledger(ledger_path)
    assert report.ok, report.findings
    assert anchors.read_anchor(ledger_id).seq == report.last_seq


@pytest.mark.parametrize("how", ["copy", "fork"])
def test_opening_and_verifying_never_write_a_contradicting_anchor(
    ledger_path, clock, tmp_path, how: str
) -> None:
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 2)
        ledger_id = ledger.ledger_id
    earlier = _snapshot(ledger_path, tmp_path / "earlier.sqlite")
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 2 if how == "copy" else 1)
    _put_back(earlier, ledger_path)
    if how == "fork":  # the rolled-back file is written until it is longer than the log
        with Ledger.open(ledger_path, clock=clock) as ledger:
            _day(ledger, clock, 3, price=70)
    log = _log(ledger_id)

    with Ledger.open(ledger_path, clock=clock):
        pass
    report = verify_and_record(ledger_path, clock=clock)

    assert _anchor_findings(report)
    assert _log(ledger_id) == log
    assert verify_ledger(ledger_path).last_seq > 0


def test_a_backup_copy_verified_on_the_shops_computer_is_only_said_older(
    ledger_path, clock
) -> None:
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 2)
        copy = backup_now(ledger, operator="Gérant")
        _day(ledger, clock, 1)
    report = verify_ledger(copy.path)
    assert report.ok, report.findings
    assert any("n'est pas le journal en place" in notice for notice in report.notices)


def test_the_central_server_is_one_more_anchor(ledger_path, clock, tmp_path, monkeypatch) -> None:
    central_path = tmp_path / "central.sqlite"
    open_central(central_path, clock=clock, create=True).close()
    monkeypatch.setenv(CENTRAL_ENV, str(central_path))
    with Ledger.open(ledger_path, clock=clock, till_id="CAISSE-1") as ledger:
        _day(ledger, clock, 2)
    earlier = _snapshot(ledger_path, tmp_path / "earlier.sqlite")
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 2)
        uploaded = upload_to(ledger, central_path)
        ledger_id = ledger.ledger_id
    assert uploaded.records > 0
    elsewhere, notes = central_anchors(ledger_path)
    assert notes == [] and [e.label for e in elsewhere] == ["le serveur central"]
    assert verify_ledger(ledger_path, elsewhere=elsewhere).ok

    _put_back(earlier, ledger_path)
    anchors.log_path(ledger_id).unlink()  # this computer's anchors gone too
    elsewhere, _notes = central_anchors(ledger_path)
    report = verify_ledger(ledger_path, elsewhere=elsewhere)

    messages = _anchor_findings(report)
    assert any(
        "arrière" in m and "le serveur central a reçu l'enregistrement" in m for m in messages
    )


@pytest.fixture
def os_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield keyring.get_keyring()
    keyring.set_keyring(previous)


@pytest.mark.usefixtures("os_keyring")
def test_the_keyring_keeps_the_head_and_never_moves_it_back(ledger_path, clock, tmp_path) -> None:
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 2)
        ledger_id = ledger.ledger_id
    earlier = _snapshot(ledger_path, tmp_path / "earlier.sqlite")
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 2)
    kept = anchors.read_keyring(ledger_id)
    assert kept is not None and kept == anchors.read_anchor(ledger_id)

    _put_back(earlier, ledger_path)
    anchors.log_path(ledger_id).unlink()  # the log gone, the keyring still knows
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 1, price=60)  # a new log starts; the keyring stays ahead
    assert anchors.read_keyring(ledger_id) == kept
    report = verify_ledger(ledger_path)

    messages = _anchor_findings(report)
    assert any("le trousseau de clés du système" in m for m in messages), messages


def test_sparse_and_dense_anchors_are_looked_up_alike(ledger_path, clock) -> None:
    """Anchors far apart (one per transaction of many sales) are looked up one by one,
    close ones read over their range; both find the ledger's own hashes."""
    with Ledger.open(ledger_path, clock=clock) as ledger:
        _day(ledger, clock, 30)
    conn = connect(str(ledger_path))
    try:
        every = dict(conn.execute("SELECT seq, hash FROM journal"))
        sparse = {3, 30, 999}  # 999: beyond the ledger, as in a log of a longer chain
        dense = set(range(5, 20))
        assert _hashes(conn, sparse) == {s: every[s] for s in (3, 30)}
        assert _hashes(conn, dense) == {s: every[s] for s in dense}
    finally:
        conn.close()
