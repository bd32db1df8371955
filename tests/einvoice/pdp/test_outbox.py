"""The outbox end to end: invoices issued and queued in one transaction, drained to the
sandbox platform over real HTTP through failures, restarts and expired tokens, each
deposited exactly once; statuses and supplier invoices coming back."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS, DEMO_SHOP
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.pdp.client import HttpFlowClient
from app.einvoice.pdp.config import PlatformSettings
from app.einvoice.pdp.delivery import drain_once
from app.einvoice.pdp.inbox import answer_incoming, list_incoming, sync_once
from app.einvoice.pdp.models import DEPOSITED, DISPUTED, FAILED, QUEUED, SENDING, OutboxItem
from app.einvoice.pdp.outbox import enqueue, transmits
from app.einvoice.pdp.outbox_status import current_status, outbox_problems, pending_count
from app.einvoice.pdp.platform_http import AuthenticationFailed
from app.einvoice.pdp.sandbox import SandboxPlatform
from app.einvoice.pdp.worker import OutboxWorker
from app.einvoice.service import issue_and_store
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from tests.einvoice import sample_bodies as samples

HOUR = timedelta(hours=1)


@pytest.fixture
def sandbox() -> Iterator[SandboxPlatform]:
    with SandboxPlatform(lifecycle_step=3600) as platform:
        yield platform


@pytest.fixture
def buyer(ledger: Ledger) -> int:
    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        return save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id


def client_for(sandbox: SandboxPlatform, *, secret: str | None = None, timeout: float = 5.0):
    secret = secret or sandbox.client_secret
    return HttpFlowClient(
        PlatformSettings(sandbox.url, sandbox.token_url, sandbox.client_id, secret, timeout)
    )


def issue(ledger: Ledger, buyer: int, count: int = 1) -> list[int]:
    """Issue invoices and queue them in the same transaction, as issuing does."""
    seqs = []
    for n in range(count):
        draft = InvoiceDraft(
            customer_id=buyer,
            lines=(InvoiceLineInput("Farine T65", Decimal(n % 7 + 1), 1250 + n, 550),),
        )
        with ledger.transaction() as session:
            issued = issue_and_store(session, draft, operator="Camille")
            assert transmits(session, issued.record.body)
            enqueue(session, issued.record, issued.pdf.read_bytes())
        seqs.append(issued.record.seq)
    return seqs


def items(ledger: Ledger) -> list[OutboxItem]:
    with ledger.reader() as session:
        return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


def drain_all(ledger: Ledger, client, *, rounds: int = 80, pause: float = 0.0) -> Counter:
    """Drain until nothing is pending, jumping an hour ahead each round so that back-offs
    and leases are over (``pause`` lets stalled requests on the platform finish)."""
    moment, totals = datetime.now(UTC), Counter()
    for _ in range(rounds):
        with ledger.reader() as session:
            if not pending_count(session):
                return totals
        totals.update(vars(drain_once(ledger, client, now=moment)))
        moment += HOUR
        time.sleep(pause)
    raise AssertionError(f"still pending after {rounds} drains: {items(ledger)}")


def assert_each_deposited_once(ledger: Ledger, sandbox: SandboxPlatform, count: int) -> None:
    rows = items(ledger)
    assert len(rows) == count and {row.state for row in rows} == {DEPOSITED}
    deposits = Counter(d.tracking_id for d in sandbox.deposits)
    assert sorted(deposits.values()) == [1] * count
    assert set(deposits) == {row.tracking_id for row in rows}
    assert {row.flow_id for row in rows} == {d.flow_id for d in sandbox.deposits}
    assert all(row.payload is None for row in rows)


def test_issued_invoices_are_deposited_once_and_statuses_come_back(ledger, buyer, sandbox) -> None:
    seqs = issue(ledger, buyer, 4)
    with ledger.reader() as session:
        assert current_status(session, seqs[0]) == ("En attente d'envoi", "")
        assert outbox_problems(session) == []
        late = outbox_problems(session, now=datetime.now(UTC) + HOUR)
    assert late == ["4 factures attendent leur envoi depuis plus de 30 minutes."]
    client = client_for(sandbox)
    stats = drain_once(ledger, client)
    assert (stats.sent, stats.retried, stats.failed) == (4, 0, 0)
    assert drain_once(ledger, client).sent == 0
    assert_each_deposited_once(ledger, sandbox, 4)
    with ledger.reader() as session:
        assert current_status(session, seqs[0]) == ("Transmise à la plateforme", "")
    assert sync_once(ledger, client).statuses == 4  # 200 Déposée, on deposit
    with ledger.reader() as session:
        assert current_status(session, seqs[1]) == ("Déposée", "")
    sandbox.advance()
    sandbox.advance()
    assert sync_once(ledger, client).statuses == 8  # 203, then 205 for each
    assert sync_once(ledger, client).statuses == 0
    with ledger.reader() as session:
        assert all(current_status(session, seq) == ("Approuvée", "") for seq in seqs)
        assert outbox_problems(session) == []


def test_chaos_timeouts_lost_answers_and_a_restart_lose_nothing(
    ledger_path, clock, buyer, ledger, sandbox
) -> None:
    issue(ledger, buyer, 24)
    sandbox.chaos(0.3, seed=7, stall_seconds=1.0)
    sandbox.stall_next(2, 1.0, on="submit")
    sandbox.drop_next(3, on="submit")
    client = client_for(sandbox, timeout=0.5)
    moment, totals = datetime.now(UTC), Counter()
    for _ in range(4):  # part of the way, then the till "restarts"
        totals.update(vars(drain_once(ledger, client, now=moment)))
        moment += HOUR
    ledger.close()
    with Ledger.open(ledger_path, clock=clock, operator="test") as reopened:
        totals += drain_all(reopened, client_for(sandbox, timeout=0.5), pause=0.05)
        time.sleep(1.1)  # any request still stalled on the platform has now finished
        sandbox.clear_faults()
        assert_each_deposited_once(reopened, sandbox, 24)
    assert totals["retried"] and totals["deposited_after_search"]


def test_a_crash_after_sending_is_found_by_search_not_resent(
    ledger_path, clock, buyer, ledger, sandbox
) -> None:
    issue(ledger, buyer, 2)

    class Crash(BaseException):
        pass

    class CrashingClient(HttpFlowClient):
        def submit(self, *args, **kwargs):
            super().submit(*args, **kwargs)
            raise Crash  # the process dies between the platform's answer and our commit

    crashing = CrashingClient(client_for(sandbox).settings)
    with pytest.raises(Crash):
        drain_once(ledger, crashing)
    ledger.close()
    with Ledger.open(ledger_path, clock=clock, operator="test") as reopened:
        assert [row.state for row in items(reopened)] == [SENDING, QUEUED]
        client = client_for(sandbox)
        assert drain_once(reopened, client).sent == 1  # the first is still leased
        stats = drain_once(reopened, client, now=datetime.now(UTC) + HOUR)
        assert (stats.sent, stats.deposited_after_search) == (0, 1)
        assert_each_deposited_once(reopened, sandbox, 2)


def test_a_file_the_platform_already_has_is_not_sent_again(ledger, buyer, sandbox) -> None:
    issue(ledger, buyer, 2)
    first, second = items(ledger)
    client = client_for(sandbox)
    # Another till (or a lost answer) already deposited the first under its trackingId;
    # the second's bytes are there under someone else's.
    ref = client.submit(first.payload, filename="a.pdf", tracking_id=first.tracking_id)
    elsewhere = client.submit(second.payload, filename="b.pdf", tracking_id="someone-else")
    stats = drain_once(ledger, client)
    # AlreadyExistingFlow names the flow holding these bytes: deposited, never sent twice.
    assert (stats.sent, stats.deposited_after_search, stats.retried) == (0, 2, 0)
    assert [row.flow_id for row in items(ledger)] == [ref.flow_id, elsewhere.flow_id]
    assert {row.state for row in items(ledger)} == {DEPOSITED}
    for hours in range(1, 6):
        drain_once(ledger, client, now=datetime.now(UTC) + hours * HOUR)
    assert len(sandbox.deposits) == 2


def test_expired_tokens_are_renewed_mid_run(ledger, buyer) -> None:
    issue(ledger, buyer, 6)
    # The platform forgets tokens after 0.5 s but announces 1 s: some are renewed ahead
    # of time, others after a refusal.
    with SandboxPlatform(token_ttl=0.5, lifecycle_step=3600) as sandbox:
        client = client_for(sandbox)
        for _ in range(3):
            assert drain_once(ledger, client, max_items=2).sent == 2
            time.sleep(0.6)
        assert_each_deposited_once(ledger, sandbox, 6)


def test_wrong_credentials_leave_the_invoices_queued(ledger, buyer, sandbox) -> None:
    issue(ledger, buyer, 3)
    with pytest.raises(AuthenticationFailed, match="identifiant ou le secret"):
        drain_once(ledger, client_for(sandbox, secret="wrong"))
    rows = items(ledger)
    assert [(r.state, r.attempts) for r in rows] == [(QUEUED, 0)] * 3
    assert "identifiant ou le secret" in (rows[0].last_error or "")
    assert "wrong" not in (rows[0].last_error or "")
    with ledger.reader() as session:
        assert any("identifiant ou le secret" in p for p in outbox_problems(session))
    assert drain_once(ledger, client_for(sandbox)).sent == 3
    assert_each_deposited_once(ledger, sandbox, 3)


def test_platform_down_then_back(ledger, buyer, sandbox) -> None:
    issue(ledger, buyer, 3)
    client = client_for(sandbox, timeout=0.5)
    sandbox.set_down(True)
    stats = drain_once(ledger, client)
    assert (stats.sent, stats.retried) == (0, 1)  # it stops at the first refusal
    sandbox.set_down(True, refuse=True)
    client = client_for(sandbox, timeout=0.5)  # a kept-alive connection would still be served
    drain_once(ledger, client, now=datetime.now(UTC) + HOUR)
    with ledger.reader() as session:
        problems = outbox_problems(session)
    assert len(problems) == 1
    assert problems[0].startswith("3 factures en attente d'envoi à la plateforme : ")
    assert "injoignable" in problems[0] and "Nouvel essai automatique" in problems[0]
    assert not sandbox.deposits
    sandbox.set_down(False)
    drain_all(ledger, client)
    assert_each_deposited_once(ledger, sandbox, 3)
    with ledger.reader() as session:
        assert outbox_problems(session) == []


def test_a_rejected_invoice_fails_with_the_platform_message(ledger, buyer, sandbox) -> None:
    seqs = issue(ledger, buyer, 2)
    sandbox.reject_next(1)
    stats = drain_once(ledger, client_for(sandbox))
    assert (stats.sent, stats.failed) == (1, 1)
    first = items(ledger)[0]
    assert first.state == FAILED and "rejet" in (first.last_error or "")
    with ledger.reader() as session:
        [problem] = outbox_problems(session)
        label, reason = current_status(session, seqs[0]) or ("", "")
    assert (
        problem.startswith(f"Facture {first.doc_number} non transmise")
        and first.last_error in problem
    )
    assert (label, reason) == ("Rejetée par la plateforme", first.last_error)
    assert drain_once(ledger, client_for(sandbox), now=datetime.now(UTC) + HOUR).sent == 0


def test_a_supplier_invoice_is_stored_and_disputed(ledger, buyer, sandbox) -> None:
    envelope, body = samples.multi_rate_goods()
    from app.einvoice.facturx import build_invoice_pdf

    sandbox.add_incoming(build_invoice_pdf(envelope, body), "facture-fournisseur.pdf")
    client = client_for(sandbox)
    assert sync_once(ledger, client).incoming == 1
    assert sync_once(ledger, client).incoming == 0
    with ledger.reader() as session:
        [incoming] = list_incoming(session)
    assert incoming.supplier_name == body["seller"]["name"]
    assert incoming.supplier_siren == body["seller"]["siren"]
    assert (incoming.number, incoming.issue_date) == (body["number"], body["issue_date"])
    assert incoming.total_cents == body["total"] and incoming.valid
    assert incoming.status == "received" and "valide" in incoming.validation
    with ledger.transaction() as session:
        answer_incoming(
            session, client, incoming.id, "207", "Quantités livrées différentes",
            reason_code="QTE_ERR",
        )  # fmt: skip
    [status] = sandbox.received_statuses
    assert (status.code, status.label, status.invoice_number) == (
        "207",
        "En litige",
        body["number"],
    )
    assert status.reason == "Quantités livrées différentes"
    with ledger.reader() as session:
        [answered] = list_incoming(session)
    assert (answered.status, answered.reason) == (DISPUTED, "Quantités livrées différentes")


@pytest.mark.slow
def test_two_hundred_invoices_through_a_flaky_platform(ledger, buyer, sandbox) -> None:
    issue(ledger, buyer, 200)
    sandbox.chaos(0.1, seed=3, stall_seconds=0.6, on="submit")
    drain_all(ledger, client_for(sandbox, timeout=0.3), rounds=200, pause=0.01)
    time.sleep(0.7)
    assert_each_deposited_once(ledger, sandbox, 200)


def test_the_worker_sends_in_the_background_and_survives_errors(ledger_path, ledger, buyer) -> None:
    with SandboxPlatform(lifecycle_step=0.2) as sandbox:
        calls = []

        def factory(opened: Ledger):
            assert opened is not ledger and opened.path == ledger.path  # its own
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("keyring exploded")
            return client_for(sandbox)

        worker = OutboxWorker(ledger_path, factory, interval=0.05, sync_interval=0.1)
        worker.start()
        seqs = issue(ledger, buyer, 3)
        worker.wake()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with ledger.reader() as session:
                if not pending_count(session) and "Approuvée" in str(
                    current_status(session, seqs[-1])
                ):
                    break
            time.sleep(0.05)
        assert worker.stop(5)
        assert not worker.running and worker.last_error is None and len(calls) >= 2
        assert_each_deposited_once(ledger, sandbox, 3)
