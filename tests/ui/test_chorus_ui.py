"""Chorus Pro from the GUI: a customer ticked "Client public", the Chorus Pro group of the
platform settings, and a public invoice's Chorus Pro status in the invoice list."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import keyring
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QGroupBox, QPushButton

from app.customers.service import CustomerInfo, save_customer
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.pdp import chorus_api as cpro
from app.einvoice.pdp.chorus_sync import poll_chorus
from app.einvoice.pdp.worker import OutboxWorker, configured_chorus_client
from app.einvoice.service import issue_and_store
from app.ui.context import AppContext
from app.ui.invoices.customer_dialog import CustomerDialog
from app.ui.main_window import PAGES, MainWindow
from tests.einvoice.pdp.chorus_fake import FakeChorusPro
from tests.einvoice.pdp.test_client import MemoryKeyring

SIRET = "26690001800018"


@pytest.fixture
def fake(monkeypatch):
    for name in ("URL", "TOKEN_URL", "CLIENT_ID", "CLIENT_SECRET", "LOGIN", "PASSWORD"):
        monkeypatch.delenv(f"COMPTOIR_CHORUS_{name}", raising=False)
    with FakeChorusPro(account_password="tech-pa55word") as platform:
        yield platform


@pytest.fixture
def chorus_env(fake, monkeypatch):
    monkeypatch.setenv("COMPTOIR_CHORUS_URL", fake.base_url)
    monkeypatch.setenv("COMPTOIR_CHORUS_TOKEN_URL", fake.token_url)
    monkeypatch.setenv("COMPTOIR_CHORUS_CLIENT_ID", fake.client_id)
    monkeypatch.setenv("COMPTOIR_CHORUS_CLIENT_SECRET", fake.client_secret)
    monkeypatch.setenv("COMPTOIR_CHORUS_LOGIN", fake.account_login)
    monkeypatch.setenv("COMPTOIR_CHORUS_PASSWORD", fake.account_password)
    return fake


def _wait(qtbot, predicate, timeout=30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        qtbot.wait(50)


def _click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_a_customer_ticked_public_needs_its_siret(qtbot, window) -> None:
    dialog = CustomerDialog(window.ctx, parent=window)
    qtbot.addWidget(dialog)
    dialog.show()
    box = dialog.findChild(QCheckBox, "public_sector")
    assert box.text() == "Client public (Chorus Pro)" and not box.isChecked()
    dialog.edits["name"].setText("Mairie de Villeurbanne")
    dialog.edits["siren"].setText(SIRET[:9])
    dialog.edits["address"].setText("Place Lazare-Goujon")
    dialog.edits["postcode"].setText("69100")
    dialog.edits["city"].setText("Villeurbanne")
    _click(qtbot, box)
    assert box.isChecked()
    _click(qtbot, dialog.findChild(QPushButton, "saveCustomer"))
    assert dialog.saved is None
    assert "SIRET obligatoire pour un client public" in dialog.errors["siret"].text()
    qtbot.keyClicks(dialog.edits["siret"], SIRET)
    _click(qtbot, dialog.findChild(QPushButton, "saveCustomer"))
    assert dialog.saved is not None and dialog.saved.public_sector
    again = CustomerDialog(window.ctx, dialog.saved, parent=window)
    qtbot.addWidget(again)
    again.show()
    assert again.findChild(QCheckBox, "public_sector").isChecked()
    _click(qtbot, again.findChild(QCheckBox, "public_sector"))
    _click(qtbot, again.findChild(QPushButton, "saveCustomer"))
    assert again.saved is not None and not again.saved.public_sector


def test_chorus_settings_group_keeps_the_logins_out_of_the_database(
    qtbot, window, shop, fake
) -> None:
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        window.nav.setCurrentRow(PAGES.index("Réglages"))
        tab = window.screens["Réglages"].platform_tab
        tab.refresh()
        group = tab.findChild(QGroupBox, "chorusGroup")
        assert group is tab.chorus and group.title() == "Chorus Pro (clients publics)"
        group.environment.setCurrentIndex(0)
        group.environment.activated.emit(0)
        assert group.base_url.text() == cpro.QUALIF_API_URL
        assert group.token_url.text() == cpro.QUALIF_TOKEN_URL
        group.base_url.clear()
        qtbot.keyClicks(group.base_url, fake.base_url)
        assert group.environment.currentText() == "Autre adresse"
        group.token_url.setText(fake.token_url)
        group.client_id.setText(fake.client_id)
        group.secret.setText(fake.client_secret)
        group.login.setText(fake.account_login)
        _click(qtbot, group.findChild(QPushButton, "saveChorus"))
        assert group.findChild(QPushButton, "saveChorus") is group.save_button
        assert "obligatoires" in group.error.text()  # the password is missing
        group.password.setText(fake.account_password)
        _click(qtbot, group.save_button)
        assert group.status.text() == "Réglages Chorus Pro enregistrés."
        assert group.secret.text() == group.password.text() == ""
        _click(qtbot, group.test_button)  # the stored secrets fill the blank fields
        _wait(qtbot, lambda: "Chorus Pro répond" in group.status.text())
        assert fake.calls[-1] == "health"
        tab.refresh()
        assert group.login.text() == fake.account_login
        stored = memory.entries[("Comptoir", "chorus-account-password")]
        assert stored == fake.account_password
        client = configured_chorus_client(shop["ledger"])
        assert client is not None
        client.close()
    finally:
        keyring.set_keyring(previous)
    for file in shop["ledger"].path.parent.glob(f"{shop['ledger'].path.name}*"):
        assert fake.account_password.encode() not in file.read_bytes()
        assert fake.client_secret.encode() not in file.read_bytes()


def test_a_public_invoice_shows_its_chorus_status(qtbot, shop, chorus_env) -> None:
    ledger = shop["ledger"]
    worker = OutboxWorker(lambda: ledger, lambda _ledger: None, interval=0.1, sync_interval=None)
    window = MainWindow(AppContext(ledger, shop["manager"]), worker)
    qtbot.addWidget(window)
    with ledger.transaction() as session:
        mairie = CustomerInfo(
            name="Mairie de Villeurbanne", siret=SIRET, address="Place Lazare-Goujon",
            postcode="69100", city="Villeurbanne", public_sector=True,
        )  # fmt: skip
        buyer = save_customer(session, mairie).id
        issue_and_store(
            session,
            InvoiceDraft(buyer, (InvoiceLineInput("Farine", Decimal(2), 2150, 550),)),
            operator="Camille",
        )
    window.nav.setCurrentRow(PAGES.index("Factures"))
    screen = window.screens["Factures"]
    screen.refresh()
    assert screen.model.index(0, 7).data() == "En attente d'envoi"
    worker.start()
    try:
        _wait(qtbot, lambda: len(chorus_env.deposits) == 1)

        def shown(text: str) -> bool:
            screen.refresh()
            return screen.model.index(0, 7).data() == text

        _wait(qtbot, lambda: shown("Transmise à Chorus Pro"))
    finally:
        worker.stop(5)
    chorus_env.advance(to="SUSPENDUE", reason="Numéro d'engagement manquant")
    client = configured_chorus_client(ledger)
    assert client is not None
    with client:
        assert poll_chorus(ledger, client, every=timedelta(0)) == 1
    screen.refresh()
    assert screen.model.index(0, 7).data() == "Suspendue"
    assert len(chorus_env.deposits) == 1
