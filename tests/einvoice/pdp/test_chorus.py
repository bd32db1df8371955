"""The Chorus Pro client over real HTTP against the local fake of PISTE + Chorus Pro."""

from __future__ import annotations

import base64
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests

from app.einvoice.pdp.chorus import (
    ChorusProClient,
    ChorusSettings,
    PasswordExpired,
    WrongAddress,
)
from app.einvoice.pdp.chorus_api import ENDPOINTS
from app.einvoice.pdp.chorus_statuses import PENDING_LABEL
from app.einvoice.pdp.platform_http import (
    AuthenticationFailed,
    PermanentRejection,
    TransientFailure,
)
from app.errors import InvalidInput
from tests.conftest import FakeClock
from tests.einvoice.pdp.chorus_fake import API_PREFIX, FakeChorusPro

CLIENT_SECRET = "piste-s3cr3t-never-shown"
LOGIN = "TECH_1_comptoir@cpro.fr"
PASSWORD = "account-pa55word-never-shown"
ACCOUNT_B64 = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()


def pdf(number: int) -> bytes:
    return b"%PDF-1.7\n% Factur-X F2026-" + str(number).zfill(6).encode() + b"\n%%EOF\n"


@pytest.fixture
def fake() -> Iterator[FakeChorusPro]:
    with FakeChorusPro(client_secret=CLIENT_SECRET, account_login=LOGIN,
                       account_password=PASSWORD) as platform:  # fmt: skip
        yield platform


def client_for(
    fake: FakeChorusPro, settle: timedelta | None = None, **changes: str
) -> ChorusProClient:
    values = {"client_secret": fake.client_secret, "account_password": fake.account_password}
    values.update(changes)
    settings = ChorusSettings(
        fake.token_url, fake.base_url, "comptoir", values["client_secret"], fake.account_login,
        values["account_password"], timeout=5.0,
    )  # fmt: skip
    return ChorusProClient(settings) if settle is None else ChorusProClient(settings, settle=settle)


@pytest.fixture
def client(fake: FakeChorusPro) -> Iterator[ChorusProClient]:
    with client_for(fake) as chorus:
        yield chorus


def submit(client: ChorusProClient, number: int, tracking_id: str | None = None, **kw):
    return client.submit(
        pdf(number), filename=f"F2026-{number:06d}.pdf",
        tracking_id=tracking_id or str(uuid.uuid4()), **kw,
    )  # fmt: skip


def assert_no_secret(*texts: object) -> None:
    for text in texts:
        for secret in (CLIENT_SECRET, PASSWORD, ACCOUNT_B64):
            assert secret not in str(text)


# -- logins ---------------------------------------------------------------------------------
def test_one_token_serves_many_calls(fake, client) -> None:
    assert client.health()
    ref = submit(client, 1)
    client.status(ref)
    client.status(ref)
    assert fake.token_requests == 1


def test_the_fake_wants_a_token_and_the_technical_account(fake) -> None:
    url = fake.base_url + ENDPOINTS.invoices
    form = {"grant_type": "client_credentials", "client_id": "comptoir",
            "client_secret": CLIENT_SECRET, "scope": "openid"}  # fmt: skip
    token = requests.post(fake.token_url, data=form, timeout=5).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    no_scope = {k: v for k, v in form.items() if k != "scope"}
    assert requests.post(fake.token_url, data=no_scope, timeout=5).status_code == 400
    bad_secret = dict(form, client_secret="nope")
    assert requests.post(fake.token_url, data=bad_secret, timeout=5).status_code == 401
    assert requests.post(url, json={}, timeout=5).status_code == 401
    assert requests.post(url, json={}, headers=bearer, timeout=5).status_code == 401
    wrong = base64.b64encode(f"{LOGIN}:nope".encode()).decode()
    with_wrong = {**bearer, "cpro-account": wrong}
    assert requests.post(url, json={}, headers=with_wrong, timeout=5).status_code == 401
    good = {**bearer, "cpro-account": ACCOUNT_B64}
    assert requests.post(url, json={}, headers=good, timeout=5).json()["codeRetour"] == 0
    health = fake.base_url + ENDPOINTS.health
    assert requests.get(health, headers=good, timeout=5).json() == {"status": "UP"}
    assert requests.post(health, json={}, headers=good, timeout=5).status_code == 405
    assert requests.get(url, headers=good, timeout=5).status_code == 405
    fake.subscribed = False
    assert requests.post(url, json={}, headers=good, timeout=5).status_code == 403


def test_an_expired_token_is_renewed_once(fake, client) -> None:
    ref = submit(client, 1)
    fake.expire_tokens()
    assert client.status(ref).code == "IN_EN_ATTENTE_TRAITEMENT_CPP"
    assert fake.token_requests == 2


def test_a_token_near_its_end_is_replaced_before_use() -> None:
    with FakeChorusPro(token_ttl=1.0) as platform, client_for(platform) as client:
        assert client.health()
        time.sleep(0.9)  # past the refresh margin (a fifth of the lifetime), not the expiry
        assert client.health()
        assert platform.token_requests == 2
        assert platform.calls == ["token", "health", "token", "health"]


def test_wrong_technical_account_says_so_in_french(fake) -> None:
    client = client_for(fake, account_password="wrong-" + PASSWORD)
    with client, pytest.raises(AuthenticationFailed) as caught:
        submit(client, 1)
    error = caught.value
    assert "Chorus Pro refuse le compte technique" in error.message
    assert "mot de passe" in error.message
    assert error.status == 401
    assert fake.token_requests == 2  # the token was suspected first, renewed once
    assert fake.deposits == []
    assert_no_secret(error, error.detail, error.platform_message)
    assert "wrong-" + PASSWORD not in f"{error} {error.detail}"


def test_wrong_client_secret_points_at_piste(fake) -> None:
    with client_for(fake, client_secret="wrong-" + CLIENT_SECRET) as client:
        with pytest.raises(AuthenticationFailed) as caught:
            submit(client, 1)
        assert not client.health()
    assert "PISTE refuse l'identifiant ou le secret client" in caught.value.message
    assert_no_secret(caught.value, caught.value.detail)


def test_an_application_without_the_api_subscription(fake, client) -> None:
    fake.subscribed = False
    with pytest.raises(AuthenticationFailed, match="abonnée"):
        submit(client, 1)


def test_a_wrong_api_address(fake) -> None:
    settings = ChorusSettings(fake.token_url, fake.url + "/ailleurs", "comptoir", CLIENT_SECRET,
                              LOGIN, PASSWORD, timeout=5.0)  # fmt: skip
    with ChorusProClient(settings) as client, pytest.raises(WrongAddress, match="adresse"):
        submit(client, 1)


# -- deposits and statuses -------------------------------------------------------------------
def test_deposit_sends_the_facturx_file(fake, client) -> None:
    ref = submit(client, 7, "track-7")
    [deposit] = fake.deposits
    assert (ref.flow_id, ref.tracking_id) == (deposit.flow_id, "track-7")
    assert ref.flow_id.startswith("CPP") and ref.submitted_at
    assert deposit.content == pdf(7) and deposit.filename == "F2026-000007.pdf"
    assert (deposit.syntax, deposit.with_signature, deposit.user_id) == (
        "IN_DP_E2_CII_FACTURX", False, None,
    )  # fmt: skip


def test_same_tracking_id_is_not_deposited_twice(fake, client) -> None:
    assert submit(client, 1, "track") == submit(client, 1, "track")
    assert len(fake.deposits) == 1


def test_statuses_move_on_into_the_apps_words(fake, client) -> None:
    ref = submit(client, 1)
    seen = [client.status(ref)]
    for _ in range(5):
        fake.advance()
        seen.append(client.status(ref))
    assert [s.code for s in seen] == [
        "IN_EN_ATTENTE_TRAITEMENT_CPP", "DEPOSEE", "MISE_A_DISPOSITION", "SERVICE_FAIT",
        "MANDATEE", "MISE_EN_PAIEMENT",
    ]  # fmt: skip
    assert [s.label for s in seen] == [
        PENDING_LABEL, "Déposée", "Mise à disposition", "Service fait", "Mandatée",
        "Mise en paiement",
    ]  # fmt: skip
    assert [s.lifecycle_code for s in seen] == ["200", "200", "203", "205", None, "211"]
    assert [s.final for s in seen] == [False] * 5 + [True]
    code, label, reason = seen[-1]
    assert (code, label, reason) == ("MISE_EN_PAIEMENT", "Mise en paiement", "")


def test_suspension_and_rejection_come_with_the_buyers_reason(fake, client) -> None:
    ref = submit(client, 1)
    fake.advance(ref.flow_id, to="SUSPENDUE", reason="Numéro d'engagement manquant")
    assert client.status(ref) == ("SUSPENDUE", "Suspendue", "Numéro d'engagement manquant")
    fake.advance(ref.flow_id, to="REJETEE", reason="Destinataire erroné")
    rejected = client.status(ref)
    assert (rejected.label, rejected.reason) == ("Rejetée", "Destinataire erroné")
    assert rejected.final and rejected.lifecycle_code == "210"


def test_a_flow_chorus_cannot_read_is_rejected_with_its_errors(fake, client) -> None:
    ref = client.submit(b"pas un PDF", filename="F2026-000001.pdf", tracking_id="t")
    fake.advance()
    status = client.status(ref)
    assert status.code == "IN_REJETE" and status.final and status.lifecycle_code == "213"
    assert status.label.startswith("Rejetée") and "PDF" in status.reason


def test_an_unknown_flow_reads_as_not_yet_processed(client) -> None:
    assert client.status("CPP0000000000000000000999").label == PENDING_LABEL


def test_only_facturx_is_accepted(fake, client) -> None:
    with pytest.raises(PermanentRejection, match="Factur-X"):
        submit(client, 1, flow_syntax="UBL")
    assert fake.calls == []


def test_a_refused_deposit_is_permanent_with_chorus_words(fake, client) -> None:
    fake.fail_next(1, 400, on="deposit", message="Syntaxe du flux non conforme")
    with pytest.raises(PermanentRejection, match="Syntaxe du flux non conforme"):
        submit(client, 1)
    fake.fail_next(1, 200, on="deposit", message="Fournisseur inconnu")
    with pytest.raises(PermanentRejection, match="Fournisseur inconnu") as caught:
        submit(client, 2)
    assert caught.value.code == "1"
    assert fake.deposits == []


# -- failures --------------------------------------------------------------------------------
def test_server_errors_are_transient(fake, client) -> None:
    fake.fail_next(1, 500, on="deposit")
    with pytest.raises(TransientFailure, match="indisponible") as caught:
        submit(client, 1)
    assert caught.value.maybe_delivered and caught.value.status == 500
    fake.fail_next(1, 503, on="deposit")
    with pytest.raises(TransientFailure) as caught:
        submit(client, 2)
    assert not caught.value.maybe_delivered and caught.value.retry_after == 1.0
    fake.fail_next(1, 429, on="flow_report")
    with pytest.raises(TransientFailure, match="patienter"):
        client.status("CPP1")
    fake.fail_next(1, 500, on="health")
    assert not client.health()
    assert fake.deposits == []


def test_a_lost_answer_is_searched_for_and_not_deposited_twice(fake, client) -> None:
    fake.drop_next(1, on="deposit")
    with pytest.raises(TransientFailure, match="coupée") as caught:
        submit(client, 1, "track-1")
    assert caught.value.maybe_delivered
    fake.advance()  # Chorus Pro integrates the flow: its invoice can be found
    ref = submit(client, 1, "track-1")
    [deposit] = fake.deposits
    assert (ref.flow_id, ref.tracking_id) == (deposit.flow_id, "track-1")
    assert fake.calls == ["token", "deposit", "invoices"]


def test_a_lost_answer_after_midnight_in_paris_is_found_on_chorus_calendar(fake) -> None:
    # 00:30 on 1 January in Paris, still 31 December in UTC: Chorus Pro dates the deposit
    # 2027-01-01, and a search ending on the UTC date would miss it and deposit it again.
    clock = FakeClock(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    fake.clock = clock
    fake.drop_next(1, on="deposit")
    settings = client_for(fake).settings
    with ChorusProClient(settings, clock=clock) as client:
        with pytest.raises(TransientFailure):
            submit(client, 1, "track-1")
        fake.advance()
        clock.advance(minutes=5)
        ref = submit(client, 1, "track-1")
    [deposit] = fake.deposits
    assert deposit.day.isoformat() == "2027-01-01"
    assert ref.flow_id == deposit.flow_id
    assert fake.calls == ["token", "deposit", "invoices"]


def test_a_lost_deposit_not_integrated_yet_is_waited_for(fake, client) -> None:
    fake.drop_next(1, on="deposit")
    with pytest.raises(TransientFailure):
        submit(client, 1, "track-1")
    # Not integrated: no invoice to find yet, and sending again could double it.
    with pytest.raises(TransientFailure, match="pas encore intégré") as caught:
        submit(client, 1, "track-1")
    assert caught.value.maybe_delivered
    assert len(fake.deposits) == 1 and fake.calls[-1] == "invoices"


def test_after_a_restart_the_caller_says_an_attempt_may_have_landed(fake) -> None:
    fake.drop_next(1, on="deposit")
    with client_for(fake) as first, pytest.raises(TransientFailure):
        submit(first, 1, "track-1")
    fake.advance()
    with client_for(fake) as second:
        ref = submit(second, 1, "track-1", maybe_deposited=True)
    assert [d.flow_id for d in fake.deposits] == [ref.flow_id]


def test_an_unknown_outcome_with_nothing_there_is_sent_again_once(fake) -> None:
    fake.fail_next(1, 500, on="deposit")
    with client_for(fake, settle=timedelta(0)) as client:
        with pytest.raises(TransientFailure):
            submit(client, 1, "track-1")
        ref = submit(client, 1, "track-1")
    assert [d.flow_id for d in fake.deposits] == [ref.flow_id]
    assert fake.calls[-2:] == ["invoices", "deposit"]


def test_the_search_looks_for_the_invoice_number_in_the_file_name(fake, client) -> None:
    client.submit(pdf(7), filename="F2026-000007_1a2b3c4d.pdf", tracking_id="1a2b3c4d-x")
    fake.advance()
    [found] = client.find_invoices(number="F2026-000007")
    assert found.flow_id == fake.deposits[0].flow_id and found.invoice_id
    assert client.find_invoices(number="F2026-000008") == []
    assert client.find_deposit(tracking_id="other", filename="F2026-000007_9f9f9f9f.pdf") == (
        found.flow_id
    )


def test_a_flow_chorus_rejected_does_not_hide_a_new_deposit(fake) -> None:
    with client_for(fake, settle=timedelta(0)) as client:
        client.submit(b"illisible", filename="F2026-000001.pdf", tracking_id="first")
        fake.advance(to="IN_REJETE", reason="Fichier illisible")
        ref = submit(client, 1, "second", maybe_deposited=True)
    assert [d.flow_id for d in fake.deposits][-1] == ref.flow_id
    assert len(fake.deposits) == 2


def test_a_failed_search_never_leads_to_a_second_deposit(fake, client) -> None:
    fake.drop_next(1, on="deposit")
    with pytest.raises(TransientFailure):
        submit(client, 1, "track-1")
    fake.fail_next(1, 200, on="invoices", message="Recherche indisponible")
    with pytest.raises(TransientFailure, match="rechercher") as caught:
        submit(client, 1, "track-1")
    assert caught.value.maybe_delivered
    assert len(fake.deposits) == 1


def test_a_file_over_30_mb_is_refused_before_sending(fake, client) -> None:
    big = b"%PDF-1.7\n" + b"0" * (30 * 1024 * 1024)
    with pytest.raises(PermanentRejection, match="30,0 Mo"):
        client.submit(big, filename="F2026-000001.pdf", tracking_id="big")
    assert fake.calls == [] and fake.deposits == []


def test_an_expired_technical_password_says_how_to_reset_it(fake, client) -> None:
    fake.expire_password()
    with pytest.raises(PasswordExpired, match="Réinitialisation du mot de passe") as caught:
        submit(client, 1)
    assert "Réglages" in str(caught.value) and fake.deposits == []


def test_receivability_states_are_named(fake, client) -> None:
    ref = submit(client, 1)
    fake.advance(to="QP_RECEVABLE_AVEC_ERREUR")
    status = client.status(ref)
    assert status.lifecycle_code == "200" and "recevable avec erreurs" in status.label
    fake.advance(to="QP_IRRECEVABLE", reason="Format non conforme")
    status = client.status(ref)
    assert status.final and status.lifecycle_code == "213" and "irrecevable" in status.label


def test_chorus_out_of_reach(fake) -> None:
    client = client_for(fake)
    fake.stop()
    with client, pytest.raises(TransientFailure, match="injoignable") as caught:
        submit(client, 1)
    assert not caught.value.maybe_delivered


# -- secrets and settings --------------------------------------------------------------------
def test_secrets_stay_out_of_errors_and_logs(fake, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    echoed = f"reçu {ACCOUNT_B64} / {PASSWORD} / {CLIENT_SECRET}"
    errors: list[Exception] = []
    with client_for(fake) as client:
        for status in (400, 500, 200):
            fake.fail_next(1, status, on="deposit", message=echoed)
            with pytest.raises((PermanentRejection, TransientFailure)) as caught:
                submit(client, status)
            errors.append(caught.value)
        fake.fail_next(1, 400, on="token", message=echoed)
        client._token = None  # force a new token request
        with pytest.raises(AuthenticationFailed) as caught:
            client.status("CPP1")
        errors.append(caught.value)
    with client_for(fake, account_password="x" + PASSWORD) as client:
        with pytest.raises(AuthenticationFailed) as caught:
            submit(client, 9)
        errors.append(caught.value)
    for error in errors:
        assert "•••" in error.platform_message or error.status == 401  # type: ignore[attr-defined]
        assert_no_secret(error, error.detail, error.platform_message)  # type: ignore[attr-defined]
    assert_no_secret(caplog.text)


def test_settings_are_checked_and_hide_their_secrets() -> None:
    settings = ChorusSettings("https://oauth.example/token", "https://api.example/cpro",
                              "id", CLIENT_SECRET, LOGIN, PASSWORD)  # fmt: skip
    assert_no_secret(repr(settings))
    with pytest.raises(InvalidInput, match="Adresse de l'API Chorus Pro"):
        ChorusSettings("https://oauth.example/token", "ftp://x", "id", "s", LOGIN, PASSWORD)
    with pytest.raises(InvalidInput, match="compte technique"):
        ChorusSettings("https://o.example/t", "https://a.example", "id", "s", LOGIN, "")
    with pytest.raises(InvalidInput, match="positif"):
        ChorusSettings("https://o.example/t", "https://a.example", "id", "s", LOGIN, "p", 0)


def test_the_fake_serves_the_clients_paths() -> None:
    assert API_PREFIX == "/cpro"
    with FakeChorusPro() as platform:
        assert platform.base_url.endswith(API_PREFIX)
        with pytest.raises(InvalidInput):
            platform.fail_next(1, on="nowhere")
