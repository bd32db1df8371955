"""Self-billing from the GUI at 1024×768, as an owner would: Factures › Autofacturation,
a supplier's mandate, an autofacture in the invoice editor, a self-billed credit note,
the end of the mandate. The editor's screenshot goes to ``COMPTOIR_SCREENSHOTS`` when set
(docs/screenshots), else into the test's folder."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QDate, QPoint, Qt
from PySide6.QtWidgets import QPushButton

from app.einvoice.validate import validate_invoice
from app.ui.invoices.credit_note_dialog import CreditNoteDialog
from app.ui.invoices.invoice_editor import InvoiceEditor
from app.ui.invoices.mandate_dialog import MandateDialog
from app.ui.invoices.self_billing_dialog import EndMandateDialog, SelfBillingDialog
from app.ui.main_window import PAGES
from tests.ui.dialogs import answer_confirmation

LEFT = Qt.MouseButton.LeftButton


def _click(qtbot, parent, name: str) -> None:
    qtbot.mouseClick(parent.findChild(QPushButton, name), LEFT)


def _mandate(qtbot, dialog: SelfBillingDialog) -> None:
    _click(qtbot, dialog, "newMandate")
    form = dialog.findChild(MandateDialog, "mandateDialog")
    qtbot.waitUntil(form.isVisible)
    values = {
        "reference": "MAND-2026-01",
        "prefix": "AFVERGER",
        "name": "Vergers du Lyonnais",
        "siret": "73282932000075",  # a wrong key first
        "vat_number": "FR44732829320",
        "address": "3 chemin des Pommiers",
        "postcode": "69390",
        "city": "Vourles",
    }
    for name, text in values.items():
        form.edits[name].setText(text)
    form.start.setDate(QDate(2026, 1, 1))
    _click(qtbot, form, "saveMandate")
    assert "SIRET invalide : 14 chiffres dont la clé." in form.errors["siret"].text()
    assert form.errors["siret"].isVisibleTo(form) and form.saved is None
    form.edits["siret"].clear()
    qtbot.keyClicks(form.edits["siret"], "73282932000074")
    _click(qtbot, form, "saveMandate")
    assert form.saved is not None and form.saved.siren == "732829320"
    assert "Mandat « MAND-2026-01 » enregistré." in dialog.message.text()


def test_issue_an_autofacture_from_the_invoices_screen(qtbot, window, tmp_path, monkeypatch):
    window.resize(1024, 768)
    window.nav.setCurrentRow(PAGES.index("Factures"))
    screen = window.screens["Factures"]
    qtbot.mouseClick(screen.buttons["selfBilling"], LEFT)
    dialog = screen.findChild(SelfBillingDialog, "selfBillingDialog")
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.width() <= 1024 and dialog.height() <= 768

    _click(qtbot, dialog, "newSelfBilled")
    assert "Aucun mandat d'autofacturation n'est en vigueur" in dialog.message.text()
    _mandate(qtbot, dialog)
    assert dialog.mandates.rowCount() == 1
    assert dialog.mandates.index(0, 6).data() == "Actif"
    shots = Path(os.environ.get("COMPTOIR_SCREENSHOTS") or tmp_path)
    assert dialog.grab().save(str(shots / "self-billing-mandates-1024x768.png"))

    _click(qtbot, dialog, "newSelfBilled")
    editor = dialog.findChild(InvoiceEditor, "invoiceEditor")
    qtbot.waitUntil(editor.isVisible)
    editor.resize(1000, 720)  # the dialog as large as a 1024×768 screen allows
    assert editor.windowTitle() == "Nouvelle autofacture"
    assert editor.customer.currentText() == "Vergers du Lyonnais — mandat MAND-2026-01"
    assert not editor.findChild(QPushButton, "newCustomer").isVisible()
    qtbot.mouseClick(editor.findChild(QPushButton, "addFree"), LEFT)
    model = editor.model
    model.setData(model.index(0, 0), "Pommes Golden (kg)")
    model.setData(model.index(0, 1), "40")
    model.setData(model.index(0, 3), "1,80")
    model.setData(model.index(0, 4), "5,5 %")
    assert "Total TTC : 75,96 €" in editor.totals.text(), editor.error.text()
    editor.note.setPlainText("Livraison du 2 mars, bon n° 1254")
    qtbot.wait(50)
    assert editor.grab().save(str(shots / "self-billing-editor-1024x768.png"))

    button = editor.findChild(QPushButton, "issueInvoice")
    assert button.text() == "Émettre l'autofacture"
    qtbot.mouseClick(button, LEFT)
    said = answer_confirmation(qtbot)
    assert "Au nom et pour le compte de : Vergers du Lyonnais" in said and "75,96 €" in said
    issued = editor.result_value
    assert issued is not None, editor.error.text()
    assert issued.doc_number == "AFVERGER-000001"
    report = validate_invoice(issued.pdf.read_bytes())
    assert report.ok and "V1.4.0.03" in report.rules_line()
    assert "Autofacture AFVERGER-000001 émise" in dialog.message.text()
    assert dialog.documents.rowCount() == 1
    assert dialog.documents.index(0, 2).data() == "Autofacture"
    assert dialog.documents.index(0, 7).data() == "En attente d'envoi"  # in the outbox
    screen.refresh()
    assert screen.model.rowCount() == 0  # a purchase: not in the sales invoices

    dialog.document_table.selectRow(0)
    _click(qtbot, dialog, "selfCredit")
    credit = dialog.findChild(CreditNoteDialog, "creditNoteDialog")
    assert credit.windowTitle() == "Avoir d'autofacturation sur AFVERGER-000001"
    whole = credit.whole
    qtbot.mouseClick(whole, LEFT, pos=QPoint(8, whole.height() // 2))
    credit.reason.setText("Pommes abîmées")
    _click(qtbot, credit, "issueCreditNote")
    answer_confirmation(qtbot)
    assert "Avoir d'autofacturation AFVERGER-000002 émis" in dialog.message.text()
    assert [dialog.documents.index(r, 6).data() for r in range(2)] == [
        "Avoir",
        "Annulée par avoir",
    ]

    dialog.mandate_table.selectRow(0)
    _click(qtbot, dialog, "endMandate")
    ending = dialog.findChild(EndMandateDialog, "endMandateDialog")
    ending.day.setDate(QDate(2026, 3, 1))
    _click(qtbot, ending, "confirmEndMandate")
    answer_confirmation(qtbot)
    assert "ne peut finir avant cette date" in ending.error.text()
    ending.day.setDate(QDate(2026, 3, 2))
    _click(qtbot, ending, "confirmEndMandate")
    answer_confirmation(qtbot)
    assert "prend fin le 02/03/2026" in dialog.message.text()
    assert dialog.mandates.index(0, 5).data() == "02/03/2026"


def test_self_billing_models_pass_the_model_tester(qtmodeltester, window) -> None:
    dialog = SelfBillingDialog(window.ctx, window)
    qtmodeltester.check(dialog.mandates)
    qtmodeltester.check(dialog.documents)


def test_an_autofacture_left_unfinished_resumes_as_one(qtbot, window) -> None:
    from app.einvoice.selfbilling.mandates import add_mandate
    from app.ui.invoices.drafts_dialog import DraftsDialog
    from tests.einvoice.selfbilling_fixtures import SUPPLIER

    with window.ctx.ledger.transaction() as session:
        mandate = add_mandate(session, SUPPLIER, operator="Camille")
    screen = window.screens["Factures"]
    dialog = screen.open_self_billing()
    qtbot.waitUntil(dialog.isVisible)
    editor = dialog.new_self_billed()
    qtbot.mouseClick(editor.findChild(QPushButton, "addFree"), LEFT)
    editor.model.setData(editor.model.index(0, 0), "Poires")
    editor.reject()  # closing keeps a draft
    drafts = screen.open_drafts()
    assert drafts.model.index(0, 1).data().startswith("Autofacture — Vergers du Lyonnais")
    drafts.table.selectRow(0)
    _click(qtbot, drafts, "resumeDraft")
    resumed = [e for e in screen.findChildren(InvoiceEditor) if e.isVisible() and e is not editor]
    assert len(resumed) == 1 and resumed[0].self_billing
    assert resumed[0].customer.currentData() == mandate.id
    assert resumed[0].model.lines[0]["label"] == "Poires"
    assert isinstance(drafts, DraftsDialog)
