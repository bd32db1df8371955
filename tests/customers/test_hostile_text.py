"""Characters an XML document cannot carry are refused where they are typed, in French,
and nothing is saved: labels, customers, the shop's identity, invoice notes, operators."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.cli import main
from app.customers.models import Customer
from app.customers.service import CustomerInfo, FieldError, save_customer
from app.demo import DEMO_CUSTOMERS, DEMO_SHOP
from app.errors import InvalidInput
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from app.values.text import validate_label

HOSTILE = {
    "\ufffe": "un caractère non valide (U+FFFE)",
    "\uffff": "un caractère non valide (U+FFFF)",
    "\ud800": "un demi-caractère isolé (U+D800)",
    "\x01": "un caractère de contrôle (U+0001)",
}


LABEL_REFUSALS = {
    "\ufffe": "Le libellé contient un caractère non valide (U+FFFE) en position 5",
    "\uffff": "Le libellé contient un caractère non valide (U+FFFF) en position 5",
    "\ud800": "Le libellé contient des caractères invalides.",
    "\x01": "Le libellé contient des caractères de contrôle",
}


@pytest.mark.parametrize("char", HOSTILE)
def test_a_label_with_such_a_character_is_refused_in_french(char: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_label(f"Pain{char}complet")
    assert refused.value.message.startswith(LABEL_REFUSALS[char])


@pytest.mark.parametrize("char", HOSTILE)
@pytest.mark.parametrize("field", ["name", "address", "city"])
def test_a_customer_with_such_a_character_is_not_saved(ledger: Ledger, char, field) -> None:
    info = CustomerInfo(**{**DEMO_CUSTOMERS[0], field: f"Café{char}"})
    with pytest.raises(FieldError) as refused, ledger.transaction() as session:
        save_customer(session, info)
    assert refused.value.field == field and HOSTILE[char] in refused.value.message
    with ledger.reader() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 0


def test_tab_and_new_lines_stay_allowed_where_text_allows_them(ledger: Ledger) -> None:
    info = CustomerInfo(**{**DEMO_CUSTOMERS[0], "address": "1 rue\tdu Port\r\n"})
    with ledger.transaction() as session:
        assert save_customer(session, info).address == "1 rue du Port"


def test_the_shop_identity_refuses_them(ledger: Ledger) -> None:
    from dataclasses import replace

    with pytest.raises(InvalidInput, match="U\\+FFFF"), ledger.transaction() as session:
        record_fiscal_settings(session, replace(DEMO_SHOP, address="1 rue\uffff"), operator="G")


def test_an_invoice_note_refuses_them(ledger: Ledger) -> None:
    from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
    from app.einvoice.issuing import issue_invoice

    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
    draft = InvoiceDraft(
        customer_id=buyer,
        lines=(InvoiceLineInput("Farine", Decimal(1), 1250, 550),),
        note="Livraison\ud800",
    )
    with pytest.raises(InvalidInput, match="La note contient"), ledger.transaction() as session:
        issue_invoice(session, draft, operator="Camille")


def test_the_command_line_refuses_an_operator_name_with_them(tmp_path, capsys) -> None:
    db = tmp_path / "shop.sqlite"
    Ledger.open(db).close()
    # A name that is not valid UTF-8 reaches Python as lone surrogates (surrogateescape).
    assert main(["--db", str(db), "backup", "create", "--operator", "G\udcff"]) == 2
    err = capsys.readouterr().err
    # The command line refuses it while reading its arguments, before any service runs.
    assert "l'argument n°6 contient un caractère non permis (U+DCFF)" in err
    assert not list(tmp_path.glob("shop-sauvegardes/*.sqlite"))
