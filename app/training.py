"""Training mode: the training ledger that belongs to a real one, and switching to it.

A training ledger is a sibling file (``shop.sqlite`` -> ``shop.formation.sqlite``) whose
metadata says ``training``, with its own identity and signing key. It is created on first
use with what people need to practise: the shop's fiscal identity (journaled there as a
SETTINGS record), its operators (so they log in with their usual PIN), its catalog and its
receipt preferences. Copying *out of* the real ledger reads it and writes nothing into it:
operators, products and preferences are not fiscal records, and the fiscal identity is
recorded anew in the training chain. Customers are not copied: trainees invoice made-up
customers, so that no watermarked invoice ever names a real one.

The GUI's switch journals TRAINING_ON / TRAINING_OFF in both ledgers and nothing else;
the command line (``comptoir --training``) never writes into the real ledger at all.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app import config
from app.catalog.models import Category, Product
from app.errors import LedgerError, LedgerMismatch
from app.ledger.anchor import ANCHORED_SINCE
from app.ledger.events import EventCode, log_event
from app.ledger.operators import Operator, OperatorInfo, Permission, Role, require
from app.ledger.preferences import TILL_ID, ShopPreference, save_till_id
from app.ledger.settings import FiscalSettings, fiscal_settings, record_fiscal_settings
from app.ledger.store import KINDS, SYSTEM_OPERATOR, Clock, Ledger, utc_now
from app.ledger.training import TRAINING
from app.sales.terminal.settings import CARD_TERMINAL

PLATFORM_PREFERENCES = "pdp_"  # a training ledger only ever talks to a sandbox
_OPERATOR_FIELDS = ("role", "pin_salt", "pin_hash", "active")


def ledger_kind(path: Path) -> str | None:
    """The kind a ledger file says it is, read without opening it as a ledger (so without
    migrating or writing anything); None when there is no such file or it is no ledger."""
    if not path.is_file():
        return None
    try:
        with sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT kind FROM ledger_meta").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def training_sibling(real_path: Path) -> Path:
    """The training ledger of ``real_path``, after checking that neither file is taken for
    what it is not. Nothing is opened for writing before both checks pass."""
    if ledger_kind(real_path) == TRAINING:
        raise LedgerMismatch(
            f"{real_path.name} est déjà un journal de formation : indiquez le journal réel "
            "de la boutique, son journal de formation est le fichier voisin."
        )
    sibling = config.training_path(real_path)
    kind = ledger_kind(sibling)
    if sibling.exists() and kind != TRAINING:
        what = f"un journal {KINDS.get(kind, kind)}" if kind else "pas un journal Comptoir"
        raise LedgerMismatch(
            f"Le fichier {sibling} devrait être le journal de formation de "
            f"{real_path.name}, mais c'est {what}. Il n'a été ni ouvert ni modifié : "
            "déplacez-le, puis recommencez."
        )
    return sibling


# -- copying the shop into a new training ledger ------------------------------------------
def _rows(session: Session, model: type[Any]) -> list[dict[str, Any]]:
    columns = model.__table__.columns
    return [{c.key: getattr(obj, c.key) for c in columns} for obj in session.scalars(select(model))]


def _read_shop(source: Session, till_id: str) -> dict[str, Any]:
    return {
        "till_id": till_id,
        "settings": fiscal_settings(source),
        "operators": _rows(source, Operator),
        "categories": _rows(source, Category),
        "products": _rows(source, Product),
        "preferences": [
            row
            for row in _rows(source, ShopPreference)
            # never the real card terminal: training charges no card (terminal settings)
            if not row["key"].startswith(PLATFORM_PREFERENCES)
            and row["key"] not in (TILL_ID, CARD_TERMINAL, ANCHORED_SINCE)  # each ledger's own
        ],
    }


def _sync_operators(session: Session, operators: list[dict[str, Any]]) -> None:
    """Same names, roles and PINs as in the real shop (PINs may have changed since)."""
    mine = {o.name: o for o in session.scalars(select(Operator))}
    for row in operators:
        existing = mine.get(row["name"])
        if existing is None:
            session.add(
                Operator(**{k: row[k] for k in ("name", *_OPERATOR_FIELDS)}, failed_attempts=0)
            )
        else:
            for key in _OPERATOR_FIELDS:
                setattr(existing, key, row[key])
    session.flush()


def _copy_shop(shop: dict[str, Any], target: Ledger, *, created: bool, operator: str) -> None:
    with target.transaction() as session:
        if shop["settings"] != FiscalSettings():
            record_fiscal_settings(session, shop["settings"], operator=operator)
        _sync_operators(session, shop["operators"])
        if target.till_id != shop["till_id"]:  # the real till was renamed since
            save_till_id(session, shop["till_id"], operator=operator)
        if not created:
            return  # the trainees' own catalog and preferences are theirs to change
        for model, rows in (
            (Category, shop["categories"]),
            (Product, shop["products"]),
            (ShopPreference, shop["preferences"]),
        ):
            if rows:
                session.execute(insert(model), rows)


def open_training_ledger(
    real_path: Path,
    *,
    supervisor: str,
    source: Ledger | None = None,
    clock: Clock = utc_now,
) -> Ledger:
    """Open the training ledger of ``real_path``, creating it on first use.

    ``source`` is the real ledger when it is already open (the GUI); otherwise it is read
    through a read-only connection when it exists. The operators and the fiscal identity
    are brought up to date at every opening.
    """
    path = training_sibling(real_path)
    created = not path.exists()
    shop: dict[str, Any] | None = None
    timezone = None
    if source is not None:
        with source.reader() as session:
            shop, timezone = _read_shop(session, source.till_id), source.timezone
    elif ledger_kind(real_path) is not None:
        with Ledger.open(real_path, kind=None, readonly=True) as real, real.reader() as session:
            shop, timezone = _read_shop(session, real.till_id), real.timezone
    options: dict[str, Any] = {"timezone": timezone} if timezone else {}
    if shop is not None:
        options["till_id"] = shop["till_id"]
    training = Ledger.open(
        path,
        kind=TRAINING,
        clock=clock,
        operator=supervisor,
        supervisor=supervisor,
        **options,
    )
    try:
        if shop is not None:
            _copy_shop(shop, training, created=created, operator=supervisor)
    except BaseException:
        training.close()
        raise
    return training


def ensure_training_ledger(real_path: Path, *, supervisor: str) -> Path:
    """The path of the training ledger of ``real_path``, created on first use (the command
    line's ``--training``)."""
    path = training_sibling(real_path)
    if not path.exists():
        open_training_ledger(real_path, supervisor=supervisor).close()
    return path


# -- switching (the GUI) ------------------------------------------------------------------
def enter_training(real: Ledger, *, operator: str, supervisor: str) -> Ledger:
    """Leave the real ledger for its training ledger; returns the training ledger open.

    TRAINING_ON is journaled in the training ledger, then in the real one, which is then
    closed. If anything fails before that, the real ledger stays open and unchanged.
    """
    if real.kind != "real":
        raise LedgerMismatch("Le mode formation s'ouvre depuis le journal réel de la boutique.")
    with real.reader() as session:
        require(session, supervisor, Permission.SUPERVISE_TRAINING)
    training = open_training_ledger(real.path, supervisor=supervisor, source=real, clock=real.clock)
    try:
        with training.transaction() as session:
            log_event(session, EventCode.TRAINING_ON, operator=operator, real_ledger=real.ledger_id)
        with real.transaction() as session:
            log_event(
                session,
                EventCode.TRAINING_ON,
                operator=operator,
                supervisor=supervisor,
                training_ledger=training.ledger_id,
                file=training.path.name,
            )
    except BaseException:
        training.close()
        raise
    real.close()
    return training


def leave_training(
    training: Ledger, *, operator: str, authorised_by: str, real_path: Path | None = None
) -> Ledger:
    """Go back from a training ledger to its real ledger; returns the real ledger open."""
    if training.kind != TRAINING:
        raise LedgerMismatch("Ce journal n'est pas un journal de formation.")
    with training.reader() as session:
        require(session, authorised_by, Permission.SUPERVISE_TRAINING)
    path = real_path or config.real_path(training.path)
    if path is None or not path.exists():
        raise LedgerError(
            "Le journal réel de la boutique est introuvable à côté du journal de formation."
        )
    real = Ledger.open(
        path,
        kind="real",
        create=False,
        clock=training.clock,
        operator=SYSTEM_OPERATOR,
    )
    try:
        with training.transaction() as session:
            log_event(
                session,
                EventCode.TRAINING_OFF,
                operator=operator,
                authorised_by=authorised_by,
                real_ledger=real.ledger_id,
            )
        with real.transaction() as session:
            log_event(
                session,
                EventCode.TRAINING_OFF,
                operator=operator,
                supervisor=training.supervisor or authorised_by,
                authorised_by=authorised_by,
                training_ledger=training.ledger_id,
            )
    except BaseException:
        real.close()
        raise
    training.close()
    return real


def find_operator(ledger: Ledger, name: str) -> OperatorInfo | None:
    """The operator of that name in ``ledger`` (after a switch, the same person goes on)."""
    with ledger.reader() as session:
        row = session.scalar(
            select(Operator).where(Operator.name == name, Operator.active.is_(True))
        )
        return OperatorInfo(row.id, row.name, Role(row.role)) if row is not None else None
