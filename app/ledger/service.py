"""Ledger-level actions shared by the GUI and the command line."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from app.ledger import keys
from app.ledger.events import EventCode, log_event
from app.ledger.store import SYSTEM_OPERATOR, Ledger
from app.ledger.verify import Progress, Report, verify_ledger

log = logging.getLogger(__name__)


def _ledger_identity(path: Path) -> tuple[str, str] | None:
    try:
        with sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT ledger_id, kind FROM ledger_meta").fetchone()
    except sqlite3.Error:
        return None
    return (row[0], row[1]) if row else None


def verify_and_record(
    path: Path,
    *,
    operator: str = SYSTEM_OPERATOR,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Report:
    """Verify the ledger, then journal the result when this computer holds its key.

    On any other computer (an accountant's, an auditor's) verification writes nothing:
    it needs the public key only, and a foreign machine must not sign in the shop's name.
    """
    report = verify_ledger(path, workers=workers, progress=progress)
    identity = _ledger_identity(path)
    if identity is None or keys.load_key(identity[0]) is None:
        return report
    try:
        with (
            Ledger.open(path, kind=identity[1], create=False, operator=operator) as ledger,
            ledger.transaction() as session,
        ):
            log_event(
                session,
                EventCode.VERIFY,
                operator=operator,
                ok=report.ok,
                records=report.records,
                last_seq=report.last_seq,
                summary=report.summary(),
            )
            if not report.ok and report.first_problem is not None:
                log_event(
                    session,
                    EventCode.INTEGRITY_FAILURE,
                    operator=operator,
                    seq=report.first_problem.seq,
                    rule=report.first_problem.rule,
                )
    except Exception as exc:  # a failed journal write must not hide the verdict
        log.warning("could not journal the verification: %s", exc)
    return report
