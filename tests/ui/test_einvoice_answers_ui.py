"""What the platform and the directory answered, as the shop sees it: a rejected
e-reporting period with its reason, the banner of invoices waiting for the directory,
and the customer form's directory line. Screenshots go to ``COMPTOIR_SCREENSHOTS`` when
set (docs/screenshots), else into the test's folder."""

from __future__ import annotations

import os
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.pdp.client import HttpFlowClient
from app.einvoice.pdp.config import PlatformSettings
from app.einvoice.pdp.delivery import drain_once
from app.einvoice.pdp.ereporting.report import send_due
from app.einvoice.pdp.outbox import enqueue, transmits
from app.einvoice.pdp.sandbox import SandboxPlatform
from app.einvoice.pdp.worker import sync_channel
from app.einvoice.service import issue_and_store
from app.ledger.closures import close_day
from app.sales.cart import Cart, CartLine
from app.sales.payments import Payment, PaymentMethod
from app.sales.service import record_sale
from app.ui.invoices.customer_dialog import CustomerDialog
from app.ui.main_window import PAGES


def _shots(tmp_path: Path) -> Path:
    return Path(os.environ.get("COMPTOIR_SCREENSHOTS") or tmp_path)


def _client(platform: SandboxPlatform) -> HttpFlowClient:
    return HttpFlowClient(
        PlatformSettings(platform.url, platform.token_url, platform.client_id, "secret")
    )


@pytest.fixture
def platform(monkeypatch):
    monkeypatch.setenv("COMPTOIR_PDP_MATRICULE", "0042")
    with SandboxPlatform(lifecycle_step=3600) as sandbox:
        monkeypatch.setenv("COMPTOIR_PDP_URL", sandbox.url)
        monkeypatch.setenv("COMPTOIR_PDP_TOKEN_URL", sandbox.token_url)
        monkeypatch.setenv("COMPTOIR_PDP_CLIENT_ID", sandbox.client_id)
        monkeypatch.setenv("COMPTOIR_PDP_CLIENT_SECRET", sandbox.client_secret)
        yield sandbox


def _sell_and_close(ledger, clock, day: date) -> None:
    clock.set_local(day, time(10))
    cart = Cart()
    cart.add(CartLine("Baguette", 130, Decimal(3), 550))
    cart.add(CartLine("Vin rouge", 1150, Decimal(1), 2000))
    with ledger.transaction() as session:
        record_sale(
            session, cart, [Payment(PaymentMethod.CARD, cart.totals().total_cents)], "Camille"
        )
    clock.set_local(day, time(19))
    with ledger.transaction() as session:
        close_day(session, day, operator="Camille")


def test_a_rejected_e_reporting_period_is_shown_with_its_reason(
    qtbot, window, shop, clock, platform, tmp_path
) -> None:
    ledger = shop["ledger"]
    _sell_and_close(ledger, clock, date(2026, 3, 2))
    _sell_and_close(ledger, clock, date(2026, 3, 12))
    clock.set_local(date(2026, 4, 2), time(9))
    platform.nack_next(1, rule="G6.22", message="Matricule de plateforme inconnu du PPF")
    platform.set_report_outcome("301", "Période déjà déclarée par un autre émetteur")
    with _client(platform) as client:
        send_due(ledger, client, operator="Camille")
        sync_channel(ledger, "pdp", client, eager=True)

    dialog = window.ask_ereport()
    qtbot.addWidget(dialog)
    dialog.resize(1100, 420)
    model = dialog.model
    rows = {
        (model.index(r, 0).data(), model.index(r, 1).data()): (
            model.index(r, 3).data(), model.index(r, 6).data()
        )
        for r in range(model.rowCount())
    }  # fmt: skip
    first, second = (
        rows[("Transactions (10.1, 10.3)", "01/03/2026")],
        rows[("Transactions (10.1, 10.3)", "11/03/2026")],
    )
    assert first == (
        "Rejeté", "Plateforme — Règle G6.22 : Matricule de plateforme inconnu du PPF"
    )  # fmt: skip
    assert second == ("Rejeté", "PPF (301) — Période déjà déclarée par un autre émetteur")
    rejected = sum(1 for state, _ in rows.values() if state == "Rejeté")
    assert f"{rejected} déclarations rejetées (voir le motif)" in dialog.message.text()
    assert dialog.send_button.isEnabled()  # sent again as initial reports
    qtbot.wait(100)
    dialog.grab().save(str(_shots(tmp_path) / "ereporting-rejected.png"))
    dialog.close()  # a modal dialog left open would take the keys of later tests


def test_the_invoices_screen_says_which_invoices_wait_for_the_directory(
    qtbot, window, shop, platform, tmp_path
) -> None:
    ledger = shop["ledger"]
    platform.directory_unlist(DEMO_CUSTOMERS[0]["siren"])
    with ledger.transaction() as session:
        buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
    for n in range(2):
        draft = InvoiceDraft(
            customer_id=buyer, lines=(InvoiceLineInput("Farine T65", Decimal(n + 1), 1250, 550),)
        )
        with ledger.transaction() as session:
            issued = issue_and_store(session, draft, operator="Camille")
            assert transmits(session, issued.record.body)
            enqueue(session, issued.record, issued.pdf.read_bytes())
    with _client(platform) as client:
        assert drain_once(ledger, client).unlisted == 2
    window.nav.setCurrentRow(PAGES.index("Factures"))
    screen = window.screens["Factures"]
    screen.refresh()
    window.refresh_banner()
    qtbot.waitUntil(screen.unlisted.isVisible)
    qtbot.wait(100)  # laid out before the picture
    assert screen.unlisted.isVisibleTo(window)
    assert screen.unlisted.text().startswith("2 factures (F2026-000001, F2026-000002) attendent")
    assert "destinataire non référencé" in screen.unlisted.text()
    statuses = [screen.model.index(r, 7).data() for r in range(screen.model.rowCount())]
    assert statuses == ["En attente : destinataire non référencé"] * 2
    window.grab().save(str(_shots(tmp_path) / "invoices-unlisted.png"))

    platform.directory_add(DEMO_CUSTOMERS[0]["siren"], "123456782_SIEGE", "SIEGE")
    with _client(platform) as client:
        sync_channel(ledger, "pdp", client, eager=True)
        assert drain_once(ledger, client).sent == 2
    screen.refresh()
    assert not screen.unlisted.isVisibleTo(window)


def test_the_customer_form_shows_and_asks_the_directory(qtbot, window, shop, platform) -> None:
    ledger = shop["ledger"]
    with ledger.transaction() as session:
        saved = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0]))
    dialog = CustomerDialog(window.ctx, saved, parent=window)
    qtbot.addWidget(dialog)
    label = dialog.directory.label
    assert label.text() == "Pas encore vérifié dans l'annuaire."
    qtbot.mouseClick(dialog.findChild(QPushButton, "checkDirectory"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: label.text().startswith("Joignable"), timeout=10000)
    assert "adresse 123456782_LYON, code de routage LYON" in label.text()

    platform.directory_close()
    platform.directory_unlist(DEMO_CUSTOMERS[0]["siren"])
    qtbot.mouseClick(dialog.findChild(QPushButton, "checkDirectory"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: label.text().startswith("Non référencé"), timeout=10000)
    assert "ses factures attendront qu'il le soit" in label.text()
