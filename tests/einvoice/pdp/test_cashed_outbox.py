"""The 212 "Encaissée" status goes through the outbox: queued with the user's action,
delivered once to the sandbox platform over real HTTP, however long the platform was
down and whatever answers were lost, and only after the invoice itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS, DEMO_SHOP
from app.einvoice.corrections import record_payment
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.issuing import get_document
from app.einvoice.pdp.client import HttpFlowClient
from app.einvoice.pdp.config import PlatformSettings
from app.einvoice.pdp.delivery import drain_once
from app.einvoice.pdp.models import (
    CASHED_ITEM,
    DEPOSITED,
    FAILED,
    INVOICE_ITEM,
    QUEUED,
    SENDING,
    InvoiceLifecycle,
    OutboxItem,
)
from app.einvoice.pdp.outbox import queue_cashed, retry_failed
from app.einvoice.pdp.outbox_status import current_status, outbox_problems, pending_count
from app.einvoice.pdp.sandbox import SandboxPlatform
from app.einvoice.service import issue_and_store
from app.errors import InvalidInput
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger

HOUR = timedelta(hours=1)
PENDING = "212 Encaissée en attente d'envoi"


@pytest.fixture
def sandbox() -> Iterator[SandboxPlatform]:
    with SandboxPlatform(lifecycle_step=3600) as platform:
        yield platform


@pytest.fixture
def invoice(ledger: Ledger) -> tuple[int, str]:
    """A services invoice (VAT due on payment), issued and queued, not yet paid."""
    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
        line = InvoiceLineInput("Atelier", Decimal(2), 12000, 2000, unit="HUR", nature="services")
        issued = issue_and_store(session, InvoiceDraft(buyer, (line,)), operator="Camille")
        return issued.record.seq, issued.doc_number


def client_for(sandbox: SandboxPlatform, *, timeout: float = 5.0) -> HttpFlowClient:
    return HttpFlowClient(
        PlatformSettings(
            sandbox.url, sandbox.token_url, sandbox.client_id, sandbox.client_secret, timeout
        )
    )


def pay_and_declare(ledger: Ledger, number: str) -> None:
    """The payment and the 212 in one transaction: both or neither."""
    with ledger.transaction() as session:
        body = get_document(session, number).body
        record_payment(session, number, body["total"], operator="Camille")
        queue_cashed(session, number)


def cashed_item(ledger: Ledger, seq: int) -> OutboxItem:
    with ledger.reader() as session:
        return session.scalars(
            select(OutboxItem).where(OutboxItem.invoice_seq == seq, OutboxItem.kind == CASHED_ITEM)
        ).one()


def sent_212(sandbox: SandboxPlatform, number: str) -> list[str]:
    return [
        s.code for s in sandbox.received_statuses if s.invoice_number == number and s.code == "212"
    ]


def status(ledger: Ledger, seq: int) -> tuple[str, str]:
    with ledger.reader() as session:
        found = current_status(session, seq)
    assert found is not None
    return found


def test_platform_down_when_cashed_then_delivered_once(ledger, invoice, sandbox) -> None:
    seq, number = invoice
    client = client_for(sandbox, timeout=0.5)
    assert drain_once(ledger, client).sent == 1  # the invoice itself is on the platform
    sandbox.set_down(True, refuse=True)
    pay_and_declare(ledger, number)
    assert status(ledger, seq)[0] == PENDING
    moment = datetime.now(UTC)
    for hours in range(3):
        stats = drain_once(ledger, client_for(sandbox, timeout=0.5), now=moment + hours * HOUR)
        assert (stats.sent, stats.retried) == (0, 1)
    item = cashed_item(ledger, seq)
    assert item.state == QUEUED and item.attempts == 3
    label, reason = status(ledger, seq)
    assert label == PENDING and "Nouvel essai automatique" in reason
    assert sent_212(sandbox, number) == []
    sandbox.set_down(False)
    client = client_for(sandbox)
    assert drain_once(ledger, client, now=moment + 4 * HOUR).sent == 1
    assert drain_once(ledger, client, now=moment + 5 * HOUR).sent == 0
    item = cashed_item(ledger, seq)
    assert (item.state, item.payload) == (DEPOSITED, None)
    assert sent_212(sandbox, number) == ["212"]
    [deposit] = [d for d in sandbox.deposits if d.syntax == "CDAR"]
    assert deposit.name == f"CDAR_{number}_212.xml" and deposit.tracking_id == item.tracking_id
    assert status(ledger, seq) == ("Encaissée", "")
    with ledger.reader() as session:
        assert pending_count(session) == 0 and outbox_problems(session) == []


def test_a_lost_answer_is_searched_for_not_resent(ledger, invoice, sandbox) -> None:
    seq, number = invoice
    client = client_for(sandbox)
    drain_once(ledger, client)
    pay_and_declare(ledger, number)

    class Crash(BaseException):
        pass

    class CrashingClient(HttpFlowClient):
        def submit(self, *args, **kwargs):
            super().submit(*args, **kwargs)
            raise Crash  # the platform took it; the answer never reached the database

    with pytest.raises(Crash):
        drain_once(ledger, CrashingClient(client.settings))
    assert cashed_item(ledger, seq).state == SENDING
    stats = drain_once(ledger, client, now=datetime.now(UTC) + HOUR)
    assert (stats.sent, stats.deposited_after_search) == (0, 1)
    assert sent_212(sandbox, number) == ["212"]
    item = cashed_item(ledger, seq)
    with ledger.reader() as session:
        codes = session.scalars(
            select(InvoiceLifecycle.code).where(InvoiceLifecycle.flow_id == item.flow_id)
        ).all()
    assert item.state == DEPOSITED and codes == ["212"]


def test_the_212_waits_for_its_invoice(ledger, invoice, sandbox) -> None:
    seq, number = invoice
    pay_and_declare(ledger, number)
    client = client_for(sandbox)
    sandbox.reject_next(1)  # the invoice is refused: the platform must not hear of it paid
    stats = drain_once(ledger, client)
    assert (stats.sent, stats.failed) == (0, 1)
    assert cashed_item(ledger, seq).state == QUEUED
    assert sent_212(sandbox, number) == []
    with ledger.reader() as session:
        invoice_item = session.scalars(
            select(OutboxItem).where(OutboxItem.invoice_seq == seq, OutboxItem.kind == INVOICE_ITEM)
        ).one()
        assert invoice_item.state == FAILED
    with ledger.transaction() as session:
        retry_failed(session, invoice_item.id)
    stats = drain_once(ledger, client, now=datetime.now(UTC) + HOUR)
    assert stats.sent == 2
    assert sent_212(sandbox, number) == ["212"]


def test_declaring_twice_queues_one_message(ledger, invoice, sandbox) -> None:
    seq, number = invoice
    with pytest.raises(InvalidInput, match="pas entièrement réglée"), ledger.transaction() as s:
        queue_cashed(s, number)
    pay_and_declare(ledger, number)
    first = cashed_item(ledger, seq)
    with ledger.transaction() as session:
        again = queue_cashed(session, number)
        assert again.id == first.id and again.tracking_id == first.tracking_id
    client = client_for(sandbox)
    drain_once(ledger, client)
    with ledger.transaction() as session:
        queue_cashed(session, number)  # already delivered: nothing new
    assert drain_once(ledger, client, now=datetime.now(UTC) + HOUR).sent == 0
    assert sent_212(sandbox, number) == ["212"]


def test_a_rolled_back_payment_leaves_no_212(ledger, invoice) -> None:
    seq, number = invoice

    class Abort(Exception):
        pass

    with pytest.raises(Abort), ledger.transaction() as session:
        from app.einvoice.issuing import get_document

        body = get_document(session, number).body
        record_payment(session, number, body["total"], operator="Camille")
        queue_cashed(session, number)
        raise Abort
    with ledger.reader() as session:
        assert session.scalars(select(OutboxItem).where(OutboxItem.kind == CASHED_ITEM)).all() == []
    assert status(ledger, seq)[0] != PENDING
