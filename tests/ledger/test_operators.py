"""Each service checks the role of the operator it acts for, whichever front-end calls it."""

from __future__ import annotations

import pytest

from app.demo import DEMO_SHOP
from app.ledger.closures import close_day, close_month
from app.ledger.operators import PermissionDenied, Role
from app.ledger.settings import record_fiscal_settings
from app.sales.service import cancel_ticket
from app.staff.service import add_operator
from tests.helpers import ring


@pytest.fixture
def staffed(ledger):
    with ledger.transaction() as session:
        add_operator(session, "Camille", Role.MANAGER, "1234", operator="Camille")
        add_operator(session, "Yanis", Role.CASHIER, "5678", operator="Camille")
        add_operator(session, "Inès", Role.ACCOUNTANT, "2468", operator="Camille")
    return ledger


def test_a_ledger_without_operators_has_no_roles_to_check(ledger, clock) -> None:
    ticket = ring(ledger, operator="Alice")
    with ledger.transaction() as session:
        cancel_ticket(session, ticket.number, operator="Alice", reason="Erreur de saisie")
        close_day(session, clock.today, operator="Alice")


def test_the_role_is_read_from_the_ledger_by_the_service(staffed, clock) -> None:
    ticket = ring(staffed, operator="Yanis")
    with pytest.raises(PermissionDenied, match="Inès \\(comptable\\) n'a pas le droit d'encaisser"):
        ring(staffed, operator="Inès")
    with pytest.raises(PermissionDenied, match="n'est pas un opérateur de ce journal"):
        ring(staffed, operator="Alice")
    with staffed.transaction() as session, pytest.raises(PermissionDenied, match="rembourser"):
        cancel_ticket(session, ticket.number, operator="Yanis", reason="Erreur de saisie")
    with staffed.transaction() as session, pytest.raises(PermissionDenied, match="réglages"):
        record_fiscal_settings(session, DEMO_SHOP, operator="Yanis")
    with staffed.transaction() as session:
        cancel_ticket(session, ticket.number, operator="Camille", reason="Erreur de saisie")
    month = clock.today.isoformat()[:7]
    with staffed.transaction() as session:
        close_day(session, clock.today, operator="Yanis")  # a cashier closes the day
    clock.advance(days=40)
    with staffed.transaction() as session, pytest.raises(PermissionDenied, match="un mois"):
        close_month(session, month, operator="Yanis")


def test_settings_and_catalog_are_changed_by_whom_the_role_allows(staffed) -> None:
    from app.catalog.service import save_product
    from app.ledger.backup.copies import save_backup_settings
    from app.ledger.preferences import save_till_id

    with staffed.transaction() as session, pytest.raises(PermissionDenied, match="réglages"):
        save_till_id(session, "CAISSE-9", operator="Yanis")
    with staffed.transaction() as session, pytest.raises(PermissionDenied, match="réglages"):
        save_backup_settings(session, "", 3, operator="Yanis")
    with staffed.transaction() as session, pytest.raises(PermissionDenied, match="réglages"):
        add_operator(session, "Léa", Role.CASHIER, "1357", operator="Yanis")
    with staffed.transaction() as session, pytest.raises(PermissionDenied, match="catalogue"):
        save_product(session, name="Thé", price_cents=450, vat_rate_bp=550, operator="Inès")
    with staffed.transaction() as session:
        save_till_id(session, "CAISSE-9", operator="Camille")
    assert staffed.till_id == "CAISSE-9"


def test_invoices_and_restores_are_checked_too(staffed, clock, tmp_path) -> None:
    from decimal import Decimal

    from app.customers.service import CustomerInfo, save_customer
    from app.demo import DEMO_CUSTOMERS
    from app.einvoice.corrections import issue_credit_note, record_payment
    from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
    from app.einvoice.issuing import issue_invoice
    from app.ledger.backup.copies import backup_now
    from app.ledger.backup.restore import restore_backup

    with staffed.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Camille")
        buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
    draft = InvoiceDraft(buyer, (InvoiceLineInput("Panier", Decimal(1), 4000, 550),))
    with staffed.transaction() as session, pytest.raises(PermissionDenied, match="encaisser"):
        issue_invoice(session, draft, operator="Inès")
    with staffed.transaction() as session:
        invoice = issue_invoice(session, draft, operator="Yanis")
    number = invoice.body["number"]
    with staffed.transaction() as session, pytest.raises(PermissionDenied, match="rembourser"):
        issue_credit_note(session, number, operator="Yanis", reason="Erreur")
    with staffed.transaction() as session, pytest.raises(PermissionDenied, match="encaisser"):
        record_payment(session, number, 1000, operator="Inès")

    if staffed.is_server:  # a PostgreSQL ledger is copied with pg_dump, not by Comptoir
        return
    copy = backup_now(staffed, operator="Camille")
    with pytest.raises(PermissionDenied, match="modifier les réglages"):
        restore_backup(copy.path, staffed.path, operator="Yanis", kind=staffed.kind)
