"""Write the back office's screenshots into docs/screenshots/: the customers screen and
the invoice editor at 1024×768 and 1920×1080, a partial credit note, the shop's identity
with its bank account and register, and an invoice showing them (a PDF page rendered with
pdftoppm).

Run through `make screenshots`; it uses a throw-away demo shop in a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from screenshots import _pdf_to_png

SIZES = ((1024, 768), (1920, 1080))


def main(out: Path) -> int:
    work = Path(tempfile.mkdtemp(prefix="comptoir-backoffice-shots-"))
    os.environ["COMPTOIR_DATA_DIR"] = str(work)
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication, QComboBox, QTabWidget

    from app.catalog.service import load_demo_catalog
    from app.demo import run_demo
    from app.ledger.operators import Role
    from app.staff.service import add_operator
    from app.ui.context import AppContext
    from app.ui.main_window import PAGES, MainWindow, dispose
    from app.ui.translations import install_french

    app = QApplication.instance() or QApplication(sys.argv)
    install_french(app)
    out.mkdir(parents=True, exist_ok=True)
    ledger = run_demo(work / "demo.sqlite", days=3, with_invoices=True)
    tz = ZoneInfo(ledger.timezone)
    ledger.clock.now = datetime.combine(datetime.now(tz).date(), time(11, 5), tz).astimezone(UTC)
    with ledger.transaction() as session:
        manager = add_operator(session, "Camille", Role.MANAGER, "1234", operator="Camille")
        load_demo_catalog(session, operator="Camille")
    window = MainWindow(AppContext(ledger, manager))
    window.show()

    for width, height in SIZES:
        window.resize(width, height)
        window.nav.setCurrentRow(PAGES.index("Clients"))
        customers = window.screens["Clients"]
        customers.refresh()
        customers.table.selectRow(0)
        app.processEvents()
        window.grab().save(str(out / f"customers-{width}x{height}.png"))

        editor = window.screens["Factures"].new_invoice()
        editor.resize(width - 24, height - 48)  # the dialog as large as the screen allows
        for name in ("Confiture", "Vin rouge"):
            editor.product.setCurrentIndex(editor.product.findText(name, _contains()))
            editor.add_product()
        editor._add({**editor.model.lines[0], "label": "Livraison et mise en rayon",
                     "price": 4500, "rate": 2000, "nature": "services", "unit": "HUR",
                     "product_id": None})  # fmt: skip
        editor.model.setData(editor.model.index(2, 5), "Taux normal ou réduit")
        editor.table.setCurrentIndex(editor.model.index(2, 5))
        editor.table.edit(editor.model.index(2, 5))
        app.processEvents()
        combo = editor.table.findChild(QComboBox, "categoryChoice")
        if combo is not None:
            combo.showPopup()
            app.processEvents()
        editor.grab().save(str(out / f"invoice-editor-{width}x{height}.png"))
        if combo is not None:
            combo.hidePopup()
        editor.reject()
        dispose(editor)

    window.resize(1024, 768)
    window.nav.setCurrentRow(PAGES.index("Factures"))
    invoices = window.screens["Factures"]
    invoices.refresh()
    row = next(
        r
        for r in range(invoices.model.rowCount())
        if invoices.model.row_value(r).label == "À payer"
    )
    invoices.table.selectRow(row)
    credit = invoices.credit_note()
    assert credit is not None
    credit.quantities[0].setValue(float(credit.lines[0].left) / 2)
    credit.reason.setText("Marchandise abîmée à la livraison")
    app.processEvents()
    credit.grab().save(str(out / "credit-note.png"))
    credit.reject()

    window.nav.setCurrentRow(PAGES.index("Réglages"))
    settings = window.screens["Réglages"]
    settings.findChild(QTabWidget, "settingsTabs").setCurrentIndex(0)
    settings.capital_edit.setText("10 000")
    settings.save_fiscal()
    app.processEvents()
    window.grab().save(str(out / "settings_identity.png"))

    folder = ledger.path.with_name(f"{ledger.path.stem}-documents") / "factures"
    issued = sorted(folder.glob("F*.pdf"))
    _pdf_to_png(issued[0], out / "invoice-bank-register.png")  # paid by transfer
    ledger.close()
    dispose(window)
    shutil.rmtree(work, ignore_errors=True)
    print(f"back-office screenshots written to {out}")
    return 0


def _contains():  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    return Qt.MatchFlag.MatchContains


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")))
