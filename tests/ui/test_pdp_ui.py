"""The invoice list follows the platform: an issued invoice goes out through the
background worker and its lifecycle status shows up; a platform problem is bannered."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from lxml import etree

from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.pdp.sandbox import SandboxPlatform
from app.einvoice.pdp.worker import OutboxWorker, configured_client
from app.einvoice.service import issue_and_store
from app.ui.context import AppContext
from app.ui.main_window import PAGES, MainWindow


@pytest.fixture
def platform(monkeypatch):
    with SandboxPlatform(lifecycle_step=0.01) as sandbox:
        monkeypatch.setenv("COMPTOIR_PDP_URL", sandbox.url)
        monkeypatch.setenv("COMPTOIR_PDP_TOKEN_URL", sandbox.token_url)
        monkeypatch.setenv("COMPTOIR_PDP_CLIENT_ID", "comptoir")
        monkeypatch.setenv("COMPTOIR_PDP_CLIENT_SECRET", "secret")
        yield sandbox


def _wait(qtbot, predicate, timeout=30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        qtbot.wait(50)


def test_sent_invoice_status_appears_in_the_list(qtbot, shop, platform) -> None:
    ledger = shop["ledger"]
    worker = OutboxWorker(lambda: ledger, configured_client, interval=0.1, sync_interval=0.2)
    ctx = AppContext(ledger, shop["manager"])
    window = MainWindow(ctx, worker)
    qtbot.addWidget(window)
    window.show()
    with ledger.transaction() as session:
        buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
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
        _wait(qtbot, lambda: len(platform.deposits) == 1)
        platform.advance()

        def approved() -> bool:
            screen.refresh()
            return screen.model.index(0, 7).data() == "Approuvée"

        _wait(qtbot, approved)
    finally:
        worker.stop(5)
    assert len(platform.deposits) == 1


def test_platform_problems_reach_the_banner(qtbot, shop, platform) -> None:
    ledger = shop["ledger"]
    platform.set_down(True)
    worker = OutboxWorker(lambda: ledger, configured_client, interval=0.1, sync_interval=None)
    window = MainWindow(AppContext(ledger, shop["manager"]), worker)
    qtbot.addWidget(window)
    with ledger.transaction() as session:
        buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
        issue_and_store(
            session,
            InvoiceDraft(buyer, (InvoiceLineInput("Farine", Decimal(2), 2150, 550),)),
            operator="Camille",
        )
    worker.start()
    try:

        def bannered() -> bool:
            window.refresh_banner()
            return "Facturation électronique" in window.banner.text()

        _wait(qtbot, bannered)
    finally:
        worker.stop(5)
    assert platform.deposits == []


def test_dispute_a_supplier_invoice_from_the_inbox(qtbot, shop, platform) -> None:
    from app.einvoice.facturx import build_invoice_pdf
    from app.einvoice.pdp.inbox import sync_once
    from tests.einvoice import sample_bodies as samples

    ledger = shop["ledger"]
    envelope, body = samples.multi_rate_goods()
    platform.add_incoming(build_invoice_pdf(envelope, body), "facture-fournisseur.pdf")
    client = configured_client(ledger)
    sync_once(ledger, client)
    client.close()
    window = MainWindow(AppContext(ledger, shop["manager"]))
    qtbot.addWidget(window)
    window.nav.setCurrentRow(PAGES.index("Factures"))
    dialog = window.screens["Factures"].open_inbox()
    assert dialog.model.rowCount() == 1
    assert dialog.model.index(0, 7).data() == "Reçue"
    assert dialog.model.index(0, 2).data() == "Facture"
    dialog.table.selectRow(0)
    assert [b.text() for b in dialog.buttons.values()][:2] == ["Prendre en charge", "Approuver"]
    dialog.answer("207", reason="Quantités livrées différentes", reason_code="QTE_ERR")
    _wait(qtbot, lambda: dialog.model.index(0, 7).data() == "En litige")
    [status] = platform.received_statuses
    assert (status.code, status.reason, status.reason_code) == (
        "207",
        "Quantités livrées différentes",
        "QTE_ERR",
    )


def test_a_self_billed_invoice_from_a_customer_is_shown_as_such(qtbot, shop, platform) -> None:
    from app.einvoice.facturx import data_dict, invoice_xml
    from app.einvoice.pdp.inbox import list_incoming, sync_once
    from tests.einvoice import sample_bodies as samples

    ledger = shop["ledger"]
    envelope, body = samples.multi_rate_goods()
    data = data_dict(envelope, body)
    data["BT-3"] = "389"  # drawn up by the buyer, in the seller's name
    platform.add_incoming(invoice_xml(data), "autofacture.xml", syntax="CII")
    client = configured_client(ledger)
    sync_once(ledger, client)
    client.close()
    with ledger.reader() as session:
        [received] = list_incoming(session)
    assert received.self_billed and received.kind == "Autofacture"
    window = MainWindow(AppContext(ledger, shop["manager"]))
    qtbot.addWidget(window)
    window.nav.setCurrentRow(PAGES.index("Factures"))
    dialog = window.screens["Factures"].open_inbox()
    assert dialog.model.index(0, 1).data() == body["buyer"]["name"]
    assert dialog.model.index(0, 2).data() == "Autofacture (établie par votre client)"


def test_ereporting_from_the_closures_screen(qtbot, shop, platform, clock, monkeypatch) -> None:
    from datetime import date, time

    from PySide6.QtWidgets import QMessageBox

    from app.ledger.closures import close_day
    from tests.helpers import ring

    monkeypatch.setenv("COMPTOIR_PDP_MATRICULE", "0042")  # the platform's, in every report
    ledger = shop["ledger"]
    ring(ledger, ("Pain", 130, 2, 550), operator="Yanis")
    clock.set_local(date(2026, 3, 2), time(19))
    with ledger.transaction() as session:
        close_day(session, date(2026, 3, 2), operator="Camille")
    window = MainWindow(AppContext(ledger, shop["manager"]))
    qtbot.addWidget(window)
    window.nav.setCurrentRow(PAGES.index("Clôtures"))
    assert window.screens["Clôtures"].ereport_button.isEnabled()
    window.send_ereport("2026-03")

    def told() -> bool:
        box = window.findChild(QMessageBox, "documentDialog")
        return box is not None and "transmis" in box.text()

    _wait(qtbot, told)
    window.findChild(QMessageBox, "documentDialog").close()  # no modal left to later tests
    # The first ten days' transactions (10.3) and March's payments (10.4, nil: goods only).
    roots = [etree.fromstring(report.content) for report in platform.reports]
    assert [root[1].tag for root in roots] == ["TransactionsReport", "PaymentsReport"]


def test_platform_settings_tab_keeps_the_secret_out_of_the_database(
    qtbot, shop, platform, monkeypatch
) -> None:
    import keyring

    from app.einvoice.pdp.ereporting.report import platform_matricule
    from tests.einvoice.pdp.test_client import MemoryKeyring

    for name in (
        "COMPTOIR_PDP_URL",
        "COMPTOIR_PDP_TOKEN_URL",
        "COMPTOIR_PDP_CLIENT_ID",
        "COMPTOIR_PDP_CLIENT_SECRET",
    ):
        monkeypatch.delenv(name)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        window = MainWindow(AppContext(shop["ledger"], shop["manager"]))
        qtbot.addWidget(window)
        window.nav.setCurrentRow(PAGES.index("Réglages"))
        tab = window.screens["Réglages"].platform_tab
        tab.base_url.setText(platform.url)
        tab.token_url.setText(platform.token_url)
        tab.client_id.setText("comptoir")
        tab.secret.setText("secret")
        tab.matricule.setText("00A")
        tab.save()
        assert "4 caractères" in tab.error.text()
        tab.matricule.setText("0042")
        tab.save()
        assert tab.status.text() == "Réglages de la plateforme enregistrés."
        with shop["ledger"].reader() as session:
            assert platform_matricule(session) == "0042"  # the sender of every e-report
        tab.test()
        _wait(qtbot, lambda: tab.status.text() == "La plateforme répond.")
    finally:
        keyring.set_keyring(previous)
    assert b"secret" not in shop["ledger"].path.read_bytes()


def test_declare_a_payment_received(qtbot, shop, platform) -> None:
    from PySide6.QtCore import Qt

    from app.einvoice.corrections import record_payment

    ledger = shop["ledger"]
    with ledger.transaction() as session:
        buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
        issued = issue_and_store(
            session,
            InvoiceDraft(
                buyer,
                (
                    InvoiceLineInput(
                        "Atelier", Decimal(1), 9000, 2000, unit="HUR", nature="services"
                    ),
                ),
            ),
            operator="Camille",
        )
        record_payment(session, issued.doc_number, issued.record.body["total"], operator="Camille")
    window = MainWindow(AppContext(ledger, shop["manager"]))
    qtbot.addWidget(window)
    window.nav.setCurrentRow(PAGES.index("Factures"))
    screen = window.screens["Factures"]
    screen.refresh()
    screen.table.selectRow(0)
    platform.set_down(True, refuse=True)  # the click needs no platform: the 212 is queued
    qtbot.mouseClick(screen.buttons["cashed"], Qt.MouseButton.LeftButton)
    assert "212 Encaissée en attente d'envoi" in screen.message.text()
    screen.refresh()
    assert screen.model.index(0, 7).data() == "212 Encaissée en attente d'envoi"
    platform.set_down(False)
    worker = OutboxWorker(lambda: ledger, configured_client, interval=0.1, sync_interval=None)
    worker.start()
    try:

        def cashed() -> bool:
            screen.refresh()
            return screen.model.index(0, 7).data() == "Encaissée"

        _wait(qtbot, cashed)
    finally:
        worker.stop(5)
    assert [s.code for s in platform.received_statuses] == ["212"]


def test_ereporting_periods_screen(qtbot, qtmodeltester, shop, platform, clock, monkeypatch):
    from datetime import date, time

    from app.ledger.closures import close_day
    from tests.helpers import ring

    monkeypatch.setenv("COMPTOIR_PDP_MATRICULE", "0042")
    ledger = shop["ledger"]
    ring(ledger, ("Pain", 130, 2, 550), ("Déjeuner", 1500, 1, 1000), operator="Yanis")
    clock.set_local(date(2026, 3, 2), time(19))
    with ledger.transaction() as session:
        close_day(session, date(2026, 3, 2), operator="Camille")
    clock.set_local(date(2026, 4, 2), time(9))
    window = MainWindow(AppContext(ledger, shop["manager"]))
    qtbot.addWidget(window)
    dialog = window.ask_ereport()
    qtbot.addWidget(dialog)  # closed after the test: no modal left to later tests
    qtmodeltester.check(dialog.model)
    states = [dialog.model.index(row, 3).data() for row in range(dialog.model.rowCount())]
    assert states == ["À transmettre", "À transmettre"]
    assert dialog.message.text() == "2 périodes à transmettre."
    dialog.send_button.click()
    _wait(qtbot, lambda: dialog.message.text() == "2 déclarations transmises.")
    assert [dialog.model.index(r, 3).data() for r in range(2)] == ["Transmis", "Transmis"]
    assert dialog.model.index(0, 5).data() and not dialog.send_button.isEnabled()
    dialog.table.selectRow(1)
    dialog.replace_button.click()
    _wait(qtbot, lambda: dialog.message.text() == "1 déclaration transmise.")
    assert dialog.model.index(1, 3).data() == "Rectifié"
    kinds = [
        etree.fromstring(r.content).findtext("ReportDocument/TypeCode") for r in platform.reports
    ]
    assert kinds == ["IN", "IN", "RE"]
