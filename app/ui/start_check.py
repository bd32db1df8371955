"""The start-of-day check: when the till opens, the ledger is verified from its latest
signed checkpoint (the whole ledger when there is none), off the GUI thread. The result
is journaled like any verification on the shop's computer; a broken ledger is said at
once and stays in the banner."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

from app.ledger.service import verify_and_record
from app.ledger.verify.report import Report

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

log = logging.getLogger(__name__)


def check_at_start(window: MainWindow) -> None:
    target, operator = window.ctx.ledger.target, window.ctx.operator_name

    def work() -> Report:
        return verify_and_record(target, operator=operator, incremental=True)

    def done(report: Report) -> None:
        window.integrity_problem = None if report.ok else report.summary()
        window.refresh_banner()
        if not report.ok:
            QMessageBox.warning(
                window,
                "Vérification d'intégrité",
                f"{report.summary()}\n\nFaites vérifier le journal en entier "
                "(Archives › Vérifier l'intégrité, ou « comptoir verify ») et gardez vos "
                "rapports Z et vos archives.",
            )

    def failed(error: BaseException) -> None:
        log.warning("start-of-day verification failed to run: %r", error)

    window.background.run(work, done, failed)
