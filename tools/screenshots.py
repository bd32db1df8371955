"""Write the screenshots of docs/screenshots/: the till (1024×768, the smallest screen it
serves, and 1920×1080), the login with its PIN pad, the payment dialog, the invoice
editor, the closures screen and its Z confirmation, the till after the Z, a receipt and a
Z report (PDF pages rendered with pdftoppm).

Run through `make screenshots`; it uses a throw-away demo shop in a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from screenshots_demo import demo_shots
from screenshots_devices import device_shots


def _pdf_to_png(pdf: Path, png: Path) -> None:
    if shutil.which("pdftoppm") is None:
        print(f"pdftoppm not found: {png.name} not rendered", file=sys.stderr)
        return
    stem = png.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "110", "-singlefile", str(pdf), str(stem)], check=True
    )


def main(out: Path) -> int:
    work = Path(tempfile.mkdtemp(prefix="comptoir-shots-"))
    os.environ["COMPTOIR_DATA_DIR"] = str(work)
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QTabWidget
    from stdnum import ean

    from app.catalog.service import load_demo_catalog
    from app.demo import run_demo
    from app.documents.printing import output_closure, output_receipt
    from app.ledger.closures import list_closures
    from app.ledger.operators import Role
    from app.ledger.records import RecordType
    from app.staff.service import add_operator
    from app.ui.context import AppContext
    from app.ui.login import LoginDialog
    from app.ui.main_window import PAGES, MainWindow, dispose
    from app.ui.theme import apply_theme
    from app.ui.translations import install_french
    from app.ui.widgets.pdf_preview import PdfPreviewDialog

    app = QApplication.instance() or QApplication(sys.argv)
    install_french(app)
    apply_theme(app)
    out.mkdir(parents=True, exist_ok=True)
    ledger = run_demo(work / "demo.sqlite", days=3, with_invoices=True)
    tz = ZoneInfo(ledger.timezone)
    ledger.clock.now = datetime.combine(datetime.now(tz).date(), time(11, 5), tz).astimezone(UTC)
    with ledger.transaction() as session:
        manager = add_operator(session, "Camille", Role.MANAGER, "1234", operator="Camille")
        load_demo_catalog(session, operator="Camille")
    login = LoginDialog(ledger)
    login.show()
    for key in "12":
        login.pad.buttons[key].click()
    app.processEvents()
    login.grab().save(str(out / "login.png"))
    dispose(login)
    window = MainWindow(AppContext(ledger, manager))
    window.resize(1024, 768)
    window.show()
    window.till.refresh()
    scale = "2100006" + "00347"  # Comté, 347 g, from the scale
    for code in (
        "3760123450010",
        "3760123450010",
        "3760123450263",
        scale + ean.calc_check_digit(scale),
        "3760123450294",
    ):
        window.till.barcode.setText(code)
        window.till.scan()
    window.till.barcode.setText("6*")  # a quantity waiting for its item
    window.till.scan()
    app.processEvents()
    window.grab().save(str(out / "till.png"))
    window.resize(1920, 1080)
    app.processEvents()
    window.grab().save(str(out / "till-1920x1080.png"))
    window.resize(1024, 768)
    window.till.cancel_entry()
    app.processEvents()

    dialog = window.till.make_payment_dialog()
    dialog.resize(720, 640)
    dialog.findChild(QPushButton, "pay_card").click()
    dialog.remove_last()
    dialog.amount.setText("10")
    dialog.findChild(QPushButton, "pay_card").click()
    dialog.findChild(QPushButton, "cash_2000").click()
    dialog.show()
    app.processEvents()
    dialog.grab().save(str(out / "payment.png"))
    dialog.accept()
    window.till.record(dialog.payments)

    window.nav.setCurrentRow(PAGES.index("Clôtures"))
    closures = window.screens["Clôtures"]
    app.processEvents()
    cash = closures.count_rows["cash"].counted
    cash.setText("15,50")
    app.processEvents()
    window.grab().save(str(out / "closures.png"))
    window.resize(1920, 1080)
    app.processEvents()
    window.grab().save(str(out / "closures-1920x1080.png"))
    window.resize(1024, 768)
    app.processEvents()
    closures.close_day()  # asks first: the day's totals and the cash difference
    app.processEvents()
    question = app.activeModalWidget() or window.findChild(QMessageBox, "confirmDialog")
    if question is not None:
        question.grab().save(str(out / "z-confirmation.png"))
        question.findChild(QPushButton, "confirmYes").click()
        app.processEvents()
        # After the Z the till says so before anything is scanned; trading goes on.
        ledger.clock.now += timedelta(minutes=3)
        window.nav.setCurrentRow(PAGES.index("Caisse"))
        window.till.refresh()
        for _ in range(3):  # the rebuilt tiles are laid out over a few turns of the loop
            app.processEvents()
        window.grab().save(str(out / "till-after-z.png"))

    window.nav.setCurrentRow(PAGES.index("Factures"))
    app.processEvents()
    window.grab().save(str(out / "invoices.png"))
    invoice_editor_shot(window, out)

    periods = window.ask_ereport()  # the e-reporting periods of the demo's VAT regime
    periods.resize(900, 420)
    app.processEvents()
    periods.grab().save(str(out / "ereporting.png"))
    periods.close()

    window.nav.setCurrentRow(PAGES.index("Archives"))
    viewer = window.screens["Archives"]
    app.processEvents()
    viewer.table.selectRow(6)  # a ticket: the receipt as printed, its hash and signature
    app.processEvents()
    window.grab().save(str(out / "archive_viewer.png"))

    window.nav.setCurrentRow(PAGES.index("Réglages"))
    tabs = window.screens["Réglages"].findChild(QTabWidget, "settingsTabs")
    for title, name in (("Sauvegarde", "settings_backup"), ("Serveur central", "settings_central")):
        tabs.setCurrentIndex(next(i for i in range(tabs.count()) if tabs.tabText(i) == title))
        app.processEvents()
        window.grab().save(str(out / f"{name}.png"))

    invoices = ledger.path.with_name(f"{ledger.path.stem}-documents") / "factures"
    issued = sorted(invoices.glob("F*.pdf"))  # discounts and charges; intra-EU supply
    _pdf_to_png(issued[2], out / "invoice-1.png")
    _pdf_to_png(issued[4], out / "invoice-2.png")
    with ledger.transaction() as session:
        receipt = output_receipt(session, 1, operator="Camille")
        day = list_closures(session, RecordType.DAY_CLOSURE)[-1]
        report = output_closure(session, RecordType.DAY_CLOSURE, day.period, operator="Camille")
    _pdf_to_png(receipt.pdf, out / "receipt-80mm.png")
    _pdf_to_png(report.pdf, out / "z-report.png")
    preview = PdfPreviewDialog(receipt.pdf, "Ticket n°1", said="Duplicata n°1", parent=window)
    preview.resize(560, 700)
    preview.show()
    app.processEvents()
    preview.grab().save(str(out / "receipt-preview.png"))
    preview.close()
    ledger.close()
    dispose(window)
    training_shots(work / "formation", out)
    device_shots(work / "devices", out)  # card terminal, customer display
    demo_shots(work / "demo", out)  # the demo shop on its plateforme de démonstration
    shutil.rmtree(work, ignore_errors=True)
    print(f"screenshots written to {out}")
    return 0


def invoice_editor_shot(window, out: Path) -> None:  # type: ignore[no-untyped-def]
    """A new invoice with three catalog lines, at the size of a 1024×768 screen."""
    from PySide6.QtWidgets import QApplication

    from app.ui.invoices.invoice_editor import InvoiceEditor
    from app.ui.main_window import dispose

    editor = InvoiceEditor(window.ctx, window)
    editor.resize(1024, 740)
    editor.show()
    for index in (0, 5, 11):
        editor.product.setCurrentIndex(index)
        editor.add_product()
    QApplication.processEvents()
    editor.grab().save(str(out / "invoice-editor.png"))
    dispose(editor)


def training_shots(work: Path, out: Path) -> None:
    """The till in mode formation (till_training.png) and one of its receipts
    (receipt_training.png): a real shop, switched to training by its manager."""
    from PySide6.QtWidgets import QApplication

    from app.catalog.service import load_demo_catalog
    from app.demo import DEMO_SHOP
    from app.documents.printing import documents_dir
    from app.ledger.operators import Role
    from app.ledger.settings import record_fiscal_settings
    from app.ledger.store import Ledger
    from app.sales.payments import PaymentMethod
    from app.staff.service import add_operator
    from app.training import enter_training, find_operator
    from app.ui.context import AppContext
    from app.ui.main_window import MainWindow, dispose

    app = QApplication.instance() or QApplication(sys.argv)
    work.mkdir(parents=True, exist_ok=True)
    real = Ledger.open(work / "boutique.sqlite")
    with real.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Camille")
        add_operator(session, "Camille", Role.MANAGER, "1234", operator="Camille")
        add_operator(session, "Yanis", Role.CASHIER, "5678", operator="Camille")
        load_demo_catalog(session, operator="Camille")
    training = enter_training(real, operator="Yanis", supervisor="Camille")
    trainee = find_operator(training, "Yanis")
    window = MainWindow(AppContext(training, trainee))
    window.resize(1024, 768)
    window.show()
    window.till.refresh()
    for code in ("3760123450010", "3760123450263", "3760123450294"):
        window.till.barcode.setText(code)
        window.till.scan()
    for _ in range(3):  # the tiles are laid out again once the window has its size
        app.processEvents()
    window.grab().save(str(out / "till_training.png"))
    dialog = window.till.make_payment_dialog()
    dialog.add_payment(PaymentMethod.CARD)
    recorded = window.till.record(dialog.payments)  # prints the receipt (a PDF here)
    assert recorded is not None
    receipt = documents_dir(training, "tickets") / f"{recorded.doc_number}.pdf"
    _pdf_to_png(receipt, out / "receipt_training.png")
    dispose(dialog)
    dispose(window)
    training.close()


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")))
