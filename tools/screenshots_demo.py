"""Screenshots of the demo shop in its window (docs/screenshots/), at 1024×768: its
invoices with the statuses the plateforme de démonstration gave them (demo-invoices.png),
the suppliers' invoices waiting in its inbox (demo-inbox.png), and the e-reporting screen
once the due periods were sent and filed (demo-ereporting.png).

Called by tools/screenshots.py (`make screenshots`), or on its own:
QT_QPA_PLATFORM=offscreen python tools/screenshots_demo.py docs/screenshots
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def demo_shots(work: Path, out: Path) -> None:
    from PySide6.QtWidgets import QApplication

    from app import demo
    from app.demo import run_demo
    from app.einvoice.pdp.ereporting.sent import period_states
    from app.ledger.store import Ledger
    from app.ui import app_start
    from app.ui.app_start import DEMO_OPERATOR, _open_window
    from app.ui.main_window import PAGES, dispose
    from app.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv)
    apply_theme(app)  # as the application looks, also when run on its own

    def wait(ready: Callable[[], bool], seconds: float = 60.0) -> None:
        deadline = time.monotonic() + seconds
        while not ready():
            if time.monotonic() > deadline:
                raise RuntimeError("the demo platform did not answer in time")
            app.processEvents()
            time.sleep(0.05)

    demo.LIFECYCLE_STEP, app_start.DEMO_SYNC = 0.1, 0.3  # answers while one watches
    work.mkdir(parents=True, exist_ok=True)
    path = work / "demo.sqlite"
    run_demo(path, days=7, with_invoices=True).close()
    ledger = Ledger.open(path, kind="demo", operator="système")
    window, worker, _requests = _open_window(app, ledger, DEMO_OPERATOR)
    window.resize(1024, 768)
    window.nav.setCurrentRow(PAGES.index("Factures"))
    invoices = window.screens["Factures"]

    def statuses_back() -> bool:
        invoices.refresh()
        column = [invoices.model.index(r, 7).data() for r in range(invoices.model.rowCount())]
        return column.count("Approuvée") >= 6

    wait(statuses_back)
    app.processEvents()
    window.grab().save(str(out / "demo-invoices.png"))

    inbox = invoices.open_inbox()
    inbox.resize(1000, 560)
    wait(lambda: (inbox.refresh(), inbox.model.rowCount())[1] == 2)
    app.processEvents()
    inbox.grab().save(str(out / "demo-inbox.png"))
    inbox.close()

    dialog = window.ask_ereport()
    dialog.resize(1000, 600)
    due = [row.period for row in window.ctx.read(period_states) if row.due]
    dialog.send(replace=False)

    def filed() -> bool:
        states = {row.period: row.state for row in window.ctx.read(period_states)}
        return bool(due) and all(states[period] == "Déposé" for period in due)

    wait(filed)
    wait(lambda: "transmise" in dialog.message.text())
    dialog.refresh()
    app.processEvents()
    dialog.grab().save(str(out / "demo-ereporting.png"))
    dialog.close()
    dispose(window)
    worker.stop(10)
    ledger.close()


if __name__ == "__main__":
    os.environ.setdefault("COMPTOIR_DATA_DIR", tempfile.mkdtemp(prefix="comptoir-shots-"))
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    with tempfile.TemporaryDirectory() as folder:
        demo_shots(Path(folder), Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
