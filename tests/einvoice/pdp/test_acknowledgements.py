"""After a deposit, the platform's acknowledgement (Pending, then Ok or Error) is read at
each sync; an Error rejects the invoice with the platform's rule ids in French. A buyer
the directory does not know leaves its invoice waiting, asked about at each sync, and
sent once the directory knows it. Against the sandbox over real HTTP on 127.0.0.1."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import facturx
import pytest
from lxml import etree
from sqlalchemy import select

from app.customers.models import Customer
from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS, DEMO_SHOP
from app.einvoice.pdp.client import HttpFlowClient
from app.einvoice.pdp.delivery import drain_once
from app.einvoice.pdp.directory import LISTED, NOT_LISTED, HttpDirectory, check_customer
from app.einvoice.pdp.models import (
    ACK_ERROR,
    ACK_OK,
    ACK_PENDING,
    DEPOSITED,
    FAILED,
    QUEUED,
    UNLISTED,
    OutboxItem,
)
from app.einvoice.pdp.outbox_status import current_status, outbox_problems
from app.einvoice.pdp.sandbox import SandboxPlatform
from app.einvoice.pdp.worker import sync_channel
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from tests.einvoice.pdp.test_outbox import client_for, issue, items

RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
BUYER_SIREN = "123456782"  # the demo customer, in the sandbox's directory


@pytest.fixture
def buyer(ledger: Ledger) -> int:
    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        return save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id


@pytest.fixture
def sandbox() -> Iterator[SandboxPlatform]:
    with SandboxPlatform(lifecycle_step=3600) as platform:
        yield platform


def _sync(ledger: Ledger, client: HttpFlowClient) -> None:
    sync_channel(ledger, "pdp", client, eager=True)


def _item(ledger: Ledger) -> OutboxItem:
    [row] = items(ledger)
    return row


def test_a_deposit_is_pending_until_the_platform_acknowledges_it_ok(ledger, buyer, sandbox) -> None:
    [seq] = issue(ledger, buyer)
    sandbox.set_ack_delay(3600)
    client = client_for(sandbox)
    assert drain_once(ledger, client).sent == 1
    assert (_item(ledger).state, _item(ledger).ack_status) == (DEPOSITED, ACK_PENDING)
    _sync(ledger, client)
    assert _item(ledger).ack_status == ACK_PENDING  # still checked by the platform
    sandbox.advance()
    _sync(ledger, client)
    assert (_item(ledger).state, _item(ledger).ack_status) == (DEPOSITED, ACK_OK)
    with ledger.reader() as session:
        assert outbox_problems(session) == []
        assert current_status(session, seq)[0] != "Rejetée par la plateforme"


def _breaking_br_fr_05(pdf: bytes) -> bytes:
    """The same Factur-X without its PMT note: what a platform's newer rules refuse."""
    _, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    root = etree.fromstring(xml)
    for note in root.iter(f"{{{RAM}}}IncludedNote"):
        if note.findtext(f"{{{RAM}}}SubjectCode") == "PMT":
            note.getparent().remove(note)
    return facturx.generate_from_binary(
        pdf, etree.tostring(root, xml_declaration=True, encoding="UTF-8"), check_xsd=False
    )


def test_an_acknowledgement_in_error_rejects_the_invoice_with_the_rules_in_french(
    ledger, buyer, sandbox
) -> None:
    [seq] = issue(ledger, buyer)
    with ledger.transaction() as session:
        item = session.scalars(select(OutboxItem)).one()
        item.payload = _breaking_br_fr_05(item.payload)
        item.sha256 = hashlib.sha256(item.payload).hexdigest()
    client = client_for(sandbox)
    assert drain_once(ledger, client).sent == 1  # taken: 202, Pending
    _sync(ledger, client)
    row = _item(ledger)
    assert (row.state, row.ack_status) == (FAILED, ACK_ERROR)
    assert "accusé de réception en erreur" in (row.last_error or "")
    assert "Règle BR-FR-05" in (row.last_error or "")
    with ledger.reader() as session:
        label, reason = current_status(session, seq)
        problems = outbox_problems(session)
    assert label == "Rejetée par la plateforme" and "BR-FR-05" in reason
    assert problems[0].startswith(f"Facture {row.doc_number} rejetée par la plateforme : ")
    assert drain_once(ledger, client).sent == 0 and len(sandbox.deposits) == 1


def test_a_search_with_nothing_new_is_no_error(ledger, sandbox) -> None:
    client = client_for(sandbox)
    assert client.search(tracking_id="personne") == []  # 204 No Content
    assert sync_channel(ledger, "pdp", client, eager=True) == (0, 0)


def test_an_already_existing_flow_counts_as_deposited_once(ledger, buyer, sandbox) -> None:
    issue(ledger, buyer)
    row = _item(ledger)
    client = client_for(sandbox)
    other = client.submit(row.payload, filename="x.pdf", tracking_id="another-till")
    stats = drain_once(ledger, client)
    assert (stats.sent, stats.deposited_after_search) == (0, 1)
    assert (_item(ledger).state, _item(ledger).flow_id) == (DEPOSITED, other.flow_id)
    assert len(sandbox.deposits) == 1


def _customer(ledger: Ledger, buyer: int) -> Customer:
    with ledger.reader() as session:
        customer = session.get(Customer, buyer)
        session.expunge(customer)
        return customer


def test_the_directory_gives_the_buyer_s_address_and_routing_code(ledger, buyer, sandbox) -> None:
    issue(ledger, buyer)
    assert drain_once(ledger, client_for(sandbox)).sent == 1
    customer = _customer(ledger, buyer)
    assert (customer.directory_status, customer.routing_code) == (LISTED, "LYON")
    assert customer.electronic_address == "123456782_LYON"


def test_a_buyer_not_in_the_directory_waits_then_leaves_once_listed(ledger, buyer, sandbox) -> None:
    sandbox.directory_unlist(BUYER_SIREN)
    issue(ledger, buyer, 2)
    client = client_for(sandbox)
    stats = drain_once(ledger, client)
    assert (stats.sent, stats.unlisted, stats.failed) == (0, 2, 0)
    assert {row.state for row in items(ledger)} == {UNLISTED} and sandbox.deposits == []
    with ledger.reader() as session:
        label, reason = current_status(session, items(ledger)[0].invoice_seq)
        problems = outbox_problems(session)
    assert label == "En attente : destinataire non référencé" and BUYER_SIREN in reason
    assert problems == [
        f"2 factures ({', '.join(r.doc_number for r in items(ledger))}) attendent : "
        "destinataire non référencé dans l'annuaire. Envoi dès que l'annuaire le "
        "connaîtra (vérifié à chaque synchronisation)."
    ]
    assert _customer(ledger, buyer).directory_status == NOT_LISTED
    _sync(ledger, client)  # asked again: still unknown
    assert {row.state for row in items(ledger)} == {UNLISTED}

    sandbox.directory_add(BUYER_SIREN, "123456782_SIEGE", "SIEGE")
    _sync(ledger, client)
    assert {row.state for row in items(ledger)} == {QUEUED}
    assert drain_once(ledger, client).sent == 2
    assert len(sandbox.deposits) == 2
    assert _customer(ledger, buyer).routing_code == "SIEGE"


def test_a_customer_is_looked_up_on_demand(ledger, buyer, sandbox) -> None:
    with client_for(sandbox) as client:
        found = check_customer(ledger, HttpDirectory(client), buyer)
        assert found.listed and found.describe() == (
            "Joignable : adresse électronique 123456782_LYON, code de routage LYON."
        )
        sandbox.directory_close()
        sandbox.directory_unlist(BUYER_SIREN)
        missing = check_customer(ledger, HttpDirectory(client), buyer)
    assert not missing.listed and "non référencé" in missing.describe()
    assert _customer(ledger, buyer).directory_status == NOT_LISTED
