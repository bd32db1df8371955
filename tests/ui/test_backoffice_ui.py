"""The back office at 1024×768, by clicks: customers, a partial credit note, a refund by
card, the shop's bank account in Réglages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QPushButton

from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS
from app.einvoice.corrections import creditable_lines
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.issuing import get_document
from app.einvoice.service import issue_and_store
from app.ledger.settings import fiscal_settings
from app.ui.invoices.credit_note_dialog import CreditNoteDialog
from app.ui.invoices.customer_dialog import CustomerDialog
from app.ui.main_window import PAGES
from tests.ui.dialogs import answer_confirmation
from tests.ui.test_till import BAGUETTE, WINE, _pay, _scan, _tickets

LEFT = Qt.MouseButton.LeftButton


def _box(check) -> QPoint:
    """Where a check box's square is (a click past its text does not toggle it)."""
    return QPoint(8, check.height() // 2)


@pytest.fixture
def small(window):
    window.resize(1024, 768)
    return window


@pytest.fixture
def invoiced(shop):
    """Two customers and an invoice of two lines (10 kg of flour, 2 bottles)."""
    with shop["ledger"].transaction() as session:
        martin = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0]))
        save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[1]))
        draft = InvoiceDraft(
            customer_id=martin.id,
            lines=(
                InvoiceLineInput("Farine T65", Decimal(10), 1250, 550),
                InvoiceLineInput("Vin", Decimal(2), 900, 2000),
            ),
        )
        issued = issue_and_store(session, draft, operator="Camille")
    return {**shop, "martin": martin, "invoice": issued.doc_number}


def test_customers_listed_searched_edited_with_their_documents(
    qtbot, small, invoiced, monkeypatch
) -> None:
    small.nav.setCurrentRow(PAGES.index("Clients"))
    screen = small.screens["Clients"]
    assert screen.isVisible()
    assert screen.model.rowCount() == 2
    qtbot.keyClicks(screen.search, "Bruxelles")  # by city
    assert [screen.model.row_value(r).name for r in range(screen.model.rowCount())] == [
        "Bakkerij Janssens"
    ]
    screen.search.clear()
    qtbot.keyClicks(screen.search, "123456")  # by SIREN
    assert screen.model.rowCount() == 1
    screen.search.clear()
    qtbot.keyClicks(screen.search, "zzz")
    assert screen.model.rowCount() == 0 and "Aucun client" in screen.message.text()
    screen.search.clear()

    martin_row = next(
        r
        for r in range(screen.model.rowCount())
        if screen.model.row_value(r).name.startswith("Bou")
    )
    rect = screen.table.visualRect(screen.model.index(martin_row, 0))
    qtbot.mouseClick(screen.table.viewport(), LEFT, pos=rect.center())
    assert screen.history_model.rowCount() == 1
    assert screen.history_model.index(0, 0).data() == invoiced["invoice"]
    assert "1 facture, 0 avoir" in screen.history_title.text()
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    cell = screen.history.visualRect(screen.history_model.index(0, 0)).center()
    qtbot.mouseClick(screen.history.viewport(), LEFT, pos=cell)  # a double click starts
    qtbot.mouseDClick(screen.history.viewport(), LEFT, pos=cell)  # with a press
    assert opened and opened[0].toLocalFile().endswith(f"{invoiced['invoice']}.pdf")

    qtbot.mouseClick(screen.edit_button, LEFT)
    dialog = small.findChild(CustomerDialog, "customerDialog")
    assert dialog is not None and dialog.edits["name"].text() == "Boulangerie Martin"
    dialog.edits["city"].setText("Lyon\x07")  # a control character is refused in French
    qtbot.mouseClick(dialog.findChild(QPushButton, "saveCustomer"), LEFT)
    assert "caractère de contrôle" in dialog.errors["city"].text()
    dialog.edits["city"].clear()
    qtbot.keyClicks(dialog.edits["city"], "Villeurbanne")
    qtbot.mouseClick(dialog.findChild(QPushButton, "saveCustomer"), LEFT)
    assert "Client « Boulangerie Martin » enregistré." in screen.message.text()
    assert screen.selected().city == "Villeurbanne"
    assert screen.history_model.rowCount() == 1  # the history follows the customer file


def test_partial_credit_note_by_line_and_quantity(qtbot, small, invoiced) -> None:
    small.nav.setCurrentRow(PAGES.index("Factures"))
    screen = small.screens["Factures"]
    screen.refresh()
    screen.table.selectRow(0)
    qtbot.mouseClick(screen.buttons["creditNote"], LEFT)
    dialog = screen.findChild(CreditNoteDialog, "creditNoteDialog")
    assert dialog.table.rowCount() == 2
    dialog.quantities[1].setValue(1)  # one of the two bottles
    assert dialog.checks[1].isChecked() and not dialog.checks[0].isChecked()
    assert "1 ligne à créditer, environ 9,00 € HT" in dialog.total.text()
    qtbot.mouseClick(dialog.findChild(QPushButton, "issueCreditNote"), LEFT)
    assert "motif" in dialog.error.text()  # no reason given
    qtbot.keyClicks(dialog.reason, "Casse")
    qtbot.mouseClick(dialog.findChild(QPushButton, "issueCreditNote"), LEFT)
    asked = answer_confirmation(qtbot, yes=False)  # irreversible: asked first
    assert "avoir sur la facture F2026-000001 (1 ligne)" in asked and "définitif" in asked
    assert "Avoir" not in screen.message.text()
    qtbot.mouseClick(dialog.findChild(QPushButton, "issueCreditNote"), LEFT)
    answer_confirmation(qtbot)
    assert "Avoir AV2026-000001 émis" in screen.message.text(), dialog.error.text()
    with invoiced["ledger"].reader() as session:
        credit = get_document(session, "AV2026-000001")
        left = creditable_lines(session, invoiced["invoice"])
    assert credit.body["total"] == 1080 and credit.body["preceding"]["number"] == "F2026-000001"
    assert [line.left for line in left] == [10, 1]

    screen.refresh()
    screen.table.selectRow(screen.model.rowCount() - 1)  # the invoice, below its credit note
    qtbot.mouseClick(screen.buttons["creditNote"], LEFT)
    again = [d for d in screen.findChildren(CreditNoteDialog) if d.isVisible()][-1]
    assert again.quantities[1].maximum() == 1  # what is left, not what was sold
    assert again.quantities[1].value() == 1
    qtbot.mouseClick(again.checks[1], LEFT, pos=_box(again.checks[1]))
    qtbot.mouseClick(again.checks[0], LEFT, pos=_box(again.checks[0]))
    qtbot.keyClicks(again.reason, "Retour")
    qtbot.mouseClick(again.findChild(QPushButton, "issueCreditNote"), LEFT)
    assert "(2 lignes)" in answer_confirmation(qtbot)
    assert "Avoir AV2026-000002 émis" in screen.message.text(), again.error.text()


def test_refund_by_card(qtbot, small, shop) -> None:
    till = small.till
    _scan(qtbot, till, BAGUETTE)
    _scan(qtbot, till, WINE)
    _pay(qtbot, till, [lambda d: qtbot.mouseClick(d.findChild(QPushButton, "pay_card"), LEFT)])
    dialog = small.open_correction()
    dialog.lines.item(1).setCheckState(Qt.CheckState.Checked)
    qtbot.keyClicks(dialog.reason, "Vin bouchonne")
    dialog.method.setCurrentIndex(dialog.method.findText("Carte bancaire"))
    qtbot.keyClicks(dialog.pin, "1234")
    qtbot.mouseClick(dialog.findChild(QPushButton, "refundLines"), LEFT)
    _sale, refund = _tickets(shop["ledger"])
    assert refund["payments"] == [{"method": "card", "amount": -1150}]
    assert refund["change"] == 0


def test_bank_account_refused_then_recorded(qtbot, small, shop) -> None:
    small.nav.setCurrentRow(PAGES.index("Réglages"))
    screen = small.screens["Réglages"]
    iban, bic = screen.fiscal_edits["iban"], screen.fiscal_edits["bic"]
    save = screen.save_fiscal_button
    iban.clear()
    qtbot.keyClicks(iban, "FR76 3000 6000 0112 3456 7890 188")  # wrong check digits
    qtbot.mouseClick(save, LEFT)
    assert screen.fiscal_error.text() == "IBAN invalide."
    iban.clear()
    qtbot.keyClicks(iban, "FR76 3000 4000 0312 3456 7890 143")
    bic.clear()
    qtbot.keyClicks(bic, "BNPAFRP")
    qtbot.mouseClick(save, LEFT)
    assert "BIC invalide" in screen.fiscal_error.text()
    bic.clear()
    qtbot.keyClicks(bic, "BNPAFRPPXXX")
    screen.capital_edit.setText("dix mille")
    qtbot.mouseClick(save, LEFT)
    assert "Capital social" in screen.fiscal_error.text()
    screen.capital_edit.setText("7 500")
    screen.fiscal_edits["registration"].setText("Lyon")
    qtbot.mouseClick(save, LEFT)
    assert "RCS Lyon" in screen.fiscal_error.text()
    screen.fiscal_edits["registration"].setText("rcs Lyon")
    qtbot.mouseClick(save, LEFT)
    assert screen.fiscal_error.text() == "", screen.fiscal_error.text()
    assert "Identité fiscale enregistrée" in screen.fiscal_status.text()
    with shop["ledger"].reader() as session:
        saved = fiscal_settings(session)
    assert (saved.iban, saved.bic) == ("FR7630004000031234567890143", "BNPAFRPPXXX")
    assert saved.registration == "RCS Lyon" and saved.share_capital == 750_000
    assert iban.text() == "FR7630004000031234567890143"  # shown as recorded


def test_vat_category_and_nature_chosen_in_plain_french(qtbot, small, invoiced) -> None:
    from PySide6.QtWidgets import QComboBox

    editor = small.screens["Factures"].new_invoice()
    qtbot.addWidget(editor)
    qtbot.mouseClick(editor.findChild(QPushButton, "addFree"), LEFT)
    model, table = editor.model, editor.table
    model.setData(model.index(0, 3), "100,00")
    category = model.index(0, 5)
    assert category.data() == "Taux normal ou réduit"
    table.setCurrentIndex(category)
    table.edit(category)
    combo = table.findChild(QComboBox, "categoryChoice")
    assert combo is not None and "Autoliquidation" in [
        combo.itemText(i) for i in range(combo.count())
    ]
    combo.setCurrentIndex(combo.findText("Autoliquidation"))
    table.commitData(combo)
    assert model.lines[0]["category"] == "AE" and model.lines[0]["rate"] == 0
    assert category.data() == "Autoliquidation" and model.index(0, 4).data() == "0 %"
    nature = model.index(0, 7)
    table.setCurrentIndex(nature)
    table.edit(nature)
    combo = table.findChild(QComboBox, "natureChoice")
    combo.setCurrentIndex(combo.findText("Prestation de services"))
    table.commitData(combo)
    assert model.lines[0]["nature"] == "services"
    assert not model.setData(category, "XX")
    assert "Catégorie de TVA : Taux normal ou réduit" in editor.error.text()
    assert model.setData(category, "exonéré") and model.lines[0]["category"] == "E"
    assert model.setData(category, "S") and model.lines[0]["rate"] == 2000


def test_customer_models_pass_the_model_tester(qtmodeltester, small, invoiced) -> None:
    small.nav.setCurrentRow(PAGES.index("Clients"))
    screen = small.screens["Clients"]
    screen.table.selectRow(0)
    qtmodeltester.check(screen.model)
    qtmodeltester.check(screen.history_model)
