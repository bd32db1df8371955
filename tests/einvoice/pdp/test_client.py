"""The Flow API client over real HTTP against the sandbox platform on 127.0.0.1, and the
platform settings (environment, shop preferences, keyring)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from functools import cache

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from app.einvoice.facturx import build_invoice_pdf
from app.einvoice.pdp.client import HttpFlowClient
from app.einvoice.pdp.config import (
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    ENV_TOKEN_URL,
    ENV_URL,
    PlatformNotConfigured,
    PlatformSettings,
    load_settings,
    save_settings,
)
from app.einvoice.pdp.flows import sha256_of
from app.einvoice.pdp.platform_http import (
    AlreadyExistingFlow,
    AuthenticationFailed,
    PermanentRejection,
    TransientFailure,
)
from app.einvoice.pdp.sandbox import SandboxPlatform
from app.errors import InvalidInput
from app.ledger.preferences import ShopPreference
from tests.einvoice import sample_bodies as samples

SECRET = "s3cr3t-do-not-leak"


@cache
def invoice_pdf(number: int) -> bytes:
    """A valid Factur-X PDF; each number gives different bytes."""
    envelope, body = samples.multi_rate_goods()
    body = {**body, "number": f"F2026-{number:06d}"}
    return build_invoice_pdf({**envelope, "number": number, "body": body}, body)


@pytest.fixture
def sandbox() -> Iterator[SandboxPlatform]:
    with SandboxPlatform(client_secret=SECRET, lifecycle_step=3600) as platform:
        yield platform


def client_for(sandbox: SandboxPlatform, *, secret: str = SECRET, timeout: float = 5.0):
    settings = PlatformSettings(sandbox.url, sandbox.token_url, "comptoir", secret, timeout)
    return HttpFlowClient(settings)


def submit(client: HttpFlowClient, number: int, tracking_id: str | None = None):
    pdf = invoice_pdf(number)
    return client.submit(
        pdf, filename=f"F{number}.pdf", tracking_id=tracking_id or str(uuid.uuid4()),
        sha256=sha256_of(pdf),
    )  # fmt: skip


def test_submit_then_search_by_tracking_id_and_fetch(sandbox) -> None:
    client = client_for(sandbox)
    assert client.health()
    ref = submit(client, 1, "track-1")
    assert ref.tracking_id == "track-1" and ref.flow_id and ref.submitted_at
    [found] = client.search(tracking_id="track-1")
    assert (found.flow_id, found.flow_type, found.direction) == (
        ref.flow_id,
        "CustomerInvoice",
        "Out",
    )
    assert client.fetch(ref.flow_id) == invoice_pdf(1)
    assert client.search(tracking_id="nobody") == []
    with pytest.raises(PermanentRejection, match="Flux inconnu"):
        client.fetch(str(uuid.uuid4()))


def test_search_pages_through_everything_in_update_order(sandbox) -> None:
    ids = [sandbox.add_incoming(invoice_pdf(n), f"in-{n}.pdf") for n in range(1, 8)]
    flows = client_for(sandbox).search(flow_types=["SupplierInvoice"], direction="In", limit=3)
    assert [f.flow_id for f in flows] == ids
    later = client_for(sandbox).search(updated_after=flows[3].updated_at, limit=2)
    assert [f.flow_id for f in later] == ids[4:]


def test_identical_resubmission_is_already_existing(sandbox) -> None:
    client = client_for(sandbox)
    submit(client, 2, "first")
    with pytest.raises(AlreadyExistingFlow) as caught:
        submit(client, 2, "first")
    assert caught.value.status == 409 and "déjà reçu" in caught.value.message


def test_rejection_keeps_the_platform_message(sandbox) -> None:
    sandbox.reject_next()
    with pytest.raises(PermanentRejection) as caught:
        submit(client_for(sandbox), 3)
    error = caught.value
    assert error.status == 422 and error.platform_message and not sandbox.deposits
    assert error.message.startswith("La plateforme a refusé le fichier : ")
    assert error.platform_message.rstrip(".") in error.message


def test_token_is_cached_then_refreshed_before_expiry(monkeypatch) -> None:
    with SandboxPlatform(client_secret=SECRET, token_ttl=1.0) as sandbox:
        client = client_for(sandbox)
        fetched = []
        original = client._fetch_token
        monkeypatch.setattr(client, "_fetch_token", lambda: fetched.append(1) or original())
        client.search(tracking_id="a")
        client.search(tracking_id="b")
        assert len(fetched) == 1
        time.sleep(1.1)
        client.search(tracking_id="c")
        assert len(fetched) == 2


def test_a_token_refused_midway_is_renewed_once(sandbox) -> None:
    client = client_for(sandbox)
    client.search(tracking_id="warm-up")
    client._token = "revoked"  # the platform forgot it; we still think it valid
    assert client.search(tracking_id="x") == []
    assert client._token != "revoked"


def test_wrong_credentials_say_so_without_the_secret(sandbox) -> None:
    client = client_for(sandbox, secret="wrong-" + SECRET)
    with pytest.raises(AuthenticationFailed) as caught:
        submit(client, 4)
    error = caught.value
    assert "identifiant ou le secret" in error.message
    for text in (str(error), error.detail or "", repr(error), repr(client.settings)):
        assert SECRET not in text
    assert not sandbox.deposits


@pytest.mark.parametrize(
    ("arm", "maybe_delivered", "words"),
    [
        (lambda s: s.throttle_next(1, retry_after=3), False, "patienter"),
        (lambda s: s.fail_next(1, 500, on="submit"), True, "erreur 500"),
        (lambda s: s.set_down(True), False, "erreur 503"),
        (lambda s: s.stall_next(1, 1.0, on="submit"), True, "pas répondu à temps"),
        (lambda s: s.drop_next(1, on="submit"), True, "coupée"),
    ],
    ids=["throttled", "error-500", "down-503", "timeout", "answer-lost"],
)
def test_transient_failures_tell_whether_the_file_may_have_arrived(
    sandbox, arm, maybe_delivered, words
) -> None:
    # Short enough for the stall, long enough for a first validation on a busy machine.
    client = client_for(sandbox, timeout=0.5 if words == "pas répondu à temps" else 5.0)
    client.search(tracking_id="token first")
    arm(sandbox)
    with pytest.raises(TransientFailure) as caught:
        submit(client, 5)
    assert caught.value.maybe_delivered is maybe_delivered
    assert words in caught.value.message
    if words == "patienter":
        assert caught.value.retry_after == 3


def test_closed_port_is_unreachable_and_unhealthy(sandbox) -> None:
    client = client_for(sandbox, timeout=0.5)
    sandbox.set_down(True, refuse=True)
    assert not client.health()
    with pytest.raises(TransientFailure, match="injoignable") as caught:
        submit(client, 6)
    assert not caught.value.maybe_delivered and caught.value.status is None
    sandbox.set_down(False)
    assert client.health()


# -- settings --------------------------------------------------------------------------
class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def _no_platform_env(monkeypatch) -> None:
    for name in (ENV_URL, ENV_TOKEN_URL, ENV_CLIENT_ID, ENV_CLIENT_SECRET):
        monkeypatch.delenv(name, raising=False)


def test_settings_keep_credentials_in_the_keyring_only(ledger, memory_keyring) -> None:
    settings = PlatformSettings(
        "https://pa.example/flow", "https://pa.example/token", "shop", SECRET
    )
    with ledger.transaction() as session:
        assert load_settings(session) is None
        save_settings(session, settings, operator="Camille")
    with ledger.reader() as session:
        assert load_settings(session) == settings
        stored = [row.value for row in session.query(ShopPreference)]
    assert not any(SECRET in value or value == "shop" for value in stored)
    for file in ledger.path.parent.glob(f"{ledger.path.name}*"):  # the WAL too
        assert SECRET.encode() not in file.read_bytes()
    assert memory_keyring.entries[("Comptoir", "pdp-client-secret")] == SECRET
    assert SECRET not in repr(settings)


def test_environment_wins_over_stored_settings(ledger, memory_keyring, monkeypatch) -> None:
    with ledger.transaction() as session:
        save_settings(
            session,
            PlatformSettings("https://a.example", "https://a.example/t", "a", "b"),
            operator="Camille",
        )
    monkeypatch.setenv(ENV_URL, "http://127.0.0.1:9/")
    monkeypatch.setenv(ENV_CLIENT_SECRET, "from-env")
    with ledger.reader() as session:
        settings = load_settings(session)
    assert settings is not None
    assert (settings.base_url, settings.token_url) == ("http://127.0.0.1:9/", "https://a.example/t")
    assert (settings.client_id, settings.client_secret) == ("a", "from-env")


def test_without_keyring_nor_environment_the_message_is_clear(
    ledger, no_keyring, monkeypatch
) -> None:
    settings = PlatformSettings("https://pa.example", "https://pa.example/token", "shop", SECRET)
    with ledger.transaction() as session, pytest.raises(PlatformNotConfigured, match="trousseau"):
        save_settings(session, settings, operator="Camille")
    monkeypatch.setenv(ENV_URL, "https://pa.example")
    monkeypatch.setenv(ENV_TOKEN_URL, "https://pa.example/token")
    with ledger.reader() as session, pytest.raises(PlatformNotConfigured) as caught:
        load_settings(session)
    assert ENV_CLIENT_SECRET in caught.value.message and "trousseau" in caught.value.message
    monkeypatch.setenv(ENV_CLIENT_ID, "shop")
    monkeypatch.setenv(ENV_CLIENT_SECRET, SECRET)
    with ledger.reader() as session:
        assert load_settings(session) == settings


def test_addresses_are_checked() -> None:
    with pytest.raises(InvalidInput, match="plateforme invalide"):
        PlatformSettings("pa.example", "https://pa.example/token", "shop", SECRET)
