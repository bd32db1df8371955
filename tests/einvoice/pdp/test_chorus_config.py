"""Chorus Pro settings: addresses with the shop's preferences, the four logins in the
keyring only, the environment first; training and demo ledgers never get a client."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest

from app.einvoice.pdp.config import (
    CHORUS_SECRETS,
    ChorusSettings,
    PlatformNotConfigured,
    chorus_configured,
    forget_chorus_credentials,
    load_chorus_settings,
    save_chorus_settings,
)
from app.einvoice.pdp.worker import configured_chorus_client
from app.ledger.preferences import ShopPreference
from app.ledger.store import Ledger
from tests.einvoice.pdp.test_client import MemoryKeyring

SECRET, PASSWORD = "piste-s3cr3t-kept-out", "tech-pa55word-kept-out"
STORED = ChorusSettings(
    "https://sandbox-oauth.piste.gouv.fr/api/oauth/token",
    "https://sandbox-api.piste.gouv.fr/cpro",
    "piste-app",
    SECRET,
    "TECH_1_boulangerie@cpro.fr",
    PASSWORD,
)
ENV = {
    "COMPTOIR_CHORUS_URL": "http://127.0.0.1:9/cpro",
    "COMPTOIR_CHORUS_TOKEN_URL": "http://127.0.0.1:9/api/oauth/token",
    "COMPTOIR_CHORUS_CLIENT_ID": "env-app",
    "COMPTOIR_CHORUS_CLIENT_SECRET": "env-secret",
    "COMPTOIR_CHORUS_LOGIN": "TECH_env@cpro.fr",
    "COMPTOIR_CHORUS_PASSWORD": "env-password",
}


@pytest.fixture(autouse=True)
def _no_chorus_env(monkeypatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_logins_go_to_the_keyring_and_addresses_to_the_preferences(ledger, memory_keyring) -> None:
    with ledger.transaction() as session:
        assert load_chorus_settings(session) is None and not chorus_configured(session)
        save_chorus_settings(session, STORED, operator="Camille")
    with ledger.reader() as session:
        assert load_chorus_settings(session) == STORED and chorus_configured(session)
        stored = [row.value for row in session.query(ShopPreference)]
    assert STORED.base_url in stored and STORED.token_url in stored
    assert not any(SECRET in v or PASSWORD in v or "TECH_1" in v for v in stored)
    for file in ledger.path.parent.glob(f"{ledger.path.name}*"):  # the WAL too
        assert SECRET.encode() not in file.read_bytes()
        assert PASSWORD.encode() not in file.read_bytes()
    assert {name for _service, name in memory_keyring.entries} == set(CHORUS_SECRETS)
    assert memory_keyring.entries[("Comptoir", "chorus-account-password")] == PASSWORD
    forget_chorus_credentials()
    assert memory_keyring.entries == {}
    with ledger.reader() as session, pytest.raises(PlatformNotConfigured, match="PISTE"):
        load_chorus_settings(session)


def test_the_environment_wins_value_by_value(ledger, memory_keyring, monkeypatch) -> None:
    with ledger.transaction() as session:
        save_chorus_settings(session, STORED, operator="Camille")
    monkeypatch.setenv("COMPTOIR_CHORUS_URL", ENV["COMPTOIR_CHORUS_URL"])
    monkeypatch.setenv("COMPTOIR_CHORUS_PASSWORD", ENV["COMPTOIR_CHORUS_PASSWORD"])
    with ledger.reader() as session:
        settings = load_chorus_settings(session)
    assert settings is not None
    assert (settings.base_url, settings.token_url) == (ENV["COMPTOIR_CHORUS_URL"], STORED.token_url)
    assert (settings.account_login, settings.account_password) == (
        STORED.account_login,
        ENV["COMPTOIR_CHORUS_PASSWORD"],
    )


def test_without_keyring_the_environment_alone_is_enough(ledger, monkeypatch) -> None:
    monkeypatch.setenv("COMPTOIR_CHORUS_URL", ENV["COMPTOIR_CHORUS_URL"])
    monkeypatch.setenv("COMPTOIR_CHORUS_TOKEN_URL", ENV["COMPTOIR_CHORUS_TOKEN_URL"])
    with ledger.reader() as session, pytest.raises(PlatformNotConfigured) as caught:
        load_chorus_settings(session)  # the test keyring backend always fails
    assert (
        "trousseau" in caught.value.message and "COMPTOIR_CHORUS_PASSWORD" in caught.value.message
    )
    with ledger.transaction() as session, pytest.raises(PlatformNotConfigured, match="trousseau"):
        save_chorus_settings(session, STORED, operator="Camille")
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    client = configured_chorus_client(ledger)
    assert client is not None
    with client:
        assert client.settings.client_secret == "env-secret"


def test_a_missing_token_address_is_named(ledger, monkeypatch) -> None:
    monkeypatch.setenv("COMPTOIR_CHORUS_URL", ENV["COMPTOIR_CHORUS_URL"])
    with ledger.reader() as session, pytest.raises(PlatformNotConfigured, match="PISTE"):
        load_chorus_settings(session)


@pytest.mark.parametrize("kind", ["training", "demo"])
def test_training_and_demo_ledgers_have_no_chorus(tmp_path, clock, monkeypatch, kind) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    with Ledger.open(tmp_path / f"{kind}.sqlite", kind=kind, clock=clock) as ledger:
        assert configured_chorus_client(ledger) is None
