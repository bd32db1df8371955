"""Opening a ledger: schema, identity, signing key, sessions.

A ledger lives in a SQLite file (the embedded default) or in a PostgreSQL database (a
central server, opened from its URL); see ``app.ledger.db`` for what differs.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Engine, select
from sqlalchemy import text as sql_text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app import __version__, config
from app.errors import ClockError, LedgerError, LedgerMismatch
from app.ledger import anchor as anchors
from app.ledger import canonical, chain, keys, migrate
from app.ledger.db import (
    Target,
    display_target,
    is_connection_failure,
    is_postgres,
    lock_chain,
    make_engine,
    require_file,
    resolve_target,
    unreachable,
)
from app.ledger.events import EventCode, log_event
from app.ledger.files import (
    clean_leftovers,
    create_private,
    ledger_folders,
    private_file,
    secure_ledger_files,
)
from app.ledger.journal import append
from app.ledger.models import JournalRecord, LedgerMeta
from app.ledger.opening import (
    DEFAULT_CLOCK_JUMP_LIMIT,
    _check_key_before_writing,
    _clock_jump_limit,
    _has_ledger_table,
    _require_current_schema,
    _stored_till_id,
    _where,
    active_key_id,
    key_unavailable,
    last_software_version,
)
from app.ledger.preferences import DEFAULT_TILL_ID, TILL_ID, ShopPreference
from app.ledger.records import RecordType

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
KINDS = {
    "real": "réel",
    "training": "de formation",
    "demo": "de démonstration",
    "central": "central",  # a shop's central ledger: see app/ledger/central/service.py
}
DEFAULT_TIMEZONE = "Europe/Paris"
SYSTEM_OPERATOR = "système"
_KIND_HINTS = {
    ("training", "real"): (
        " Ouvrez le journal réel de la boutique, puis passez en mode formation "
        "(bouton « Mode formation », ou comptoir --training)."
    ),
    ("real", "training"): (
        " Le journal de formation est un fichier distinct, à côté du journal réel ; "
        "celui-ci n'a pas été modifié."
    ),
}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ClockAnomaly:
    observed: str
    last: str


class Ledger:
    """A handle on one ledger (a SQLite file or a PostgreSQL database). Open with
    ``Ledger.open``; use ``transaction()``."""

    def __init__(
        self,
        target: Target,
        engine: Engine,
        meta: LedgerMeta,
        *,
        clock: Clock,
        till_id: str,
        readonly: bool,
        supervisor: str | None = None,
    ) -> None:
        self.target = target
        self.engine = engine
        self.ledger_id = meta.ledger_id
        self.kind = meta.kind
        self.timezone = meta.timezone
        self.clock = clock
        self.till_id = till_id
        self.readonly = readonly
        # Training ledgers only: who answers for what trainees record (see README.md,
        # "Mode formation"); journal.append writes it into every training record.
        self.supervisor = supervisor
        self._signer: ec.EllipticCurvePrivateKey | None = None
        self.signer_key_id: str | None = None
        self.key_storage: str | None = None
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._reader_engine: Engine | None = None
        self._anomaly: ClockAnomaly | None = None
        # A clock far ahead of the last record (see journal.append): checked at the first
        # write of this handle, confirmed by a named manager.
        self.clock_jump_limit = DEFAULT_CLOCK_JUMP_LIMIT
        self.clock_confirmed_by: str | None = None
        self.clock_checked = False
        self._anchored = False  # the ledger's note that an anchor log exists (see anchor)
        self._place = target.resolve() if isinstance(target, Path) else None

    # -- opening ---------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        target: Path | str,
        *,
        kind: str | None = "real",
        create: bool = True,
        readonly: bool = False,
        clock: Clock = utc_now,
        till_id: str | None = None,
        timezone: str = DEFAULT_TIMEZONE,
        operator: str = SYSTEM_OPERATOR,
        supervisor: str | None = None,
        signing: bool = True,
        new_key_reason: str | None = None,
        clock_confirmed_by: str | None = None,
    ) -> Ledger:
        """Open (and with ``create``, make) the ledger at ``target``: a path to a SQLite
        file, or a ``postgresql+psycopg://`` URL to a database that exists on the server.

        ``signing=False`` opens an existing ledger for writing beside its chain (a
        central's till tables) on a computer that does not hold its signing key: no key
        is loaded nor created, so nothing can be appended to the chain, and nothing is
        journaled on opening, which is why the schema must already be current (a
        migration is journaled by a VERSION_CHANGE, which only the key can sign).

        ``till_id`` names the till of a ledger created here, and is kept in it; a ledger
        that has its own (Réglages, ``save_till_id``) always signs with that one, whoever
        opens it, so that the GUI and the command line sign records alike.
        Opening never creates, replaces nor deletes the key of an existing ledger: when the
        key is missing, or the ledger names another key than the one kept here, it raises
        ``KeyUnavailable`` before writing anything. Only ``new_key_reason`` (an explicit
        operation of a manager, ``comptoir key replace``) journals a new, unendorsed key.

        ``clock_confirmed_by`` names the manager who confirmed a clock far ahead of the
        last record (see ``journal.append``)."""
        if not signing and (readonly or create):
            raise ValueError("signing=False opens an existing ledger for writing")
        target = resolve_target(target)
        if isinstance(target, Path):
            if readonly or not create:
                if not target.exists():
                    raise LedgerError(f"Aucun journal fiscal à l'emplacement {target}.")
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                create_private(target)
        engine = make_engine(target, readonly=readonly)
        migration: migrate.Migration | None = None
        try:
            if (readonly or not create) and not _has_ledger_table(engine):
                # Another program's database, or an empty one: no tables are made in it.
                raise LedgerError(f"{_where(target)} n'est pas un journal Comptoir.")
            if not signing:
                _require_current_schema(engine, target)
            elif not readonly:
                if new_key_reason is None:
                    _check_key_before_writing(engine, target)
                stamp = clock().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
                migration = migrate.upgrade_ledger(engine, target, stamp)
            with Session(engine) as session:
                meta = session.scalar(select(LedgerMeta))
            if meta is None:
                if readonly or not create:
                    raise LedgerError(f"{_where(target)} n'est pas un journal Comptoir.")
                meta = cls._create(
                    engine, target, kind, timezone, clock, till_id, operator, supervisor
                )
            ledger = cls(
                target,
                engine,
                meta,
                clock=clock,
                till_id=_stored_till_id(engine) or till_id or DEFAULT_TILL_ID,
                readonly=readonly,
                supervisor=supervisor,
            )
            ledger.clock_confirmed_by = clock_confirmed_by
            ledger.clock_jump_limit = _clock_jump_limit(engine)
            if kind is not None or not readonly:  # any kind may be read, not written
                ledger._check_kind(kind or "real")
            if supervisor is None and ledger.kind == "training":
                ledger.supervisor = ledger._current_supervisor()
            if signing and not readonly:
                ledger._load_signer(operator, new_key_reason)
                ledger._record_version_change(migration, operator)
                if isinstance(target, Path):
                    _tidy_files(engine, target)
        except OperationalError as exc:
            engine.dispose()
            if not is_postgres(target) or not is_connection_failure(exc):
                raise
            raise unreachable(str(target), exc) from exc
        except Exception:
            engine.dispose()
            raise
        return ledger

    @staticmethod
    def _create(
        engine: Engine,
        target: Target,
        kind: str,
        timezone: str,
        clock: Clock,
        till_id: str | None,
        operator: str,
        supervisor: str | None = None,
    ) -> LedgerMeta:
        if kind not in KINDS:
            raise ValueError(f"unknown ledger kind {kind!r}")
        with Session(engine, expire_on_commit=False) as session, session.begin():
            # Two tills starting at once on a new server: the second finds the first's.
            lock_chain(session)
            existing = session.scalar(select(LedgerMeta))
            if existing is not None:
                return existing
            meta = LedgerMeta(
                id=1,
                ledger_id=str(uuid.uuid4()),
                kind=kind,
                created_at=canonical.format_ts(clock()),
                timezone=timezone,
            )
            stored = keys.create_key(meta.ledger_id)
            session.add(meta)
            till_id = till_id or DEFAULT_TILL_ID
            session.add(ShopPreference(key=TILL_ID, value=till_id))
            session.flush()
            ledger = Ledger(
                target,
                engine,
                meta,
                clock=clock,
                till_id=till_id,
                readonly=False,
                supervisor=supervisor,
            )
            session.info["ledger"] = ledger
            ledger.signer = stored.private_key
            _append_key(session, stored.private_key, operator, reason="création du journal")
            log_event(
                session,
                EventCode.LEDGER_CREATED,
                operator=operator,
                kind=kind,
                software_version=__version__,
            )
            head = session.info.pop("anchor")
            anchors.note_anchored(session, head)
        place = target.resolve() if isinstance(target, Path) else None
        anchors.keep_head(meta.ledger_id, stored.private_key, head, lambda _seq: None, place)
        return meta

    def _check_kind(self, expected: str) -> None:
        if self.kind == expected:
            return
        this = "Cette base" if self.is_server else "Ce fichier"
        raise LedgerMismatch(
            f"{this} est un journal {KINDS.get(self.kind, self.kind)} ; "
            f"il ne peut pas être ouvert comme journal {KINDS.get(expected, expected)}."
            f"{_KIND_HINTS.get((self.kind, expected), '')}",
            detail=f"{self.display_name}: kind={self.kind}, expected={expected}",
        )

    # -- where it lives --------------------------------------------------------------
    @property
    def is_server(self) -> bool:
        """Whether the ledger is a PostgreSQL database rather than a SQLite file."""
        return not isinstance(self.target, Path)

    @property
    def display_name(self) -> str:
        """The file's path, or the server's URL without its password: safe to show."""
        return display_target(self.target)

    @property
    def path(self) -> Path:
        """The SQLite file. Features that copy or read the file itself (backups, restore,
        the archive viewer, exports, the documents folder beside it) need one; on a
        PostgreSQL ledger they are refused in plain words."""
        return self.require_file(
            "Cette fonction travaille sur le fichier du journal : elle n'est disponible que "
            f"pour un journal SQLite, pas pour la base PostgreSQL {self.display_name}."
        )

    def require_file(self, refusal: str) -> Path:
        """The SQLite file, or ``SqliteOnly`` with ``refusal`` (a French sentence) when the
        ledger is on a PostgreSQL server."""
        return require_file(self.target, refusal)

    def _current_supervisor(self) -> str | None:
        """Who answers for a training ledger when the opener names nobody (a verification,
        a backup, the outbox worker): the manager named on its latest record."""
        with self.session() as session:
            data = session.scalar(
                select(JournalRecord.canonical).order_by(JournalRecord.seq.desc()).limit(1)
            )
        return canonical.decode(data).get("supervisor") if data else None

    def _load_signer(self, operator: str, new_key_reason: str | None = None) -> None:
        stored = keys.load_key(self.ledger_id)
        with self.session() as session:
            active = active_key_id(session)
        if stored is not None and stored.key_id == active:
            self.signer, self.key_storage = stored.private_key, stored.storage
            return
        if new_key_reason is None:
            raise key_unavailable(self.display_name, active, stored)
        # A manager's explicit decision: the key is lost for good. Nobody can vouch for the
        # new key, so the KEY record says so (endorsed: false) and every verification will;
        # a key kept here until now is set aside, never deleted.
        log.warning("replacing the signing key %s of ledger %s", active, self.ledger_id)
        new = keys.new_private_key()
        self.signer = new  # the anchor of the KEY record is signed by the new key
        with self.transaction() as session:
            _append_key(session, new, operator, reason=new_key_reason)
            stored = keys.install_key(self.ledger_id, new)
        self.signer, self.key_storage = stored.private_key, stored.storage

    def _record_version_change(self, migration: migrate.Migration | None, operator: str) -> None:
        """Journal a VERSION_CHANGE when another version of the software last wrote here, or
        the schema was just migrated: an auditor sees which program signed which records."""
        with self.session() as session:
            previous = last_software_version(session)
        if previous == __version__ and migration is None:
            return
        detail: dict[str, object] = {"previous_version": previous, "software_version": __version__}
        if migration is not None:
            detail |= {
                "schema_from": migration.from_revision,
                "schema_to": migration.to_revision,
                "migrations": list(migration.applied),
                # PostgreSQL: no copy, the migration is one transaction (see README.md).
                "backup": migration.backup.name if migration.backup else None,
            }
        with self.transaction() as session:
            log_event(session, EventCode.VERSION_CHANGE, operator=operator, **detail)

    @property
    def signer(self) -> ec.EllipticCurvePrivateKey | None:
        return self._signer

    @signer.setter
    def signer(self, key: ec.EllipticCurvePrivateKey | None) -> None:
        self._signer = key
        self.signer_key_id = None if key is None else chain.key_id_of(key.public_key())

    def rotate_key(self, operator: str, reason: str) -> str:
        """Replace the signing key; the change is endorsed by the current key."""
        old = self.signer
        if old is None:
            raise RuntimeError("ledger opened read-only")
        new = keys.new_private_key()
        with self.transaction() as session:
            _append_key(session, new, operator, reason=reason, endorser=old)
            # The previous key is kept aside by install_key: old signatures stay checkable
            # by their public key anyway, but a key is never destroyed.
            stored = keys.install_key(self.ledger_id, new)
        self.signer, self.key_storage = stored.private_key, stored.storage
        return stored.key_id

    # -- sessions --------------------------------------------------------------------
    def session(self) -> Session:
        session = self._sessions()
        session.info["ledger"] = self
        return session

    def reader(self) -> Session:
        """A session for reading only: it never waits for, nor takes, the write lock."""
        if self._reader_engine is None:
            self._reader_engine = make_engine(self.target, readonly=self.readonly, immediate=False)
        session = Session(self._reader_engine, expire_on_commit=False)
        session.info["ledger"] = self
        return session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on error.

        It holds the chain's write lock from its start (``BEGIN IMMEDIATE`` on SQLite, the
        advisory lock on PostgreSQL), so that whatever it reads before appending (a
        closure's range and totals) is still true when it appends.
        A refused clock is journaled after the rollback, in its own transaction.
        """
        with self.session() as session:
            try:
                with session.begin():
                    if self.is_server:
                        lock_chain(session)
                    yield session
                    head = session.info.get("anchor")
                    if head is not None and not self._anchored:
                        anchors.note_anchored(session, head)
                        self._anchored = True
            except ClockError:
                self._journal_clock_anomaly()
                raise
            head = session.info.pop("anchor", None)
            if head is not None and self.signer is not None:
                anchors.keep_head(self.ledger_id, self.signer, head, self._hash_at, self._place)
            renamed = session.info.pop("till_id", None)  # see preferences.save_till_id
            if renamed is not None:
                self.till_id = renamed

    def _hash_at(self, seq: int) -> str | None:
        with self.engine.connect() as conn:
            return conn.scalar(select(JournalRecord.hash).where(JournalRecord.seq == seq))

    def note_clock_anomaly(self, observed: str, last: str) -> None:
        self._anomaly = ClockAnomaly(observed, last)

    def _journal_clock_anomaly(self) -> None:
        anomaly, self._anomaly = self._anomaly, None
        if anomaly is None or self.readonly:
            return
        real_clock = self.clock
        self.clock = lambda: canonical.parse_ts(anomaly.last)
        try:
            with self.session() as session, session.begin():
                log_event(
                    session,
                    EventCode.CLOCK_ANOMALY,
                    operator=SYSTEM_OPERATOR,
                    observed=anomaly.observed,
                    last_record=anomaly.last,
                )
        finally:
            self.clock = real_clock

    def close(self) -> None:
        self.engine.dispose()
        if self._reader_engine is not None:
            self._reader_engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _tidy_files(engine: Engine, path: Path) -> None:
    """At each opening for writing: the ledger's files back to their owner only, and what
    an interrupted backup or archive left behind removed (see ``app.ledger.files``)."""
    folders = ledger_folders(path)
    chosen: list[Path] = []
    try:
        with engine.connect() as conn:
            for (value,) in conn.execute(
                sql_text("SELECT value FROM shop_preference WHERE key IN (:a, :b)"),
                {"a": "backup_folder", "b": "archive_dir"},
            ):
                if value and value.strip():
                    chosen.append(Path(value.strip()).expanduser())
    except SQLAlchemyError:
        pass
    clean_leftovers([*folders, *chosen])
    data = config.data_dir()
    secure_ledger_files(path, [*folders, data / "anchors", data / "keys"])
    for folder in chosen:  # a folder of the shop's choosing keeps its mode, not our files
        for pattern in (f"{path.stem}-*.sqlite", f"{path.stem}-*.sqlite.anchor", "archive*.zip"):
            for copy in folder.glob(pattern):
                if copy.is_file():
                    private_file(copy)


def ledger_of(session: Session) -> Ledger:
    """The ledger whose ``session()``, ``reader()`` or ``transaction()`` opened
    ``session``."""
    try:
        return session.info["ledger"]
    except KeyError:
        raise RuntimeError("session was not opened by Ledger.session()") from None


def _append_key(
    session: Session,
    new_key: ec.EllipticCurvePrivateKey,
    operator: str,
    *,
    reason: str,
    endorser: ec.EllipticCurvePrivateKey | None = None,
) -> None:
    public = new_key.public_key()
    body = {
        "key_id": chain.key_id_of(public),
        "public_key": base64.b64encode(chain.public_der(public)).decode("ascii"),
        "algorithm": "ECDSA-P256-SHA256",
        "reason": reason,
        "endorsed": endorser is not None,
    }
    append(session, RecordType.KEY, body, operator=operator, key_override=endorser or new_key)
