"""Réglages › Facturation électronique without a keyring, and « Synchroniser maintenant »."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt

from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.pdp.config import ENV_CLIENT_SECRET, PREF_TOKEN_URL, PREF_URL
from app.einvoice.pdp.sandbox import SandboxPlatform
from app.einvoice.service import issue_and_store
from app.ledger.preferences import get_preference
from app.ui.main_window import PAGES

ENV = ("COMPTOIR_PDP_URL", "COMPTOIR_PDP_TOKEN_URL")
CREDENTIALS = ("COMPTOIR_PDP_CLIENT_ID", "COMPTOIR_PDP_CLIENT_SECRET")


@pytest.fixture
def sandbox():
    with SandboxPlatform(lifecycle_step=0.01) as platform:
        yield platform


def _tab(window):
    window.resize(1024, 768)
    window.nav.setCurrentRow(PAGES.index("Réglages"))
    screen = window.screens["Réglages"]
    screen.tabs.setCurrentWidget(screen.platform_tab)
    return screen.platform_tab


def _addresses(ledger) -> tuple[str, str]:
    with ledger.reader() as session:
        return get_preference(session, PREF_URL), get_preference(session, PREF_TOKEN_URL)


def test_credentials_from_the_environment_need_no_keyring(
    qtbot, window, shop, sandbox, monkeypatch
) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COMPTOIR_PDP_CLIENT_ID", "comptoir")
    monkeypatch.setenv("COMPTOIR_PDP_CLIENT_SECRET", "secret")
    tab = _tab(window)
    tab.refresh()
    assert (
        tab.environment_note.isVisibleTo(tab) and ENV_CLIENT_SECRET in tab.environment_note.text()
    )
    assert not tab.secret.isEnabled()
    tab.base_url.setText(sandbox.url)
    tab.token_url.setText(sandbox.token_url)
    qtbot.mouseClick(tab.buttons[0], Qt.MouseButton.LeftButton)  # the keyring fails here
    assert tab.error.text() == ""
    assert "identifiants sont lus dans l'environnement" in tab.status.text()
    assert _addresses(shop["ledger"]) == (sandbox.url, sandbox.token_url)


def test_without_keyring_the_addresses_are_kept_and_the_secret_is_explained(
    qtbot, window, shop, sandbox, monkeypatch
) -> None:
    for name in (*ENV, *CREDENTIALS):
        monkeypatch.delenv(name, raising=False)
    tab = _tab(window)
    tab.base_url.setText(sandbox.url)
    tab.token_url.setText(sandbox.token_url)
    tab.client_id.setText("comptoir")
    tab.secret.setText("secret")
    qtbot.mouseClick(tab.buttons[0], Qt.MouseButton.LeftButton)
    assert tab.status.text() == "Adresses enregistrées."
    message = tab.error.text()
    assert "pas de trousseau" in message and ENV_CLIENT_SECRET in message
    assert "Gestionnaire d'identification" in message
    assert _addresses(shop["ledger"]) == (sandbox.url, sandbox.token_url)
    assert tab.secret.text() == ""  # never kept on screen
    assert b"secret" not in shop["ledger"].path.read_bytes()
    tab.base_url.setText("pa.example")
    qtbot.mouseClick(tab.buttons[0], Qt.MouseButton.LeftButton)
    assert "Adresse de la plateforme invalide" in tab.error.text()


def test_synchronise_now_sends_and_fetches_off_the_gui_thread(
    qtbot, window, shop, sandbox, monkeypatch
) -> None:
    monkeypatch.setenv("COMPTOIR_PDP_URL", sandbox.url)
    monkeypatch.setenv("COMPTOIR_PDP_TOKEN_URL", sandbox.token_url)
    monkeypatch.setenv("COMPTOIR_PDP_CLIENT_ID", "comptoir")
    monkeypatch.setenv("COMPTOIR_PDP_CLIENT_SECRET", "secret")
    with shop["ledger"].transaction() as session:
        buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
        line = InvoiceLineInput("Farine", Decimal(10), 1250, 550)
        issue_and_store(session, InvoiceDraft(buyer, (line,)), operator="Camille")
    tab = _tab(window)
    tab.refresh()
    qtbot.mouseClick(tab.sync_button, Qt.MouseButton.LeftButton)
    assert tab.status.text() == "Synchronisation en cours…" and not tab.sync_button.isEnabled()
    deadline = time.monotonic() + 30
    while not tab.sync_button.isEnabled():
        assert time.monotonic() < deadline, "timed out"
        qtbot.wait(50)
    assert tab.error.text() == "", tab.error.text()
    assert tab.status.text().startswith("Plateforme agréée : 1 facture envoyée, "), (
        tab.status.text()
    )
    assert len(sandbox.deposits) == 1


def test_synchronise_now_with_no_platform_says_so(qtbot, window, monkeypatch) -> None:
    for name in (*ENV, *CREDENTIALS):
        monkeypatch.delenv(name, raising=False)
    tab = _tab(window)
    qtbot.mouseClick(tab.sync_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(tab.sync_button.isEnabled, timeout=10_000)
    assert "Aucune plateforme n'est configurée" in tab.status.text()
