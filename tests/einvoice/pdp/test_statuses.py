"""Statuses the shop gives as seller (209, 212 full or partial, 220) go through the
durable outbox, after the invoice; as buyer (204 to 211) they answer a supplier invoice.
Every message is checked against BR-FR-CDV V1.4.0.03 before it leaves."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from lxml import etree

from app.cli import main
from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS, DEMO_SHOP
from app.einvoice.corrections import issue_credit_note
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.official import validate_cdar
from app.einvoice.pdp.delivery import drain_once
from app.einvoice.pdp.models import DEPOSITED
from app.einvoice.pdp.sandbox import SandboxPlatform
from app.einvoice.pdp.statuses import queue_status
from app.einvoice.service import issue_and_store
from app.errors import InvalidInput
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from tests.einvoice.pdp.test_cashed_outbox import client_for

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}
STATUS = "rsm:AcknowledgementDocument/ram:ReferenceReferencedDocument/ram:SpecifiedDocumentStatus"


@pytest.fixture
def sandbox() -> Iterator[SandboxPlatform]:
    with SandboxPlatform(lifecycle_step=3600) as platform:
        yield platform


@pytest.fixture
def invoice(ledger: Ledger) -> str:
    """Services at 20 % and goods at 5.5 %, issued and queued for the platform."""
    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
        lines = (
            InvoiceLineInput("Atelier", Decimal(1), 10000, 2000, nature="services"),
            InvoiceLineInput("Farine", Decimal(2), 1000, 550),
        )
        return issue_and_store(session, InvoiceDraft(buyer, lines), operator="Camille").doc_number


def _sent_cdar(sandbox: SandboxPlatform, code: str) -> bytes:
    [flow] = [f for f in sandbox.flows() if f.syntax == "CDAR" and f.direction == "Out"
              and f.name.endswith(f"_{code}_1.xml")]  # fmt: skip
    return flow.content


def test_partial_212_goes_after_the_invoice_with_amounts_per_rate(ledger, sandbox, invoice):
    with ledger.transaction() as session:
        first = queue_status(session, invoice, "212", amount_cents=6000)
        second = queue_status(session, invoice, "212", amount_cents=4000)
    assert (first.kind, second.kind) == ("212-1", "212-2")
    with client_for(sandbox) as client:
        stats = drain_once(ledger, client)
    assert stats.sent == 3  # the invoice first, then both statuses
    assert [s.code for s in sandbox.received_statuses] == ["212", "212"]
    root = etree.fromstring(_sent_cdar(sandbox, "212"))
    amounts = [
        (
            c.findtext("ram:ValuePercent", namespaces=NS),
            c.findtext("ram:ValueAmount", namespaces=NS),
        )
        for c in root.findall(f"{STATUS}/ram:SpecifiedDocumentCharacteristic", NS)
    ]
    # 60.00 received of 141.10 (120.00 at 20 %, 21.10 at 5.5 %), shared in proportion.
    assert amounts == [("20.00", "51.03"), ("5.50", "8.97")]
    assert root.findtext(f"{STATUS}/ram:SequenceNumeric", namespaces=NS) == "1"
    assert validate_cdar(_sent_cdar(sandbox, "212")).ok


def test_209_answers_a_208_and_220_follows_a_full_credit_note(ledger, sandbox, invoice):
    with ledger.transaction() as session, pytest.raises(InvalidInput, match="pas suspendue"):
        queue_status(session, invoice, "209")
    with ledger.transaction() as session, pytest.raises(InvalidInput, match="avoir"):
        queue_status(session, invoice, "220")
    with ledger.transaction() as session:
        issue_credit_note(session, invoice, operator="Camille", reason="Commande annulée")
        queue_status(session, invoice, "220")
    with client_for(sandbox) as client:
        drain_once(ledger, client)
    assert [s.code for s in sandbox.received_statuses] == ["220"]
    assert validate_cdar(_sent_cdar(sandbox, "220")).ok


@pytest.mark.parametrize(
    ("code", "kwargs", "message"),
    [("205", {}, "Comme vendeur"), ("212", {"amount_cents": 10**7}, "dépasse le total"),
     ("209", {"amount_cents": 100}, "Seul le statut 212"), ("212", {}, "Aucun règlement")],
)  # fmt: skip
def test_seller_statuses_refused_in_french(ledger, invoice, code, kwargs, message) -> None:
    with ledger.transaction() as session, pytest.raises(InvalidInput, match=message):
        queue_status(session, invoice, code, **kwargs)


def test_cli_status_both_directions(ledger, sandbox, invoice, monkeypatch, capsys) -> None:
    from app.einvoice.facturx import build_invoice_pdf
    from app.einvoice.pdp.inbox import sync_once
    from tests.einvoice import sample_bodies as samples

    for name, value in (("URL", sandbox.url), ("TOKEN_URL", sandbox.token_url),
                        ("CLIENT_ID", sandbox.client_id),
                        ("CLIENT_SECRET", sandbox.client_secret)):  # fmt: skip
        monkeypatch.setenv(f"COMPTOIR_PDP_{name}", value)
    envelope, body = samples.multi_rate_goods()
    sandbox.add_incoming(build_invoice_pdf(envelope, body), "fournisseur.pdf")
    with client_for(sandbox) as client:
        sync_once(ledger, client)
    db = str(ledger.path)
    ledger.close()
    assert main(["--db", db, "pdp", "status", invoice, "212", "--amount", "50,00"]) == 0
    assert "212 Encaissée (statut vendeur) transmis" in capsys.readouterr().out
    supplier = body["number"]
    assert main(["--db", db, "pdp", "status", supplier, "210"]) == 2
    assert "code motif" in capsys.readouterr().err
    args = ["--db", db, "pdp", "status", supplier, "210", "--reason-code", "DOUBLON"]
    assert main(args) == 0
    assert "210 Refusée (statut acheteur) transmis" in capsys.readouterr().out
    assert [(s.code, s.reason_code) for s in sandbox.received_statuses] == [
        ("212", None), ("210", "DOUBLON")
    ]  # fmt: skip
    assert main(["--db", db, "pdp", "status", invoice]) == 2
    with Ledger.open(db) as reopened, reopened.reader() as session:
        from sqlalchemy import select

        from app.einvoice.pdp.models import OutboxItem

        states = session.execute(select(OutboxItem.kind, OutboxItem.state)).all()
    assert sorted(states) == [("212-1", DEPOSITED), ("invoice", DEPOSITED)]
