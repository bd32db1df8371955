"""`comptoir pdp push|sync` drive Chorus Pro too, over real HTTP to the local fakes: the
public customer's invoice to Chorus Pro, the private one to the plateforme agréée."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from app.cli import main
from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS, DEMO_SHOP
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.pdp.outbox_status import current_status, pending_count
from app.einvoice.pdp.sandbox import SandboxPlatform
from app.einvoice.service import issue_and_store
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from tests.einvoice.pdp.chorus_fake import FakeChorusPro

MAIRIE = CustomerInfo(
    name="Mairie de Villeurbanne",
    siret="26690001800018",
    address="Place Lazare-Goujon",
    postcode="69100",
    city="Villeurbanne",
    public_sector=True,
)


@pytest.fixture
def platform(monkeypatch) -> Iterator[SandboxPlatform]:
    with SandboxPlatform(lifecycle_step=3600) as sandbox:
        monkeypatch.setenv("COMPTOIR_PDP_URL", sandbox.url)
        monkeypatch.setenv("COMPTOIR_PDP_TOKEN_URL", sandbox.token_url)
        monkeypatch.setenv("COMPTOIR_PDP_CLIENT_ID", "comptoir")
        monkeypatch.setenv("COMPTOIR_PDP_CLIENT_SECRET", "secret")
        yield sandbox


@pytest.fixture
def chorus(monkeypatch) -> Iterator[FakeChorusPro]:
    with FakeChorusPro() as fake:
        monkeypatch.setenv("COMPTOIR_CHORUS_URL", fake.base_url)
        monkeypatch.setenv("COMPTOIR_CHORUS_TOKEN_URL", fake.token_url)
        monkeypatch.setenv("COMPTOIR_CHORUS_CLIENT_ID", fake.client_id)
        monkeypatch.setenv("COMPTOIR_CHORUS_CLIENT_SECRET", fake.client_secret)
        monkeypatch.setenv("COMPTOIR_CHORUS_LOGIN", fake.account_login)
        monkeypatch.setenv("COMPTOIR_CHORUS_PASSWORD", fake.account_password)
        yield fake


def shop_with_invoices(db: Path) -> dict[str, int]:
    """A ledger with one invoice to a public-sector customer and one to a private one."""
    line = InvoiceLineInput("Farine", Decimal(3), 2150, 550)
    with Ledger.open(db) as ledger, ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        public = save_customer(session, MAIRIE).id
        private = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
        return {
            name: issue_and_store(
                session, InvoiceDraft(buyer, (line,)), operator="Gérant"
            ).record.seq
            for name, buyer in (("public", public), ("private", private))
        }


def test_push_and_sync_reach_both_platforms(tmp_path, platform, chorus, capsys) -> None:
    db = tmp_path / "shop.sqlite"
    seqs = shop_with_invoices(db)
    assert main(["--db", str(db), "pdp", "push"]) == 0
    out = capsys.readouterr().out
    assert "Envoyées : 1" in out and "Chorus Pro — Envoyées : 1" in out
    assert len(chorus.deposits) == len(platform.deposits) == 1
    assert main(["--db", str(db), "pdp", "push"]) == 0  # nothing twice
    assert len(chorus.deposits) == len(platform.deposits) == 1
    chorus.advance()
    assert main(["--db", str(db), "pdp", "sync"]) == 0
    assert "Chorus Pro — Statuts reçus : 1" in capsys.readouterr().out
    with Ledger.open(db) as ledger, ledger.reader() as session:
        assert pending_count(session) == 0
        assert current_status(session, seqs["public"]) == ("Déposée", "")


def test_without_chorus_the_public_invoice_waits_and_push_says_why(
    tmp_path, platform, capsys
) -> None:
    db = tmp_path / "shop.sqlite"
    seqs = shop_with_invoices(db)
    assert main(["--db", str(db), "pdp", "push"]) == 1
    out = capsys.readouterr().out
    assert "Envoyées : 1" in out and "Chorus Pro —" not in out
    assert "Attention : 1 facture d'un client public attend son envoi : Chorus Pro n'est pas" in out
    assert len(platform.deposits) == 1
    with Ledger.open(db) as ledger, ledger.reader() as session:
        assert pending_count(session) == 1
        assert current_status(session, seqs["public"]) == ("En attente d'envoi", "")


def test_chorus_alone_is_enough_and_a_wrong_password_loses_nothing(
    tmp_path, chorus, monkeypatch, capsys
) -> None:
    db = tmp_path / "shop.sqlite"
    shop_with_invoices(db)
    monkeypatch.setenv("COMPTOIR_CHORUS_PASSWORD", "faux")
    assert main(["--db", str(db), "pdp", "push"]) == 1
    err = capsys.readouterr().err
    assert "Chorus Pro refuse le compte technique" in err and "faux" not in err
    assert chorus.deposits == []
    monkeypatch.setenv("COMPTOIR_CHORUS_PASSWORD", chorus.account_password)
    assert main(["--db", str(db), "pdp", "push"]) == 0  # the PA's invoice is not a problem
    assert "Chorus Pro — Envoyées : 1" in capsys.readouterr().out
    assert len(chorus.deposits) == 1
