"""Issuing queues the invoice; `comptoir pdp push|sync` send it and bring statuses back,
over real HTTP to the local platform."""

from __future__ import annotations

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


@pytest.fixture
def platform(monkeypatch):
    with SandboxPlatform(lifecycle_step=0.01) as sandbox:
        monkeypatch.setenv("COMPTOIR_PDP_URL", sandbox.url)
        monkeypatch.setenv("COMPTOIR_PDP_TOKEN_URL", sandbox.token_url)
        monkeypatch.setenv("COMPTOIR_PDP_CLIENT_ID", "comptoir")
        monkeypatch.setenv("COMPTOIR_PDP_CLIENT_SECRET", "secret")
        yield sandbox


def test_issue_push_and_sync(tmp_path: Path, platform, capsys) -> None:
    db = tmp_path / "shop.sqlite"
    with Ledger.open(db) as ledger:
        with ledger.transaction() as session:
            record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
            buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
            line = InvoiceLineInput("Farine", Decimal(3), 2150, 550)
            issued = issue_and_store(session, InvoiceDraft(buyer, (line,)), operator="Gérant")
            seq = issued.record.seq
        with ledger.reader() as session:
            assert pending_count(session) == 1
            assert current_status(session, seq)[0] == "En attente d'envoi"
    assert main(["--db", str(db), "pdp", "push"]) == 0
    assert "Envoyées : 1" in capsys.readouterr().out
    assert [d.tracking_id for d in platform.deposits] and len(platform.deposits) == 1
    assert main(["--db", str(db), "pdp", "push"]) == 0  # nothing twice
    assert len(platform.deposits) == 1
    platform.advance()
    assert main(["--db", str(db), "pdp", "sync"]) == 0
    assert "Statuts reçus" in capsys.readouterr().out
    with Ledger.open(db) as ledger, ledger.reader() as session:
        assert pending_count(session) == 0
        assert current_status(session, seq)[0] == "Approuvée"


def test_push_without_a_platform_is_a_clear_error(tmp_path: Path, capsys) -> None:
    db = tmp_path / "shop.sqlite"
    Ledger.open(db).close()
    assert main(["--db", str(db), "pdp", "push"]) == 2
    assert "aucune plateforme" in capsys.readouterr().err


def test_wrong_credentials_lose_nothing(tmp_path: Path, platform, monkeypatch, capsys) -> None:
    db = tmp_path / "shop.sqlite"
    with Ledger.open(db) as ledger, ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
        issue_and_store(
            session,
            InvoiceDraft(buyer, (InvoiceLineInput("Farine", Decimal(1), 2150, 550),)),
            operator="Gérant",
        )
    monkeypatch.setenv("COMPTOIR_PDP_CLIENT_SECRET", "wrong")
    assert main(["--db", str(db), "pdp", "push"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Erreur") and "wrong" not in err  # the secret is never shown
    with Ledger.open(db) as ledger, ledger.reader() as session:
        assert pending_count(session) == 1
    assert platform.deposits == []


def test_paid_services_invoice_reports_212(tmp_path: Path, platform) -> None:
    from app.einvoice.corrections import record_payment
    from app.einvoice.pdp.client import HttpFlowClient
    from app.einvoice.pdp.config import PlatformSettings
    from app.einvoice.pdp.inbox import report_cashed, vat_due_on_payment
    from app.errors import InvalidInput

    db = tmp_path / "shop.sqlite"
    with Ledger.open(db) as ledger:
        with ledger.transaction() as session:
            record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
            buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
            line = InvoiceLineInput(
                "Atelier", Decimal(2), 12000, 2000, unit="HUR", nature="services"
            )
            issued = issue_and_store(session, InvoiceDraft(buyer, (line,)), operator="Gérant")
        number = issued.doc_number
        assert vat_due_on_payment(issued.record.body)
        client = HttpFlowClient(
            PlatformSettings(platform.url, platform.token_url, "comptoir", "secret")
        )
        try:
            with (
                pytest.raises(InvalidInput, match="pas entièrement réglée"),
                ledger.transaction() as session,
            ):
                report_cashed(session, client, number)
            with ledger.transaction() as session:
                record_payment(session, number, issued.record.body["total"], operator="Gérant")
                report_cashed(session, client, number)
        finally:
            client.close()
        with ledger.reader() as session:
            assert current_status(session, issued.record.seq)[0] == "Encaissée"
    [cdar] = [d for d in platform.deposits if d.syntax == "CDAR"]
    assert cdar.name == f"CDAR_{number}_212.xml"


def test_report_sends_flux_10_then_a_rectificative(tmp_path: Path, platform, capsys) -> None:
    from lxml import etree

    from app.einvoice.official import validate_ereporting
    from app.ledger.closures import close_day
    from tests.helpers import ring, shop_today

    db = tmp_path / "shop.sqlite"
    with Ledger.open(db) as ledger:
        with ledger.transaction() as session:
            record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        ring(ledger, ("Pain", 130, 2, 550), ("Vin", 1150, 1, 2000))
        day = shop_today()
        with ledger.transaction() as session:
            close_day(session, day, operator="Gérant")
    month = f"{day:%Y-%m}"
    assert main(["--db", str(db), "pdp", "report", "--replace"]) == 2
    assert "--period" in capsys.readouterr().err
    assert main(["--db", str(db), "pdp", "report", "--period", "mars"]) == 2
    assert "Période invalide : 'mars' (attendu AAAA-MM ou AAAA-MM-JJ)" in capsys.readouterr().err
    assert main(["--db", str(db), "pdp", "report", "--period", month]) == 2
    assert "matricule" in capsys.readouterr().err  # the platform's, in every report
    assert main(["--db", str(db), "pdp", "report", "--period", month, "--matricule", "0042"]) == 0
    out = capsys.readouterr().out
    assert "E-reporting initial des transactions" in out
    assert "Règles appliquées : XSD Flux 10 DGFiP v3 ; schématron PPF Flux 10" in out
    sent = len(platform.reports)
    assert sent == 2  # transactions (10.3) and payments (10.4) of the period of that day
    assert main(["--db", str(db), "pdp", "report", "--period", day.isoformat()]) == 2
    assert "déjà été transmis" in capsys.readouterr().err
    args = ["--db", str(db), "pdp", "report", "--period", day.isoformat(), "--replace"]
    assert main(args) == 0
    assert "E-reporting rectificatif" in capsys.readouterr().out
    types = [
        etree.fromstring(r.content).findtext("ReportDocument/TypeCode") for r in platform.reports
    ]
    assert types == ["IN", "IN", "RE", "RE"]
    assert all(validate_ereporting(r.content).ok for r in platform.reports)


def test_invoice_validate_names_the_rules(tmp_path: Path, capsys) -> None:
    from app.einvoice.facturx import data_dict, invoice_xml
    from tests.einvoice import sample_bodies as samples

    envelope, body = samples.multi_rate_goods()
    path = tmp_path / "facture.xml"
    path.write_bytes(invoice_xml(data_dict(envelope, body)))
    assert main(["invoice", "validate", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Factur-X EN16931 valide")
    assert out[1].startswith("Règles appliquées : ") and "BR-FR Flux 2 (CII) V1.4.0.03" in out[1]


def test_directory_lookup_and_waiting_invoices(tmp_path: Path, platform, capsys) -> None:
    db = tmp_path / "shop.sqlite"
    siren = DEMO_CUSTOMERS[0]["siren"]
    with Ledger.open(db) as ledger, ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
        line = InvoiceLineInput("Farine", Decimal(3), 2150, 550)
        issue_and_store(session, InvoiceDraft(buyer, (line,)), operator="Gérant")
    assert main(["--db", str(db), "pdp", "directory", siren]) == 0
    assert capsys.readouterr().out.strip() == (
        "Joignable : adresse électronique 123456782_LYON, code de routage LYON."
    )
    platform.directory_unlist(siren)
    assert main(["--db", str(db), "pdp", "directory", siren]) == 1
    assert "non référencé dans l'annuaire" in capsys.readouterr().out
    assert main(["--db", str(db), "pdp", "push"]) == 0  # not an error: it waits
    out = capsys.readouterr().out
    assert "Envoyées : 0" in out and "destinataire non référencé dans l'annuaire" in out
    assert platform.deposits == []
    platform.directory_add(siren, "123456782_SIEGE")
    assert main(["--db", str(db), "pdp", "sync"]) == 0
    assert main(["--db", str(db), "pdp", "push"]) == 0
    assert "Envoyées : 1" in capsys.readouterr().out and len(platform.deposits) == 1
    assert main(["--db", str(db), "pdp", "directory", "12345"]) == 2
    assert "SIREN invalide" in capsys.readouterr().err


def test_sync_shows_an_invoice_the_platform_rejected(tmp_path: Path, platform, capsys) -> None:
    from tests.helpers import shop_today

    db = tmp_path / "shop.sqlite"
    with Ledger.open(db) as ledger, ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
        line = InvoiceLineInput("Farine", Decimal(3), 2150, 550)
        issued = issue_and_store(session, InvoiceDraft(buyer, (line,)), operator="Gérant")
    number = issued.doc_number
    assert number == f"F{shop_today().year}-000001"  # numbered in the year of the clock
    platform.nack_next(1, rule="BR-FR-12", message="Code de routage absent")
    assert main(["--db", str(db), "pdp", "push"]) == 0
    assert main(["--db", str(db), "pdp", "sync"]) == 0
    out = capsys.readouterr().out
    assert (
        f"Attention : Facture {number} rejetée par la plateforme : accusé de réception en "
        "erreur — Règle BR-FR-12 : Code de routage absent." in out
    )


def test_report_names_a_rejected_period_and_its_reason(tmp_path: Path, platform, capsys) -> None:
    from app.ledger.closures import close_day
    from tests.helpers import ring, shop_today

    db = tmp_path / "shop.sqlite"
    with Ledger.open(db) as ledger:
        with ledger.transaction() as session:
            record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        ring(ledger, ("Pain", 130, 2, 550))
        day = shop_today()
        with ledger.transaction() as session:
            close_day(session, day, operator="Gérant")
    platform.set_report_outcome("301", "Montants incohérents")
    args = ["--db", str(db), "pdp", "report", "--period", day.isoformat(), "--matricule", "0042"]
    assert main(args) == 0
    capsys.readouterr()
    assert main(["--db", str(db), "pdp", "sync"]) == 0
    assert main(["--db", str(db), "pdp", "report"]) == 1
    out = capsys.readouterr().out
    assert "Aucun e-reporting à transmettre." in out
    assert "a été rejeté (PPF (301) — Montants incohérents)." in out
