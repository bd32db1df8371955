"""What a ledger says of itself before it is opened for writing: whether it is one, its
schema, its till, its clock limit and whether this computer holds the key it names.

``Ledger.open`` reads these first, so that a refusal comes before anything is written.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, inspect, select
from sqlalchemy import text as sql_text
from sqlalchemy.exc import DatabaseError, SQLAlchemyError
from sqlalchemy.orm import Session

from app.errors import KeyUnavailable, LedgerError
from app.ledger import canonical, keys, migrate
from app.ledger.db import Target, display_target
from app.ledger.models import JournalRecord, LedgerMeta
from app.ledger.preferences import ShopPreference, stored_till_id
from app.ledger.records import RecordType

DEFAULT_CLOCK_JUMP_LIMIT = timedelta(days=1)
# A shop preference (hours): a shop closed two days a week may allow a longer gap.
CLOCK_JUMP_PREFERENCE = "clock_jump_limit_hours"
CLOCK_JUMP_ENV = "COMPTOIR_CLOCK_JUMP_LIMIT_HOURS"
MAX_CLOCK_JUMP_HOURS = 24 * 31


def _clock_jump_limit(engine: Engine) -> timedelta:
    """The limit for a forward jump of the clock: ``COMPTOIR_CLOCK_JUMP_LIMIT_HOURS``, else
    the shop's preference kept beside the ledger, else one day."""
    override = os.environ.get(CLOCK_JUMP_ENV, "").strip()
    if override.isdigit() and int(override) > 0:
        return timedelta(hours=int(override))
    try:
        with engine.connect() as conn:
            text = conn.execute(
                sql_text("SELECT value FROM shop_preference WHERE key = :key"),
                {"key": CLOCK_JUMP_PREFERENCE},
            ).scalar()
    except SQLAlchemyError:  # a ledger without preferences (a central, an old file)
        return DEFAULT_CLOCK_JUMP_LIMIT
    try:
        hours = int(text) if text else 0
    except ValueError:
        hours = 0
    return timedelta(hours=hours) if hours > 0 else DEFAULT_CLOCK_JUMP_LIMIT


def _has_ledger_table(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            return inspect(conn).has_table(LedgerMeta.__tablename__)
    except DatabaseError:
        if engine.dialect.name != "sqlite":
            raise  # a server out of reach is said by Ledger.open
        return False  # a file of another kind (a text, a folder): not a ledger


def _stored_till_id(engine: Engine) -> str | None:
    """The till id kept in the ledger; None in one older than the preferences table."""
    with Session(engine) as session:
        if not inspect(session.connection()).has_table(ShopPreference.__tablename__):
            return None
        return stored_till_id(session)


def _require_current_schema(engine: Engine, target: Target) -> None:
    """Opening without the key migrates nothing: the migration could not be journaled."""
    revision = migrate.current_revision(engine)
    if revision != migrate.HEAD_REVISION:
        raise LedgerError(
            f"{_where(target)} n'a pas le format de cette version de Comptoir. Ce poste ne "
            "détient pas la clé de signature de ce journal et ne peut donc pas le mettre à "
            "jour : mettez Comptoir à jour sur le poste qui détient cette clé (le serveur "
            "central ou le poste du gérant) et sur celui-ci, puis recommencez.",
            detail=f"{display_target(target)}: schema {revision}, expected {migrate.HEAD_REVISION}",
        )


def _check_key_before_writing(engine: Engine, target: Target) -> None:
    """Refuse, before any migration or record, a ledger whose key this computer lacks."""
    if not _has_ledger_table(engine):
        return
    with engine.connect() as conn:
        ledger_id = conn.execute(select(LedgerMeta.ledger_id)).scalar()
        if ledger_id is None:
            return
        data = conn.execute(_ACTIVE_KEY).scalar()
    active = canonical.decode(data)["body"]["key_id"] if data else None
    stored = keys.load_key(ledger_id)
    if stored is None or stored.key_id != active:
        raise key_unavailable(display_target(target), active, stored)


def key_unavailable(
    where: str, active: str | None, stored: keys.StoredKey | None
) -> KeyUnavailable:
    """The French explanation of a key this computer cannot sign with, and how to mend it."""
    if stored is None:
        return KeyUnavailable(
            f"La clé de signature de ce journal (clé {active}) n'est pas sur cet ordinateur : "
            "rien ne peut y être enregistré sans elle, et rien n'a été modifié. Pour la "
            "rétablir, importez la copie de la clé faite avec « comptoir key export » "
            "(comptoir key import FICHIER, ou Réglages › Sauvegarde › « Importer la clé… »). "
            "Si aucune copie n'existe, un gérant peut créer une nouvelle clé (comptoir key "
            "replace) : ce changement est journalisé et chaque vérification le signalera.",
            detail=f"{where}: key {active} not found",
        )
    return KeyUnavailable(
        f"Le journal désigne une autre clé de signature (clé {active}) que celle que cet "
        f"ordinateur conserve pour lui (clé {stored.key_id}) : un enregistrement de clé a pu "
        "y être ajouté hors de Comptoir. Rien n'a été enregistré et la clé de ce poste n'a "
        "pas été touchée. Lancez « comptoir verify » pour voir où le journal a changé, puis "
        "restaurez la dernière sauvegarde saine (comptoir backup restore FICHIER) ; si la "
        "clé désignée est bien celle de la boutique, importez-en la copie (comptoir key "
        "import FICHIER).",
        detail=f"{where}: ledger names key {active}, this computer holds {stored.key_id}",
    )


def _where(target: Target) -> str:
    if isinstance(target, Path):
        return f"Le fichier {target}"
    return f"La base {display_target(target)}"


_ACTIVE_KEY = (
    select(JournalRecord.canonical)
    .where(JournalRecord.record_type == RecordType.KEY)
    .order_by(JournalRecord.seq.desc())
    .limit(1)
)


def active_key_id(session: Session) -> str | None:
    """The key introduced by the latest KEY record: the one that signs from then on."""
    data = session.scalar(_ACTIVE_KEY)
    return canonical.decode(data)["body"]["key_id"] if data else None


VERSION_EVENTS = ("LEDGER_CREATED", "START", "VERSION_CHANGE")
# How those codes read in canonical bytes (sorted keys, no spaces).
_VERSION_MARKERS = tuple(b'"code":"' + code.encode() + b'"' for code in VERSION_EVENTS)


def last_software_version(session: Session) -> str | None:
    """The software version named by the latest event that records one.

    Technical events are never sales, so the (is_sale, seq) index walks back over the
    non-sale records only: a ledger of a million tickets answers as fast as a new one."""
    rows = session.execute(
        select(JournalRecord.canonical)
        .where(JournalRecord.is_sale.is_(False), JournalRecord.record_type == RecordType.EVENT)
        .order_by(JournalRecord.seq.desc())
        .execution_options(yield_per=64)
    )
    for (data,) in rows:
        # A till journals a print for every receipt: only the events that may name a
        # version are decoded, the others are passed over on their bytes.
        data = bytes(data)  # a server driver may hand over a memoryview
        if not any(marker in data for marker in _VERSION_MARKERS):
            continue
        body = canonical.decode(data)["body"]
        if body["code"] in VERSION_EVENTS:
            return body["detail"].get("software_version")
    return None
