"""Invoicing from the GUI, as an owner would: customer, invoice, PDF, credit note."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QInputDialog, QLineEdit, QPushButton

from app.einvoice.validate import validate_invoice
from app.ui.invoices.credit_note_dialog import CreditNoteDialog
from app.ui.invoices.customer_dialog import CustomerDialog
from app.ui.main_window import PAGES
from app.ui.widgets.pdf_preview import PdfPreviewDialog
from tests.ui.dialogs import answer_confirmation


def _box(check) -> QPoint:
    """Where a check box's square is (a click past its text does not toggle it)."""
    return QPoint(8, check.height() // 2)


def _type(widget, text: str) -> None:
    widget.setText(text)  # QTest types ASCII only; accents are set directly


def test_customer_invoice_pdf_and_credit_note(qtbot, window, shop, monkeypatch) -> None:
    window.nav.setCurrentRow(PAGES.index("Factures"))
    screen = window.screens["Factures"]

    dialog = CustomerDialog(window.ctx, parent=window)
    qtbot.addWidget(dialog)
    _type(dialog.edits["name"], "Boulangerie Martin")
    _type(dialog.edits["siret"], "12345678200011")
    _type(dialog.edits["address"], "3 place du Marché")
    _type(dialog.edits["postcode"], "69002")
    _type(dialog.edits["city"], "Lyon")
    qtbot.mouseClick(dialog.findChild(QPushButton, "saveCustomer"), Qt.MouseButton.LeftButton)
    assert "SIRET invalide" in dialog.errors["siret"].text()
    assert dialog.errors["siret"].isVisibleTo(dialog)
    assert dialog.saved is None
    dialog.edits["siret"].clear()
    qtbot.keyClicks(dialog.edits["siret"], "12345678200028")
    qtbot.mouseClick(dialog.findChild(QPushButton, "saveCustomer"), Qt.MouseButton.LeftButton)
    assert dialog.saved is not None and dialog.saved.siren == "123456782"

    editor = screen.new_invoice()
    qtbot.addWidget(editor)
    assert editor.customer.currentText().startswith("Boulangerie Martin")
    editor.product.setCurrentIndex(editor.product.findText("Vin rouge", Qt.MatchFlag.MatchContains))
    qtbot.mouseClick(editor.findChild(QPushButton, "addProduct"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(editor.findChild(QPushButton, "addFree"), Qt.MouseButton.LeftButton)
    model = editor.model
    model.setData(model.index(1, 0), "Livraison")
    model.setData(model.index(1, 3), "12,00")
    assert not model.setData(model.index(1, 4), "19,6")  # unknown VAT rate is refused
    assert "Taux de TVA inconnu" in editor.error.text()
    assert "Total TTC : 23,50 €" in editor.totals.text()
    qtbot.mouseClick(editor.findChild(QPushButton, "issueInvoice"), Qt.MouseButton.LeftButton)
    said = answer_confirmation(qtbot)
    assert "Boulangerie Martin" in said and "23,50 €" in said and "définitive" in said
    assert editor.result_value is not None, editor.error.text()
    issued = editor.result_value
    assert issued.doc_number == "F2026-000001"
    assert validate_invoice(issued.pdf.read_bytes()).ok

    screen.refresh()
    assert screen.model.rowCount() == 1
    screen.table.selectRow(0)
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    qtbot.mouseClick(screen.buttons["openPdf"], Qt.MouseButton.LeftButton)
    preview = screen.findChild(PdfPreviewDialog, "documentPreview")
    assert len(preview.page_labels) == 1 and preview.print_button.isEnabled()
    qtbot.mouseClick(preview.findChild(QPushButton, "openDocument"), Qt.MouseButton.LeftButton)
    assert opened and opened[0].toLocalFile().endswith("F2026-000001.pdf")

    qtbot.mouseClick(screen.buttons["creditNote"], Qt.MouseButton.LeftButton)
    credit = screen.findChild(CreditNoteDialog, "creditNoteDialog")
    qtbot.mouseClick(credit.whole, Qt.MouseButton.LeftButton, pos=_box(credit.whole))
    _type(credit.reason, "Erreur de prix")
    qtbot.mouseClick(credit.findChild(QPushButton, "issueCreditNote"), Qt.MouseButton.LeftButton)
    answer_confirmation(qtbot)
    assert "Avoir AV2026-000001 émis" in screen.message.text(), credit.error.text()
    screen.refresh()
    labels = [screen.model.index(r, 6).data() for r in range(screen.model.rowCount())]
    assert labels == ["Avoir", "Annulée par avoir"]


def test_invoice_list_model_passes_the_model_tester(qtmodeltester, window) -> None:
    screen = window.screens["Factures"]
    screen.refresh()
    qtmodeltester.check(screen.model)
    from app.ui.invoices.invoice_editor import InvoiceEditor

    editor = InvoiceEditor(window.ctx, window)
    editor.model.add(
        {
            "label": "x",
            "qty": "1",
            "unit": "C62",
            "price": 100,
            "rate": 2000,
            "category": "S",
            "discount": "",
            "nature": "goods",
            "product_id": None,
        }
    )
    qtmodeltester.check(editor.model)


def test_invoice_a_till_ticket_choosing_the_customer(qtbot, window, shop, monkeypatch) -> None:
    from app.customers.service import CustomerInfo, save_customer
    from app.demo import DEMO_CUSTOMERS
    from tests.helpers import ring

    ledger = shop["ledger"]
    ticket = ring(ledger, ("Pain", 130, 2, 550), operator="Yanis")
    with ledger.transaction() as session:
        save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0]))
    window.nav.setCurrentRow(PAGES.index("Factures"))
    screen = window.screens["Factures"]
    monkeypatch.setattr(QInputDialog, "getInt", lambda *a, **k: (ticket.number, True))
    monkeypatch.setattr(
        QInputDialog, "getItem", lambda parent, title, label, items, *a: (items[0], True)
    )
    qtbot.mouseClick(screen.buttons["invoiceTicket"], Qt.MouseButton.LeftButton)
    assert "émise pour le ticket n°1" in screen.message.text()
    screen.refresh()
    assert screen.model.index(0, 6).data() == "Payée"


def test_payment_terms_typed_in_the_editor(qtbot, window, shop) -> None:
    from app.customers.service import CustomerInfo, save_customer
    from app.demo import DEMO_CUSTOMERS

    with shop["ledger"].transaction() as session:
        save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0]))
    editor = window.screens["Factures"].new_invoice()
    qtbot.addWidget(editor)
    qtbot.mouseClick(editor.findChild(QPushButton, "addFree"), Qt.MouseButton.LeftButton)
    editor.model.setData(editor.model.index(0, 3), "100,00")
    editor.terms.setText("Paiement à 45 jours fin de mois")
    qtbot.mouseClick(editor.findChild(QPushButton, "issueInvoice"), Qt.MouseButton.LeftButton)
    answer_confirmation(qtbot)
    assert editor.result_value is not None, editor.error.text()
    assert editor.result_value.record.body["payment_terms"] == "Paiement à 45 jours fin de mois"


def test_a_catalog_price_without_vat_follows_the_invoicing_rule(qtbot, window, shop) -> None:
    """12,03 € TTC at 20 % is 10,025 € HT: 10,03 € by the invoices' rule (half up), where a
    float rounded the banker's way gave 10,02 €."""
    from app.catalog.service import save_product

    with shop["ledger"].transaction() as session:
        save_product(
            session, name="Coffret", price_cents=1203, vat_rate_bp=2000, operator="Camille"
        )
    editor = window.screens["Factures"].new_invoice()
    qtbot.addWidget(editor)
    qtbot.mouseClick(editor.findChild(QPushButton, "addFree"), Qt.MouseButton.LeftButton)
    editor.incl_vat.setChecked(False)
    editor.product.setCurrentIndex(editor.product.findText("Coffret", Qt.MatchFlag.MatchStartsWith))
    editor.add_product()
    assert editor.model.lines[-1]["price"] == 1003


def test_a_public_buyers_service_code_and_engagement_typed_in_the_editor(
    qtbot, window, shop
) -> None:
    from app.customers.service import CustomerInfo, save_customer
    from app.demo import DEMO_CUSTOMERS

    with shop["ledger"].transaction() as session:
        save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0]))
    editor = window.screens["Factures"].new_invoice()
    qtbot.addWidget(editor)
    qtbot.mouseClick(editor.findChild(QPushButton, "addFree"), Qt.MouseButton.LeftButton)
    editor.model.setData(editor.model.index(0, 3), "100,00")
    qtbot.keyClicks(editor.findChild(QLineEdit, "purchaseOrder"), "EJ-2026-004512")
    qtbot.keyClicks(editor.findChild(QLineEdit, "serviceCode"), "SERV-ACHATS-01")
    qtbot.mouseClick(editor.findChild(QPushButton, "issueInvoice"), Qt.MouseButton.LeftButton)
    answer_confirmation(qtbot)
    assert editor.result_value is not None, editor.error.text()
    body = editor.result_value.record.body
    assert (body["purchase_order"], body["service_code"]) == ("EJ-2026-004512", "SERV-ACHATS-01")


def _editor_with_a_line(qtbot, window, shop):
    from app.customers.service import CustomerInfo, save_customer
    from app.demo import DEMO_CUSTOMERS

    with shop["ledger"].transaction() as session:
        save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0]))
    window.nav.setCurrentRow(PAGES.index("Factures"))
    screen = window.screens["Factures"]
    editor = screen.new_invoice()
    qtbot.addWidget(editor)
    qtbot.mouseClick(editor.findChild(QPushButton, "addFree"), Qt.MouseButton.LeftButton)
    editor.model.setData(editor.model.index(0, 0), "Conseil en vitrine")
    editor.model.setData(editor.model.index(0, 3), "250,00")
    return screen, editor


def test_an_invoice_is_issued_only_once_confirmed(qtbot, window, shop) -> None:
    screen, editor = _editor_with_a_line(qtbot, window, shop)
    qtbot.mouseClick(editor.findChild(QPushButton, "issueInvoice"), Qt.MouseButton.LeftButton)
    answer_confirmation(qtbot, yes=False)
    assert editor.result_value is None and editor.isVisible()
    screen.refresh()
    assert screen.model.rowCount() == 0


def test_closing_the_editor_keeps_a_draft_that_resumes_and_issues(qtbot, window, shop) -> None:
    from app.einvoice.drafts import list_drafts

    screen, editor = _editor_with_a_line(qtbot, window, shop)
    _type(editor.terms, "Paiement à réception")
    qtbot.mouseClick(editor.findChild(QPushButton, "closeEditor"), Qt.MouseButton.LeftButton)
    assert not editor.isVisible()
    assert "Brouillon enregistré" in screen.message.text()
    with shop["ledger"].reader() as session:
        [draft] = list_drafts(session)
    assert "1 ligne, 300,00 € TTC" in draft.label

    dialog = screen.open_drafts()
    qtbot.addWidget(dialog)
    assert dialog.model.rowCount() == 1
    resumed: list = []
    dialog.resume.connect(lambda _id: resumed.append(screen.findChildren(type(editor))[-1]))
    qtbot.mouseClick(dialog.findChild(QPushButton, "resumeDraft"), Qt.MouseButton.LeftButton)
    [again] = resumed
    qtbot.addWidget(again)
    assert again.model.lines[0]["label"] == "Conseil en vitrine"
    assert again.terms.text() == "Paiement à réception"
    assert "Total TTC : 300,00 €" in again.totals.text()
    qtbot.mouseClick(again.findChild(QPushButton, "issueInvoice"), Qt.MouseButton.LeftButton)
    answer_confirmation(qtbot)
    assert again.result_value is not None, again.error.text()
    with shop["ledger"].reader() as session:
        assert list_drafts(session) == []  # issued: the draft is gone, in the same transaction


def test_an_empty_editor_leaves_no_draft_and_a_draft_is_deleted_on_request(
    qtbot, window, shop
) -> None:
    from app.einvoice.drafts import list_drafts

    screen = window.screens["Factures"]
    empty = screen.new_invoice()
    qtbot.addWidget(empty)
    empty.reject()
    with shop["ledger"].reader() as session:
        assert list_drafts(session) == []
    screen, editor = _editor_with_a_line(qtbot, window, shop)
    editor.reject()  # Échap or the window's close box
    dialog = screen.open_drafts()
    qtbot.addWidget(dialog)
    dialog.table.selectRow(0)
    qtbot.mouseClick(dialog.findChild(QPushButton, "deleteDraft"), Qt.MouseButton.LeftButton)
    assert "sera perdu" in answer_confirmation(qtbot)
    assert dialog.model.rowCount() == 0
    with shop["ledger"].reader() as session:
        assert list_drafts(session) == []
