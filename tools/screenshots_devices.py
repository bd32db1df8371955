"""Screenshots of the card terminal and the customer display (docs/screenshots/): the
payment dialog waiting on the terminal (the simulator, told never to answer), the
customer's window during a sale and between sales, and Réglages › Périphériques.

Called by tools/screenshots.py (`make screenshots`), or on its own:
QT_QPA_PLATFORM=offscreen python tools/screenshots_devices.py docs/screenshots
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def device_shots(work: Path, out: Path) -> None:
    from PySide6.QtWidgets import QApplication, QPushButton, QTabWidget

    from app.catalog.service import load_demo_catalog
    from app.demo import DEMO_SHOP
    from app.documents.display_settings import save_display_config
    from app.ledger.operators import Role
    from app.ledger.settings import record_fiscal_settings
    from app.ledger.store import Ledger
    from app.sales.terminal.sandbox import TerminalSandbox
    from app.sales.terminal.settings import save_terminal_config
    from app.staff.service import add_operator
    from app.ui.context import AppContext
    from app.ui.main_window import PAGES, MainWindow, dispose

    app = QApplication.instance() or QApplication(sys.argv)
    sandbox = TerminalSandbox(0, mode="hang").start()
    work.mkdir(parents=True, exist_ok=True)
    ledger = Ledger.open(work / "devices.sqlite", operator="Camille")
    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Camille")
        manager = add_operator(session, "Camille", Role.MANAGER, "1234", operator="Camille")
        load_demo_catalog(session, operator="Camille")
        save_terminal_config(
            session, host="127.0.0.1", port=sandbox.port, terminal_id="1",
            till_number="01", operator="Camille",
        )  # fmt: skip
        save_display_config(session, {"window": True}, operator="Camille")
    window = MainWindow(AppContext(ledger, manager))
    window.resize(1024, 768)
    window.show()
    window.till.refresh()
    shown = window.customer_display.window
    assert shown is not None
    shown.resize(800, 600)
    app.processEvents()
    shown.grab().save(str(out / "customer-display-idle.png"))
    for code in ("3760123450010", "3760123450010", "3760123450263", "3760123450294"):
        window.till.barcode.setText(code)
        window.till.scan()
    app.processEvents()
    shown.grab().save(str(out / "customer-display.png"))

    dialog = window.till.make_payment_dialog()
    dialog.resize(1024, 700)
    dialog.show()
    dialog.findChild(QPushButton, "pay_card").click()
    app.processEvents()
    dialog.grab().save(str(out / "payment-terminal.png"))
    dialog.cancel_card()
    while dialog.waiting_for_card:
        app.processEvents()
    dialog.add_cash(2000)
    dialog.accept()
    window.till.record(dialog.payments)
    app.processEvents()
    shown.grab().save(str(out / "customer-display-change.png"))
    dispose(dialog)

    window.nav.setCurrentRow(PAGES.index("Réglages"))
    tabs = window.screens["Réglages"].findChild(QTabWidget, "settingsTabs")
    tabs.setCurrentWidget(window.screens["Réglages"].devices_tab)
    app.processEvents()
    window.grab().save(str(out / "settings_devices.png"))
    dispose(window)
    ledger.close()
    sandbox.stop()


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    folder = Path(tempfile.mkdtemp(prefix="comptoir-devices-"))
    os.environ["COMPTOIR_DATA_DIR"] = str(folder)
    device_shots(folder, Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
