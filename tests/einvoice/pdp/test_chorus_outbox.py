"""Chorus Pro wired into the outbox, over real HTTP on 127.0.0.1: invoices to public-sector
customers are deposited on the Chorus Pro fake exactly once (through dropped answers,
restarts and a missing search service), their statuses are polled into the lifecycle
store, and private customers' invoices still go to the plateforme agréée."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from facturx import get_xml_from_pdf as _get_xml
from sqlalchemy import select

from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS, DEMO_SHOP
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.pdp.chorus import ChorusProClient
from app.einvoice.pdp.chorus_api import Endpoints
from app.einvoice.pdp.chorus_sync import poll_chorus
from app.einvoice.pdp.client import HttpFlowClient
from app.einvoice.pdp.config import ChorusSettings, PlatformSettings
from app.einvoice.pdp.delivery import drain_once
from app.einvoice.pdp.models import CHORUS, DEPOSITED, PDP, QUEUED, SENDING, OutboxItem
from app.einvoice.pdp.outbox_status import current_status, outbox_problems
from app.einvoice.pdp.platform_http import AuthenticationFailed
from app.einvoice.pdp.sandbox import SandboxPlatform
from app.einvoice.pdp.worker import OutboxWorker, configured_chorus_client
from app.einvoice.service import credit_and_store, issue_and_store
from app.einvoice.validate import validate_xml_bytes
from app.errors import InvalidInput
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from tests.einvoice.pdp.chorus_fake import FakeChorusPro

HOUR = timedelta(hours=1)


def get_xml(pdf: bytes) -> tuple[str, bytes]:
    return _get_xml(pdf, check_xsd=False)


NOW = timedelta(0)
PUBLIC_SIRET = "26690001800018"
MAIRIE = CustomerInfo(
    name="Mairie de Villeurbanne",
    siren=PUBLIC_SIRET[:9],
    siret=PUBLIC_SIRET,
    address="Place Lazare-Goujon",
    postcode="69100",
    city="Villeurbanne",
    public_sector=True,
)


@pytest.fixture
def chorus() -> Iterator[FakeChorusPro]:
    with FakeChorusPro() as fake:
        yield fake


@pytest.fixture
def sandbox() -> Iterator[SandboxPlatform]:
    with SandboxPlatform(lifecycle_step=3600) as platform:
        yield platform


@pytest.fixture
def customers(ledger: Ledger) -> dict[str, int]:
    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        private = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
        public = save_customer(session, MAIRIE).id
    return {"private": private, "public": public}


def chorus_client(fake: FakeChorusPro, *, password: str | None = None, **kw) -> ChorusProClient:
    settings = ChorusSettings(
        fake.token_url, fake.base_url, fake.client_id, fake.client_secret, fake.account_login,
        password or fake.account_password, timeout=5.0,
    )  # fmt: skip
    return ChorusProClient(settings, **kw)


def pa_client(sandbox: SandboxPlatform) -> HttpFlowClient:
    return HttpFlowClient(
        PlatformSettings(sandbox.url, sandbox.token_url, sandbox.client_id, sandbox.client_secret)
    )


def issue(ledger: Ledger, customer: int, label: str = "Fournitures") -> int:
    draft = InvoiceDraft(customer, (InvoiceLineInput(label, Decimal(3), 2150, 2000),))
    with ledger.transaction() as session:
        return issue_and_store(session, draft, operator="Camille").record.seq


def item_of(ledger: Ledger, seq: int) -> OutboxItem:
    with ledger.reader() as session:
        item = session.scalar(select(OutboxItem).where(OutboxItem.invoice_seq == seq))
        assert item is not None
        session.expunge(item)
        return item


def status_of(ledger: Ledger, seq: int) -> tuple[str, str] | None:
    with ledger.reader() as session:
        return current_status(session, seq)


def later(hours: int = 1) -> datetime:
    return datetime.now(UTC) + hours * HOUR


# -- routing -------------------------------------------------------------------------------
def test_public_customers_go_to_chorus_and_private_ones_to_the_platform(
    ledger, customers, chorus, sandbox
) -> None:
    public, private = issue(ledger, customers["public"]), issue(ledger, customers["private"])
    to_chorus, to_pa = item_of(ledger, public), item_of(ledger, private)
    assert (to_chorus.channel, to_pa.channel) == (CHORUS, PDP)
    # Chorus Pro finds a lost deposit by its name only: the name is the item's own.
    assert to_chorus.filename == f"{to_chorus.doc_number}_{to_chorus.tracking_id[:8]}.pdf"
    assert to_pa.filename == f"{to_pa.doc_number}.pdf"
    with chorus_client(chorus) as cpro, pa_client(sandbox) as pa:
        stats = drain_once(ledger, {PDP: pa, CHORUS: cpro})
    assert stats.sent == 2
    [deposit] = chorus.deposits
    assert deposit.filename == to_chorus.filename
    assert deposit.content.startswith(b"%PDF-") and deposit.syntax == "IN_DP_E2_CII_FACTURX"
    assert [d.tracking_id for d in sandbox.deposits] == [to_pa.tracking_id]
    assert item_of(ledger, public).flow_id == deposit.flow_id
    assert status_of(ledger, public) == ("Transmise à Chorus Pro", "")
    assert status_of(ledger, private) == ("Transmise à la plateforme", "")


def test_a_credit_note_follows_its_invoice_to_chorus(ledger, customers, chorus) -> None:
    seq = issue(ledger, customers["public"])
    with ledger.transaction() as session:
        number = item_of(ledger, seq).doc_number
        credit = credit_and_store(session, number, operator="Camille", reason="Erreur de prix")
    assert item_of(ledger, credit.record.seq).channel == CHORUS
    with chorus_client(chorus) as cpro:
        assert drain_once(ledger, {CHORUS: cpro}).sent == 2
    assert len(chorus.deposits) == 2


def test_an_unconfigured_chorus_keeps_the_invoice_and_says_why(ledger, customers, sandbox) -> None:
    seq = issue(ledger, customers["public"])
    with pa_client(sandbox) as pa:
        assert drain_once(ledger, pa) == drain_once(ledger, {PDP: pa})  # nothing for the PA
    assert item_of(ledger, seq).state == QUEUED and sandbox.deposits == []
    assert configured_chorus_client(ledger) is None
    with ledger.reader() as session:
        [problem] = outbox_problems(session)
    assert problem == (
        "1 facture d'un client public attend son envoi : Chorus Pro n'est pas configuré "
        "(Réglages › Facturation électronique › Chorus Pro)."
    )


# -- exactly once --------------------------------------------------------------------------
def test_a_dropped_answer_is_found_again_after_a_restart(ledger, customers, chorus) -> None:
    seq = issue(ledger, customers["public"])
    chorus.drop_next(1, on="deposit")
    with chorus_client(chorus) as first:
        assert drain_once(ledger, {CHORUS: first}).retried == 1
    assert item_of(ledger, seq).state == SENDING  # the outcome is unknown
    assert len(chorus.deposits) == 1  # Chorus Pro kept it; the answer was lost
    chorus.advance()  # and integrated it: its invoice is in the supplier's search
    with chorus_client(chorus) as second:  # a new process: nothing remembered in memory
        stats = drain_once(ledger, {CHORUS: second}, now=later())
        assert drain_once(ledger, {CHORUS: second}, now=later(2)).sent == 0
    assert stats.deposited_after_search == 1 and stats.sent == 0
    [deposit] = chorus.deposits
    item = item_of(ledger, seq)
    assert (item.state, item.flow_id, item.payload) == (DEPOSITED, deposit.flow_id, None)
    assert chorus.calls.count("deposit") == 1 and "invoices" in chorus.calls


def test_a_lost_deposit_still_in_processing_is_not_sent_again(ledger, customers, chorus) -> None:
    seq = issue(ledger, customers["public"])
    chorus.drop_next(1, on="deposit")
    with chorus_client(chorus, settle=3 * HOUR) as cpro:
        drain_once(ledger, {CHORUS: cpro})
        for hours in (1, 2):  # not integrated yet, and the attempt is recent: wait
            assert drain_once(ledger, {CHORUS: cpro}, now=later(hours)).sent == 0
        assert item_of(ledger, seq).state == SENDING
        assert "pas encore intégré" in (item_of(ledger, seq).last_error or "")
        chorus.advance()
        assert drain_once(ledger, {CHORUS: cpro}, now=later(4)).deposited_after_search == 1
    assert len(chorus.deposits) == 1
    assert item_of(ledger, seq).state == DEPOSITED


def test_a_lost_answer_in_the_same_process_searches_once(ledger, customers, chorus) -> None:
    issue(ledger, customers["public"])
    chorus.drop_next(1, on="deposit")
    with chorus_client(chorus) as cpro:
        drain_once(ledger, {CHORUS: cpro})
        chorus.advance()
        assert drain_once(ledger, {CHORUS: cpro}, now=later()).deposited_after_search == 1
    assert len(chorus.deposits) == 1
    assert chorus.calls.count("invoices") == 1


def test_nothing_found_after_an_unknown_outcome_is_sent_once(ledger, customers, chorus) -> None:
    seq = issue(ledger, customers["public"])
    chorus.fail_next(1, 500, on="deposit")  # refused before storing, but who knows
    with chorus_client(chorus) as cpro:
        assert drain_once(ledger, {CHORUS: cpro}).retried == 1
        assert item_of(ledger, seq).state == SENDING
        # Past the settling time with no invoice: the earlier attempt never landed.
        assert drain_once(ledger, {CHORUS: cpro}, now=later(2)).sent == 1
    assert len(chorus.deposits) == 1
    assert chorus.calls[-2:] == ["invoices", "deposit"]


def test_without_the_search_service_nothing_is_deposited_twice(ledger, customers, chorus) -> None:
    seq = issue(ledger, customers["public"])
    chorus.drop_next(1, on="deposit")
    missing = Endpoints(invoices="/factures/v1/introuvable")
    with chorus_client(chorus, endpoints=missing) as cpro:
        drain_once(ledger, {CHORUS: cpro})
        for hours in (1, 2, 3):
            with pytest.raises(AuthenticationFailed, match="adresse"):
                drain_once(ledger, {CHORUS: cpro}, now=later(hours))
    assert len(chorus.deposits) == 1
    item = item_of(ledger, seq)
    assert item.state == SENDING and "adresse" in (item.last_error or "")


def test_a_refused_technical_account_does_not_hold_back_the_platform(
    ledger, customers, chorus, sandbox, monkeypatch
) -> None:
    monkeypatch.setenv("COMPTOIR_CHORUS_URL", chorus.base_url)  # set up, but refused
    public, private = issue(ledger, customers["public"]), issue(ledger, customers["private"])
    cpro, pa = chorus_client(chorus, password="faux"), pa_client(sandbox)
    with cpro, pa, pytest.raises(AuthenticationFailed, match="compte technique"):
        drain_once(ledger, {CHORUS: cpro, PDP: pa})
    assert item_of(ledger, private).state == DEPOSITED and len(sandbox.deposits) == 1
    item = item_of(ledger, public)
    assert (item.state, item.attempts) == (QUEUED, 0) and chorus.deposits == []
    with ledger.reader() as session:
        [problem] = outbox_problems(session)
    assert problem.startswith("1 facture en attente d'envoi à Chorus Pro : Chorus Pro refuse")


# -- statuses ------------------------------------------------------------------------------
def test_statuses_are_polled_into_the_invoice_list(ledger, customers, chorus) -> None:
    seq = issue(ledger, customers["public"])
    with chorus_client(chorus) as cpro:
        drain_once(ledger, {CHORUS: cpro})
        assert poll_chorus(ledger, cpro) == 0  # asked about only after POLL_EVERY
        assert poll_chorus(ledger, cpro, every=NOW) == 1
        assert status_of(ledger, seq) == ("Déposée, en cours de traitement par Chorus Pro", "")
        chorus.advance()  # integrated: DEPOSEE
        assert poll_chorus(ledger, cpro, every=NOW) == 1
        assert status_of(ledger, seq) == ("Déposée", "")
        chorus.advance()
        assert poll_chorus(ledger, cpro, every=NOW) == 1
        assert poll_chorus(ledger, cpro, every=NOW) == 0  # unchanged: stored once
        assert status_of(ledger, seq) == ("Mise à disposition", "")
        chorus.advance(to="SUSPENDUE", reason="Numéro d'engagement manquant")
        poll_chorus(ledger, cpro, every=NOW)
        assert status_of(ledger, seq) == ("Suspendue", "Numéro d'engagement manquant")
        chorus.advance(to="MISE_EN_PAIEMENT")
        poll_chorus(ledger, cpro, every=NOW)
        asked = chorus.calls.count("flow_report")
        assert poll_chorus(ledger, cpro, now=later(24), every=NOW) == 0
    assert status_of(ledger, seq) == ("Mise en paiement", "")
    assert chorus.calls.count("flow_report") == asked  # a final status is not asked again
    item = item_of(ledger, seq)
    assert item.platform_status == "MISE_EN_PAIEMENT"


def test_a_file_chorus_rejects_shows_why(ledger, customers, chorus) -> None:
    seq = issue(ledger, customers["public"])
    with chorus_client(chorus) as cpro:
        drain_once(ledger, {CHORUS: cpro})
        chorus.advance(to="IN_REJETE", reason="Destinataire inconnu de Chorus Pro")
        poll_chorus(ledger, cpro, every=NOW)
    assert status_of(ledger, seq) == (
        "Rejetée par Chorus Pro (fichier non conforme)",
        "Destinataire inconnu de Chorus Pro",
    )


def test_the_worker_sends_both_channels_in_the_background(
    ledger_path, ledger, customers, chorus, sandbox
) -> None:
    public, private = issue(ledger, customers["public"]), issue(ledger, customers["private"])
    worker = OutboxWorker(
        ledger_path,
        lambda _ledger: pa_client(sandbox),
        interval=0.05,
        sync_interval=None,
        chorus_factory=lambda _ledger: chorus_client(chorus),
    )
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while {item_of(ledger, seq).state for seq in (public, private)} != {DEPOSITED}:
            assert time.monotonic() < deadline, worker.last_error
            time.sleep(0.05)
    finally:
        assert worker.stop(5)
    assert len(chorus.deposits) == len(sandbox.deposits) == 1
    assert worker.last_error is None


def test_a_public_customer_needs_a_french_siret(ledger) -> None:
    from app.customers.service import FieldError

    refused = pytest.raises(FieldError, match="SIRET obligatoire")
    with refused as caught, ledger.transaction() as session:
        save_customer(session, replace(MAIRIE, siret=""))
    assert caught.value.field == "siret"
    person = CustomerInfo(kind="person", name="Jeanne", address="1 rue", city="Lyon")
    refused = pytest.raises(FieldError, match="entité publique française")
    with refused, ledger.transaction() as session:
        save_customer(session, replace(person, public_sector=True))
    with ledger.transaction() as session:
        assert save_customer(session, MAIRIE).public_sector is True


def test_training_invoices_for_a_public_customer_wait_for_the_sandbox(tmp_path, clock) -> None:
    with Ledger.open(tmp_path / "formation.sqlite", kind="training", clock=clock,
                     operator="Camille") as training:  # fmt: skip
        with training.transaction() as session:
            record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
            public = save_customer(session, MAIRIE).id
        assert item_of(training, issue(training, public)).channel == PDP


# -- what a public buyer needs on the invoice ------------------------------------------------
def test_service_code_and_engagement_number_reach_chorus(ledger, customers, chorus) -> None:
    draft = InvoiceDraft(
        customers["public"], (InvoiceLineInput("Fournitures", Decimal(3), 2150, 2000),),
        purchase_order="EJ-2026-004512", service_code="SERV-ACHATS-01",
    )  # fmt: skip
    with ledger.transaction() as session:
        seq = issue_and_store(session, draft, operator="Camille").record.seq
    with chorus_client(chorus) as cpro:
        assert drain_once(ledger, {CHORUS: cpro}).sent == 1
    [deposit] = chorus.deposits
    xml = get_xml(deposit.content)[1]
    assert b"<ram:BuyerReference>SERV-ACHATS-01</ram:BuyerReference>" in xml
    assert b"<ram:IssuerAssignedID>EJ-2026-004512</ram:IssuerAssignedID>" in xml
    assert validate_xml_bytes(xml).ok
    assert item_of(ledger, seq).state == DEPOSITED


def test_an_overlong_service_code_is_refused_in_french(ledger, customers) -> None:
    draft = InvoiceDraft(
        customers["public"], (InvoiceLineInput("Fournitures", Decimal(1), 100, 2000),),
        service_code="S" * 101,
    )  # fmt: skip
    refused = pytest.raises(InvalidInput, match="Le code service dépasse 100 caractères")
    with refused, ledger.transaction() as session:
        issue_and_store(session, draft, operator="Camille")
