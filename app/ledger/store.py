"""Opening a ledger: schema, identity, signing key, sessions."""

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
from sqlalchemy.orm import Session, sessionmaker

from app import __version__
from app.errors import ClockError, LedgerError, LedgerMismatch
from app.ledger import canonical, chain, keys, migrate
from app.ledger.anchor import write_anchor
from app.ledger.db import make_engine
from app.ledger.models import JournalRecord, LedgerMeta, RecordType

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
KINDS = {"real": "réel", "training": "de formation", "demo": "de démonstration"}
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
    """A handle on one ledger file. Open with ``Ledger.open``; use ``transaction()``."""

    def __init__(
        self,
        path: Path,
        engine: Engine,
        meta: LedgerMeta,
        *,
        clock: Clock,
        till_id: str,
        readonly: bool,
        supervisor: str | None = None,
    ) -> None:
        self.path = path
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

    # -- opening ---------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        kind: str | None = "real",
        create: bool = True,
        readonly: bool = False,
        clock: Clock = utc_now,
        till_id: str = "CAISSE-1",
        timezone: str = DEFAULT_TIMEZONE,
        operator: str = SYSTEM_OPERATOR,
        supervisor: str | None = None,
    ) -> Ledger:
        path = Path(path)
        if readonly or not create:
            if not path.exists():
                raise LedgerError(f"Aucun journal fiscal à l'emplacement {path}.")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = make_engine(path, readonly=readonly)
        migration: migrate.Migration | None = None
        try:
            if not readonly:
                stamp = clock().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
                migration = migrate.upgrade_ledger(engine, path, stamp)
            with Session(engine) as session:
                meta = session.scalar(select(LedgerMeta))
            if meta is None:
                if readonly or not create:
                    raise LedgerError(f"Le fichier {path} n'est pas un journal Comptoir.")
                meta = cls._create(engine, kind, timezone, clock, till_id, operator, supervisor)
            ledger = cls(
                path,
                engine,
                meta,
                clock=clock,
                till_id=till_id,
                readonly=readonly,
                supervisor=supervisor,
            )
            if kind is not None or not readonly:  # any kind may be read, not written
                ledger._check_kind(kind or "real")
            if supervisor is None and ledger.kind == "training":
                ledger.supervisor = ledger._current_supervisor()
            if not readonly:
                ledger._load_signer(operator)
                ledger._record_version_change(migration, operator)
        except Exception:
            engine.dispose()
            raise
        return ledger

    @staticmethod
    def _create(
        engine: Engine,
        kind: str,
        timezone: str,
        clock: Clock,
        till_id: str,
        operator: str,
        supervisor: str | None = None,
    ) -> LedgerMeta:
        if kind not in KINDS:
            raise ValueError(f"unknown ledger kind {kind!r}")
        meta = LedgerMeta(
            id=1,
            ledger_id=str(uuid.uuid4()),
            kind=kind,
            created_at=canonical.format_ts(clock()),
            timezone=timezone,
        )
        stored = keys.create_key(meta.ledger_id)
        with Session(engine, expire_on_commit=False) as session, session.begin():
            session.add(meta)
            session.flush()
            ledger = Ledger(
                Path(),
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
            from app.ledger.events import EventCode, log_event

            log_event(
                session,
                EventCode.LEDGER_CREATED,
                operator=operator,
                kind=kind,
                software_version=__version__,
            )
        return meta

    def _check_kind(self, expected: str) -> None:
        if self.kind == expected:
            return
        raise LedgerMismatch(
            f"Ce fichier est un journal {KINDS.get(self.kind, self.kind)} ; "
            f"il ne peut pas être ouvert comme journal {KINDS.get(expected, expected)}."
            f"{_KIND_HINTS.get((self.kind, expected), '')}",
            detail=f"{self.path}: kind={self.kind}, expected={expected}",
        )

    def _current_supervisor(self) -> str | None:
        """Who answers for a training ledger when the opener names nobody (a verification,
        a backup, the outbox worker): the manager named on its latest record."""
        with self.session() as session:
            data = session.scalar(
                select(JournalRecord.canonical).order_by(JournalRecord.seq.desc()).limit(1)
            )
        return canonical.decode(data).get("supervisor") if data else None

    def _load_signer(self, operator: str) -> None:
        stored = keys.load_key(self.ledger_id)
        with self.session() as session:
            active = active_key_id(session)
        if stored is not None and chain.key_id_of(stored.private_key.public_key()) == active:
            self.signer, self.key_storage = stored.private_key, stored.storage
            return
        # The key that signed the last records is not on this computer (a copied file,
        # a wiped keyring): sign from now on with a new key, and say so in the chain.
        log.warning(
            "signing key %s not found for ledger %s; creating a new one", active, self.ledger_id
        )
        new = keys.create_key(self.ledger_id)
        with self.transaction() as session:
            _append_key(
                session,
                new.private_key,
                operator,
                reason="clé de signature introuvable sur ce poste",
            )
        self.signer, self.key_storage = new.private_key, new.storage

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
                "backup": migration.backup.name,
            }
        from app.ledger.events import EventCode, log_event

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
        new = keys.create_key(self.ledger_id)
        with self.transaction() as session:
            _append_key(session, new.private_key, operator, reason=reason, endorser=old)
        self.signer, self.key_storage = new.private_key, new.storage
        return chain.key_id_of(new.private_key.public_key())

    # -- sessions --------------------------------------------------------------------
    def session(self) -> Session:
        session = self._sessions()
        session.info["ledger"] = self
        return session

    def reader(self) -> Session:
        """A session for reading only: it never waits for, nor takes, the write lock."""
        if self._reader_engine is None:
            self._reader_engine = make_engine(self.path, readonly=self.readonly, immediate=False)
        session = Session(self._reader_engine, expire_on_commit=False)
        session.info["ledger"] = self
        return session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on error.

        A refused clock is journaled after the rollback, in its own transaction.
        """
        with self.session() as session:
            try:
                with session.begin():
                    yield session
            except ClockError:
                self._journal_clock_anomaly()
                raise
            anchor = session.info.pop("anchor", None)
            if anchor is not None:
                write_anchor(self.ledger_id, anchor)

    def note_clock_anomaly(self, observed: str, last: str) -> None:
        self._anomaly = ClockAnomaly(observed, last)

    def _journal_clock_anomaly(self) -> None:
        anomaly, self._anomaly = self._anomaly, None
        if anomaly is None or self.readonly:
            return
        from app.ledger.events import EventCode, log_event

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


def active_key_id(session: Session) -> str | None:
    """The key introduced by the latest KEY record: the one that signs from then on."""
    data = session.scalar(
        select(JournalRecord.canonical)
        .where(JournalRecord.record_type == RecordType.KEY)
        .order_by(JournalRecord.seq.desc())
        .limit(1)
    )
    return canonical.decode(data)["body"]["key_id"] if data else None


VERSION_EVENTS = ("LEDGER_CREATED", "START", "VERSION_CHANGE")


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
        body = canonical.decode(data)["body"]
        if body["code"] in VERSION_EVENTS:
            return body["detail"].get("software_version")
    return None


def _append_key(
    session: Session,
    new_key: ec.EllipticCurvePrivateKey,
    operator: str,
    *,
    reason: str,
    endorser: ec.EllipticCurvePrivateKey | None = None,
) -> None:
    from app.ledger.journal import append

    public = new_key.public_key()
    body = {
        "key_id": chain.key_id_of(public),
        "public_key": base64.b64encode(chain.public_der(public)).decode("ascii"),
        "algorithm": "ECDSA-P256-SHA256",
        "reason": reason,
        "endorsed": endorser is not None,
    }
    append(session, RecordType.KEY, body, operator=operator, key_override=endorser or new_key)
