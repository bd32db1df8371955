"""`comptoir customer`, `invoice credit` and `ticket refund` end to end on a real ledger."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from app.cli import main
from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS, DEMO_SHOP
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.service import issue_and_store
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from tests.helpers import ring, shop_today


@pytest.fixture
def shop_db(tmp_path: Path) -> Path:
    """A real ledger with the demo identity, a customer, an invoice of two lines and a
    ticket paid by card; no operator yet, so no PIN is asked."""
    path = tmp_path / "shop.sqlite"
    with Ledger.open(path) as ledger:
        with ledger.transaction() as session:
            record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
            customer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0]))
            draft = InvoiceDraft(
                customer_id=customer.id,
                lines=(
                    InvoiceLineInput("Farine T65", Decimal(10), 1250, 550),
                    InvoiceLineInput("Vin", Decimal(2), 900, 2000),
                ),
            )
            issue_and_store(session, draft, operator="Gérant")
        ring(ledger, ("Pain", 130, 2, 550), ("Confiture", 450, 1, 550), operator="Gérant")
    return path


def _run(db: Path, capsys, *words: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), *words])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_customer_list_search_show_and_edit(shop_db, capsys) -> None:
    code, out, _ = _run(shop_db, capsys, "customer", "list")
    assert code == 0 and "Boulangerie Martin" in out and "1 client." in out
    code, out, _ = _run(shop_db, capsys, "customer", "list", "lyon")
    assert code == 0 and "Boulangerie Martin" in out
    code, out, _ = _run(shop_db, capsys, "customer", "list", "123456")  # SIREN
    assert "Boulangerie Martin" in out
    code, out, _ = _run(shop_db, capsys, "customer", "list", "Marseille")
    assert code == 0 and "0 client." in out
    code, out, _ = _run(shop_db, capsys, "customer", "show", "1")
    assert code == 0 and f"F{shop_today().year}-" in out and "À payer" in out

    code, _, err = _run(shop_db, capsys, "customer", "edit", "1", "--siren", "123456789")
    assert code == 2 and "SIREN invalide" in err and "--siren" in err
    code, _, err = _run(shop_db, capsys, "customer", "edit", "1", "--city", "Lyon\ufffe")
    assert code == 2 and "caractère non" in err, err
    code, out, _ = _run(shop_db, capsys, "customer", "edit", "1", "--city", "Villeurbanne")
    assert code == 0 and "Client n°1 enregistré" in out
    code, out, _ = _run(shop_db, capsys, "customer", "list", "villeur")
    assert "Villeurbanne" in out
    code, out, _ = _run(
        shop_db,
        capsys,
        "customer",
        "add",
        "--kind",
        "particulier",
        "--name",
        "Jeanne Dupont",
        "--address",
        "1 rue Haute",
        "--postcode",
        "69003",
        "--city",
        "Lyon",
    )
    assert code == 0 and "Client n°2 enregistré : Jeanne Dupont." in out


def test_partial_credit_notes_never_exceed_what_is_left(shop_db, capsys) -> None:
    year = shop_today().year  # the invoice's and the credit notes' (the ledger's clock)
    invoice = f"F{year}-000001"
    code, out, err = _run(
        shop_db, capsys, "invoice", "credit", invoice, "--reason", "Casse", "--line", "2:1"
    )
    assert code == 0, err
    assert f"Avoir AV{year}-000001 sur la facture {invoice} : 10,80 € TTC" in out
    code, _, err = _run(
        shop_db, capsys, "invoice", "credit", invoice, "--reason", "x", "--line", "2:2"
    )
    assert code == 2 and "au plus 1 à créditer" in err
    code, _, err = _run(
        shop_db, capsys, "invoice", "credit", invoice, "--reason", "x", "--line", "2:z"
    )
    assert code == 2 and "N:QTÉ" in err
    code, out, err = _run(
        shop_db,
        capsys,
        "invoice",
        "credit",
        invoice,
        "--reason",
        "Retour",
        "--line",
        "1:2,5",
        "--line",
        "2:1",
    )
    assert code == 0 and f"AV{year}-000002" in out, err
    with Ledger.open(shop_db, readonly=True) as ledger, ledger.reader() as session:
        from app.einvoice.corrections import creditable_lines

        left = creditable_lines(session, invoice)
    assert [line.left for line in left] == [Decimal("7.5"), 0]


def test_ticket_refund_by_card_is_recorded_as_card(shop_db, capsys) -> None:
    code, out, err = _run(
        shop_db,
        capsys,
        "ticket",
        "refund",
        "1",
        "--line",
        "2:1",
        "--method",
        "carte",
        "--reason",
        "Pot cassé",
    )
    assert code == 0, err
    assert "4,50 € remboursés en carte bancaire sur le ticket n°1" in out
    with Ledger.open(shop_db, readonly=True) as ledger, ledger.reader() as session:
        from app.sales.service import get_ticket

        refund = get_ticket(session, 2)
    assert refund.body["payments"] == [{"method": "card", "amount": -450}]
    code, _, err = _run(
        shop_db, capsys, "ticket", "refund", "1", "--line", "2:1", "--reason", "encore"
    )
    assert code == 2 and "Quantité à rembourser invalide" in err
