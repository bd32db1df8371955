"""Ledger-level actions shared by the GUI and the command line."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.errors import ClockJump, InvalidInput, KeyUnavailable, LedgerError
from app.ledger import chain, keys
from app.ledger.db import display_target, make_engine, resolve_target
from app.ledger.events import EventCode, log_event
from app.ledger.models import LedgerMeta
from app.ledger.opening import active_key_id
from app.ledger.store import SYSTEM_OPERATOR, Clock, Ledger, utc_now
from app.ledger.verify.anchors import Elsewhere
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
    clock: Clock = utc_now,
    elsewhere: Sequence[Elsewhere] = (),
) -> Report:
    """Verify the ledger (a file's path or a PostgreSQL URL), then journal the result when
    this computer holds its key. ``incremental``: from the latest checkpoint (see
    ``app.ledger.verify.checkpoint``), or the whole ledger when there is none to trust.

    On any other computer (an accountant's, an auditor's) verification writes nothing:
    it needs the public key only, and a foreign machine must not sign in the shop's name.
    Nor does it write where the key kept here is not the one the ledger names (a forged
    KEY record), nor when the clock is far ahead of the last record (a verification run
    with the clock in 2030 would otherwise date the chain in 2030): the verdict then says
    why it was not journaled. An interrupted verification proves nothing and is not
    journaled either. Nothing else is ever written by a verification.
    """
    report = verify_ledger(
        path,
        workers=workers,
        progress=progress,
        cancelled=cancelled,
        incremental=incremental,
        elsewhere=elsewhere,
    )
    if report.cancelled:
        return report
    identity = ledger_identity(path)
    if identity is None or keys.load_key(identity[0]) is None:
        return report
    try:
        with (
            Ledger.open(
                path, kind=identity[1], create=False, operator=operator, clock=clock
            ) as ledger,
            ledger.transaction() as session,
        ):
            record_verification(session, report, operator=operator)
    except KeyUnavailable:
        report.notices.append(
            "Résultat non journalisé : le journal désigne une autre clé de signature que "
            "celle de cet ordinateur, qui n'a pas été touchée."
        )
    except ClockJump:
        report.notices.append(
            "Résultat non journalisé : l'horloge de cet ordinateur est très en avance sur le "
            "dernier enregistrement du journal. Vérifiez la date et l'heure."
        )
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


# -- a copy of the signing key ----------------------------------------------------------
def export_key(
    target: Path | str,
    out: Path,
    passphrase: str,
    *,
    operator: str = SYSTEM_OPERATOR,
    clock: Clock = utc_now,
) -> str:
    """Write the ledger's signing key to ``out``, encrypted with ``passphrase``, readable by
    its owner only; returns the key id. Journaled (EXPORT) where the ledger can be written."""
    ledger_id, kind = _identity_or_refuse(target)
    stored = keys.load_key(ledger_id)
    if stored is None:
        raise KeyUnavailable(
            "La clé de signature de ce journal n'est pas sur cet ordinateur : il n'y a rien "
            "à exporter. Exportez-la depuis le poste qui enregistre les ventes."
        )
    data = keys.export_bytes(ledger_id, stored.private_key, passphrase)
    try:
        keys.write_private(out, data)
    except OSError as exc:
        raise LedgerError(f"Impossible d'écrire la copie de la clé dans {out} : {exc}.") from exc
    try:
        with (
            Ledger.open(target, kind=kind, create=False, operator=operator, clock=clock) as ledger,
            ledger.transaction() as session,
        ):
            log_event(
                session,
                EventCode.EXPORT,
                operator=operator,
                what="signing_key",
                key_id=stored.key_id,
                file=out.name,
            )
    except (KeyUnavailable, ClockJump) as exc:  # the copy is made; say why it is not journaled
        log.warning("key export not journaled: %s", exc.detail or exc)
    return stored.key_id


def import_key(
    target: Path | str, source: Path, passphrase: str, *, operator: str, clock: Clock = utc_now
) -> str:
    """Install the signing key from an exported copy, when it is the key the ledger names
    (the shop's computer replaced, a wiped keyring); returns its id. A key kept here until
    now is set aside, never deleted. The import is journaled (KEY_IMPORT)."""
    ledger_id, kind = _identity_or_refuse(target)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"Impossible de lire la copie de la clé {source} : {exc}.") from exc
    copy_ledger, private_key = keys.read_export(data, passphrase)
    if copy_ledger != ledger_id:
        raise InvalidInput(
            f"Cette copie est la clé d'un autre journal ({copy_ledger}) : elle n'a pas été "
            "importée."
        )
    with Ledger.open(target, kind=None, readonly=True) as ledger, ledger.reader() as session:
        active = active_key_id(session)
    key_id = chain.key_id_of(private_key.public_key())
    if key_id != active:
        raise InvalidInput(
            f"Cette clé (clé {key_id}) n'est pas celle que le journal désigne (clé {active}) : "
            "elle n'a pas été importée."
        )
    keys.install_key(ledger_id, private_key)
    try:
        with (
            Ledger.open(target, kind=kind, create=False, operator=operator, clock=clock) as ledger,
            ledger.transaction() as session,
        ):
            log_event(session, EventCode.KEY_IMPORT, operator=operator, key_id=key_id)
    except ClockJump as exc:
        log.warning("key import not journaled: %s", exc.detail)
    return key_id


def _identity_or_refuse(target: Path | str) -> tuple[str, str]:
    identity = ledger_identity(target)
    if identity is None:
        raise LedgerError(
            f"Aucun journal Comptoir à l'emplacement {display_target(resolve_target(target))}."
        )
    return identity
