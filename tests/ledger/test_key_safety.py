"""The shop's signing key is never created, replaced nor deleted by opening or verifying a
ledger; a key change is an explicit, journaled operation; a copy of the key can be
exported under a passphrase and imported on another computer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from app import config
from app.errors import InvalidInput, KeyUnavailable
from app.ledger import canonical, keys
from app.ledger.models import JournalRecord
from app.ledger.service import export_key, import_key, verify_and_record
from app.ledger.store import Ledger, _append_key
from app.ledger.verify.engine import verify_ledger
from tests.helpers import ring

PASSPHRASE = "correct cheval pile agrafe"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An OS keyring as a dictionary: what the shop's computer would hold."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.entries[(service, username)]


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    ring_ = MemoryKeyring()
    keyring.set_keyring(ring_)
    yield ring_
    keyring.set_keyring(previous)


def _forge_key_record(target: Path | str, clock) -> None:
    """What a forger with write access does: append a KEY record of their own key, signed by
    it, as the application would (a valid link, an unendorsed key)."""
    forged = ec.generate_private_key(ec.SECP256R1())
    with Ledger.open(target, clock=clock) as ledger:
        ledger.signer = forged
        with ledger.transaction() as session:
            _append_key(session, forged, "inconnu", reason="clé de signature introuvable")


def _records(target: Path | str) -> list[bytes]:
    with Ledger.open(target, kind=None, readonly=True) as ledger, ledger.reader() as session:
        return list(session.scalars(select(JournalRecord.hash).order_by(JournalRecord.seq)))


def _key_files() -> dict[str, bytes]:
    """The keys kept in the keys folder (the anchor log beside them is not a key)."""
    folder = keys.keys_dir()
    if not folder.exists():
        return {}
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.pem"))}


def _key_entries(memory_keyring: MemoryKeyring) -> dict[tuple[str, str], str]:
    """The keyring's key entries (the anchor mirrored beside them is not a key)."""
    return {k: v for k, v in memory_keyring.entries.items() if "signing-key" in k[1]}


def test_forged_key_record_stops_writing_and_leaves_the_key_file_alone(
    ledger_target, clock
) -> None:
    with Ledger.open(ledger_target, clock=clock) as ledger:
        ring(ledger)
        assert ledger.key_storage != "keyring"
    before = _key_files()
    assert len(before) == 1
    clock.advance(minutes=1)
    _forge_key_record(ledger_target, clock)
    # _forge_key_record opened the ledger once more, before the forged record: it is the
    # opening after the forgery that must not touch the key.
    records = _records(ledger_target)
    clock.advance(minutes=1)
    with pytest.raises(KeyUnavailable, match="autre clé de signature") as refused:
        Ledger.open(ledger_target, clock=clock)
    assert "comptoir verify" in refused.value.message
    report = verify_and_record(ledger_target, clock=clock)
    assert [f.rule for f in report.findings] == ["key_unendorsed"]
    assert any("non journalisé" in notice for notice in report.notices)
    assert _key_files() == before  # byte-identical, and no key added beside it
    assert _records(ledger_target) == records  # neither opening nor verifying wrote


@pytest.mark.sqlite_only("the keyring is the same on both backends")
def test_forged_key_record_leaves_the_keyring_entry_untouched(
    ledger_target, clock, memory_keyring: MemoryKeyring
) -> None:
    with Ledger.open(ledger_target, clock=clock) as ledger:
        ring(ledger)
        assert ledger.key_storage == "keyring"
    entries = _key_entries(memory_keyring)
    clock.advance(minutes=1)
    _forge_key_record(ledger_target, clock)
    records = _records(ledger_target)
    anchored = dict(memory_keyring.entries)
    with pytest.raises(KeyUnavailable):
        Ledger.open(ledger_target, clock=clock)
    verify_and_record(ledger_target, clock=clock)
    assert _key_entries(memory_keyring) == entries
    assert memory_keyring.entries == anchored  # neither opening nor verifying wrote
    assert _key_files() == {}
    assert _records(ledger_target) == records


def test_verification_journals_where_the_key_is_present_and_valid(ledger_target, clock) -> None:
    with Ledger.open(ledger_target, clock=clock) as ledger:
        ring(ledger)
    count = len(_records(ledger_target))
    clock.advance(minutes=1)
    report = verify_and_record(ledger_target, clock=clock)
    assert report.ok and report.notices == []
    assert len(_records(ledger_target)) == count + 1  # the VERIFY event, nothing else


def test_rotation_keeps_the_previous_key(ledger: Ledger, clock) -> None:
    old = ledger.signer_key_id
    new = ledger.rotate_key("Gérant", "renouvellement")
    assert keys.load_key(ledger.ledger_id).key_id == new
    kept = keys.keys_dir() / f"{ledger.ledger_id}.{old}.pem"
    assert kept.exists() and kept.stat().st_mode & 0o777 == 0o600


def test_creating_a_key_never_overwrites_one(ledger: Ledger) -> None:
    before = _key_files()
    with pytest.raises(RuntimeError):
        keys.create_key(ledger.ledger_id)
    assert _key_files() == before


# -- export and import ---------------------------------------------------------------------
def test_exported_key_moves_the_shop_to_a_new_computer(
    ledger_target, clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Ledger.open(ledger_target, clock=clock) as ledger:
        ring(ledger)
        key_id = ledger.signer_key_id
    copy = tmp_path / "cle.comptoir-cle"
    export_key(ledger_target, copy, PASSPHRASE, clock=clock)
    assert copy.stat().st_mode & 0o777 == 0o600
    assert b"PRIVATE KEY" in copy.read_bytes() and b"ENCRYPTED" in copy.read_bytes()
    # The new computer: another data folder, no key.
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(tmp_path / "nouveau-poste"))
    clock.advance(minutes=1)
    with pytest.raises(KeyUnavailable):
        Ledger.open(ledger_target, clock=clock)
    with pytest.raises(InvalidInput, match="Phrase de passe incorrecte"):
        import_key(ledger_target, copy, "mauvaise phrase", operator="Gérant")
    assert not (config.data_dir() / "keys").exists()
    assert import_key(ledger_target, copy, PASSPHRASE, operator="Gérant", clock=clock) == key_id
    with Ledger.open(ledger_target, clock=clock) as ledger:
        assert ledger.signer_key_id == key_id
        ring(ledger)
    assert verify_ledger(ledger_target).ok
    with (
        Ledger.open(ledger_target, kind=None, readonly=True) as ledger,
        ledger.reader() as session,
    ):
        codes = [
            canonical.decode(data)["body"].get("code")
            for data in session.scalars(select(JournalRecord.canonical))
        ]
    assert "KEY_IMPORT" in codes


def test_import_refuses_a_key_the_ledger_does_not_name(ledger_target, clock, tmp_path) -> None:
    with Ledger.open(ledger_target, clock=clock) as ledger:
        ledger_id = ledger.ledger_id
    stranger = ec.generate_private_key(ec.SECP256R1())
    copy = tmp_path / "autre.comptoir-cle"
    copy.write_bytes(keys.export_bytes(ledger_id, stranger, PASSPHRASE))
    before = _key_files()
    with pytest.raises(InvalidInput, match="n'est pas celle"):
        import_key(ledger_target, copy, PASSPHRASE, operator="Gérant")
    assert _key_files() == before


def test_export_needs_a_passphrase_of_some_length(ledger: Ledger, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="au moins 8 caractères"):
        export_key(ledger.target, tmp_path / "cle", "court")
    assert not (tmp_path / "cle").exists()
