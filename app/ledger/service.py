"""Ledger-level actions shared by the GUI and the command line."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.ledger import keys
from app.ledger.db import make_engine, resolve_target
from app.ledger.events import EventCode, log_event
from app.ledger.models import LedgerMeta
from app.ledger.store import SYSTEM_OPERATOR, Ledger
from app.ledger.verify.engine import Progress, Report, verify_ledger

log = logging.getLogger(__name__)


def ledger_identity(target: Path | str) -> tuple[str, str] | None:
    """(ledger id, kind) read without opening the ledger for writing; None when the file
    or the database holds no readable ledger."""
    resolved = resolve_target(target)
    if isinstance(resolved, Path) and not resolved.exists():
        return None
    engine = make_engine(resolved, readonly=True)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(LedgerMeta.ledger_id, LedgerMeta.kind)).first()
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    return (row[0], row[1]) if row else None


def verify_and_record(
    path: Path | str,
    *,
    operator: str = SYSTEM_OPERATOR,
    workers: int | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    incremental: bool = False,
) -> Report:
    """Verify the ledger (a file's path or a PostgreSQL URL), then journal the result when
    this computer holds its key. ``incremental``: from the latest checkpoint (see
    ``app.ledger.verify.checkpoint``), or the whole ledger when there is none to trust.

    On any other computer (an accountant's, an auditor's) verification writes nothing:
    it needs the public key only, and a foreign machine must not sign in the shop's name.
    An interrupted verification proves nothing and is not journaled.
    """
    report = verify_ledger(
        path, workers=workers, progress=progress, cancelled=cancelled, incremental=incremental
    )
    if report.cancelled:
        return report
    identity = ledger_identity(path)
    if identity is None or keys.load_key(identity[0]) is None:
        return report
    try:
        with (
            Ledger.open(path, kind=identity[1], create=False, operator=operator) as ledger,
            ledger.transaction() as session,
        ):
            record_verification(session, report, operator=operator)
    except Exception as exc:  # a failed journal write must not hide the verdict
        log.warning("could not journal the verification: %s", exc)
    return report


def record_verification(session: Session, report: Report, *, operator: str, **scope: Any) -> None:
    """Journal a verification: its verdict, and the first problem when it failed. ``scope``
    (a central's ``till``) goes into both events so that a verification of a till and one of
    a whole shop can be told apart; the same events serve a till and a central. A sound
    verification of a ledger journals its checkpoint too: the next one may start there."""
    if report.since_seq is not None:
        scope = {**scope, "since_seq": report.since_seq}
    if report.ok and report.checkpoint is not None:
        scope = {**scope, "checkpoint": report.checkpoint}
    log_event(
        session,
        EventCode.VERIFY,
        operator=operator,
        ok=report.ok,
        records=report.records,
        last_seq=report.last_seq,
        summary=report.summary(),
        **scope,
    )
    if not report.ok and report.first_problem is not None:
        log_event(
            session,
            EventCode.INTEGRITY_FAILURE,
            operator=operator,
            seq=report.first_problem.seq,
            rule=report.first_problem.rule,
            **scope,
        )
