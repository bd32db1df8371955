"""Partial credit notes: chosen lines and quantities, never more than what is left, the
invoice's own discount given back in proportion, and the official rules held."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS, DEMO_SHOP
from app.einvoice.corrections import creditable_lines
from app.einvoice.invoices import Charge, InvoiceDraft, InvoiceLineInput
from app.einvoice.issuing import get_document, status_of
from app.einvoice.service import credit_and_store, issue_and_store
from app.errors import InvalidInput
from app.ledger.settings import record_fiscal_settings
from app.sales.cart import Discount


@pytest.fixture
def shop(ledger):
    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0]))
    return {"ledger": ledger, "buyer": buyer.id}


def _invoice(shop, discount=None, charges=()):
    lines = (
        InvoiceLineInput("Farine T65", Decimal(10), 1250, 550),
        InvoiceLineInput("Vin", Decimal(6), 900, 2000),
    )
    draft = InvoiceDraft(shop["buyer"], lines, document_discount=discount, charges=charges)
    with shop["ledger"].transaction() as session:
        return issue_and_store(session, draft, operator="Gérant").doc_number


def _credit(shop, number, lines, reason="Retour"):
    with shop["ledger"].transaction() as session:
        return credit_and_store(session, number, operator="Gérant", reason=reason, lines=lines)


def test_the_invoice_discount_is_given_back_in_proportion(shop) -> None:
    number = _invoice(shop, Discount.percent_of(Decimal(10)), (Charge("Port", 1500, 2000),))
    credit = _credit(shop, number, [(1, 6)]).record.body
    assert credit["total_lines"] == 5400 and credit["total_allowances"] == 540
    assert credit["total_charges"] == 0  # the shipping stays
    assert credit["total"] == 4860 + 972
    amount = _invoice(shop, Discount.amount(1000))
    with shop["ledger"].reader() as session:
        invoice = get_document(session, amount).body
    credit = _credit(shop, amount, [(0, 10)]).record.body
    share = (1000 * 12500 * 2 + invoice["total_lines"]) // (2 * invoice["total_lines"])
    assert credit["total_allowances"] == share


def test_an_unknown_or_repeated_line_is_refused(shop) -> None:
    number = _invoice(shop)
    for lines, message in (
        ([(2, 1)], r"Ligne 3 inconnue sur la facture F2026-000001 \(elle en a 2\)"),
        ([(0, 1), (0, 1)], "La ligne 1 est demandée deux fois"),
        ([(True, 1)], "inconnue"),
        ([(0, "-1")], "strictement positive"),
        ([(0, "abc")], "Quantité"),
    ):
        with shop["ledger"].transaction() as session, pytest.raises(InvalidInput, match=message):
            credit_and_store(session, number, operator="Gérant", reason="x", lines=lines)
    with shop["ledger"].transaction() as session, pytest.raises(InvalidInput, match="motif"):
        credit_and_store(session, number, operator="Gérant", reason=" ", lines=[(0, 1)])


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(1, 6)), min_size=1, max_size=6))
def test_credit_notes_never_exceed_the_invoice(shop, steps) -> None:
    """Whatever is asked, line by line, the credit notes add up to no more than the
    invoice, and each line to no more than was sold; each one passes the official rules
    (credit_and_store refuses one that does not)."""
    number = _invoice(shop, Discount.percent_of(Decimal(5)))
    for index, qty in steps:
        try:
            _credit(shop, number, [(index, qty)])
        except InvalidInput as exc:
            assert "au plus" in exc.message or "dépasse" in exc.message, exc.message
    with shop["ledger"].reader() as session:
        invoice = get_document(session, number)
        state = status_of(session, invoice)
        left = creditable_lines(session, number)
    assert 0 <= state.credited <= invoice.body["total"]
    assert all(0 <= line.left <= line.sold for line in left)
