"""An archive's time-stamp: asked for once the archive is journaled, put into the ZIP as
timestamp.tsr, and checked with the archive alone (no ledger, no network)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from datetime import date, time
from pathlib import Path

import pytest

from app.ledger.archive.check import verify_archive
from app.ledger.archive.timestamp import TOKEN_NAME, TOKENS_DIR
from app.ledger.archive.write import create_archive
from app.ledger.closures import close_day, close_pending
from app.ledger.store import Ledger
from app.ledger.timestamps import queue
from app.ledger.timestamps.token import make_request
from app.ledger.verify.engine import verify_ledger
from app.timestamping.service import stamp_pending
from tests.conftest import FakeClock
from tests.helpers import ring
from tests.tsa import reply

OPERATOR = "Gérant"


@pytest.fixture
def year_2025(tmp_path: Path, local_tsa) -> Iterator[Ledger]:
    """A ledger with the fiscal year 2025 closed (on 02/01/2026) and its authority chosen."""
    clock = FakeClock()
    clock.set_local(date(2025, 12, 30))
    with Ledger.open(tmp_path / "shop.sqlite", clock=clock, operator="test") as ledger:
        with ledger.transaction() as session:
            queue.set_tsa_url(session, local_tsa.url, operator=OPERATOR)
        ring(ledger)
        clock.set_local(date(2025, 12, 30), time(19))
        with ledger.transaction() as session:
            close_day(session, date(2025, 12, 30), operator=OPERATOR)
        clock.set_local(date(2026, 1, 2), time(8))
        with ledger.transaction() as session:
            close_pending(session, operator=OPERATOR)
        yield ledger


def _archive(ledger: Ledger) -> Path:
    return create_archive(ledger, "2025", operator=OPERATOR).path


def _replace_token(path: Path, target: Path, token: bytes) -> Path:
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            new.writestr(name, token if name == TOKEN_NAME else old.read(name))
    return target


def test_an_archive_gets_its_token_and_verifies_offline(year_2025, local_tsa, tmp_path) -> None:
    path = _archive(year_2025)
    outcome = stamp_pending(year_2025)
    assert outcome.error is None and outcome.pending == 0
    assert [t.record_type for t in outcome.stamped][-1] == "ARCHIVE"
    assert outcome.archive_warnings == ()
    with zipfile.ZipFile(path) as archive:
        assert TOKEN_NAME in archive.namelist()
    local_tsa.stop()  # offline from here
    report = verify_archive(path)
    assert report.ok, report.findings
    assert "Horodatée le" in report.summary() and "Comptoir Test TSA" in report.summary()
    assert verify_ledger(year_2025.target).ok


def test_a_tampered_archive_token_is_named(year_2025, tmp_path) -> None:
    path = _archive(year_2025)
    stamp_pending(year_2025)
    with zipfile.ZipFile(path) as archive:
        token = bytearray(archive.read(TOKEN_NAME))
    token[-10] ^= 0x01
    forged = _replace_token(path, tmp_path / "forged.zip", bytes(token))
    report = verify_archive(forged)
    assert not report.ok
    assert any(f.file == TOKEN_NAME and "signature" in f.message for f in report.findings)


def test_a_token_of_another_manifest_is_named(year_2025, local_tsa, tmp_path) -> None:
    path = _archive(year_2025)
    stamp_pending(year_2025)
    other = reply(local_tsa.config, make_request(hashlib.sha256(b"autre").hexdigest()).der)
    forged = _replace_token(path, tmp_path / "forged.zip", other)
    report = verify_archive(forged)
    assert [f.file for f in report.findings] == [TOKEN_NAME]
    assert "autre empreinte" in report.findings[0].message


def test_an_archive_written_while_the_authority_is_down_gets_its_token_later(
    year_2025, local_tsa
) -> None:
    local_tsa.mode = "http500"
    path = _archive(year_2025)
    assert stamp_pending(year_2025).pending > 0
    with zipfile.ZipFile(path) as archive:
        assert TOKEN_NAME not in archive.namelist()
    assert verify_archive(path).ok  # an archive without a token is still whole
    report = verify_ledger(year_2025.target)
    assert report.ok and any("En attente d'horodatage" in n for n in report.notices)
    local_tsa.mode = "ok"
    assert stamp_pending(year_2025).pending == 0
    with zipfile.ZipFile(path) as archive:
        assert TOKEN_NAME in archive.namelist()
    assert verify_archive(path).ok


def test_the_closures_tokens_travel_in_the_archive(year_2025, local_tsa, tmp_path) -> None:
    stamp_pending(year_2025)  # the closures of 2025, before the archive is written
    path = _archive(year_2025)
    with zipfile.ZipFile(path) as archive:
        tokens = sorted(n for n in archive.namelist() if n.startswith(TOKENS_DIR))
        manifest = json.loads(archive.read("manifest.json"))
    assert len(tokens) == 3  # the day, the month and the year of 2025
    assert set(tokens) <= set(manifest["files"])
    local_tsa.stop()
    report = verify_archive(path)
    assert report.ok, report.findings
    assert "3 horodatages de clôture vérifiés hors ligne" in report.summary()

    changed = _rewrite(path, tmp_path / "changed.zip", tokens[0], lambda data: data[:-1])
    report = verify_archive(changed)
    assert [f.file for f in report.findings] == [tokens[0]]
    assert "modifié" in report.findings[0].message

    dropped = _rewrite(path, tmp_path / "dropped.zip", tokens[1], None)
    assert any(
        f.file == tokens[1] and "manque" in f.message for f in verify_archive(dropped).findings
    )


def _rewrite(path: Path, target: Path, name: str, change) -> Path:
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(target, "w") as new:
        for member in old.namelist():
            if member != name:
                new.writestr(member, old.read(member))
            elif change is not None:
                new.writestr(member, change(old.read(member)))
    return target


def test_an_archive_written_elsewhere_keeps_its_token_in_the_ledger(year_2025, tmp_path) -> None:
    elsewhere = create_archive(year_2025, "2025", operator=OPERATOR, out_dir=tmp_path / "usb")
    outcome = stamp_pending(year_2025)
    assert outcome.error is None and outcome.pending == 0
    assert len(outcome.archive_warnings) == 1
    assert "n'est pas dans le dossier des archives" in outcome.archive_warnings[0]
    with zipfile.ZipFile(elsewhere.path) as archive:
        assert TOKEN_NAME not in archive.namelist()
    assert verify_ledger(year_2025.target).ok
