"""Uploading a till's records to the central ledger (see ``app.ledger.central``).

``upload`` copies the records the central lacks, in sequence order, in batches. Each batch
is one transaction of the central that locks the till's ``till_chain`` row (``SELECT ...
FOR UPDATE``: two uploads of one till never interleave), checks every record — the link
to the head already received, the hash of the canonical bytes, the signature by the
till's key in force, the envelope naming this till's ledger and position — and inserts
it exactly as the till signed it. A record the central already holds with the same hash
is skipped; a different one at the same place is a fork, and the batch is refused whole.
Each batch that inserts something is traced by a ``till_upload`` row and an UPLOAD event
in the central's own chain.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.errors import LedgerError
from app.ledger import canonical, chain
from app.ledger.central_models import TillChain, TillKey, TillRecord, TillUpload
from app.ledger.events import EventCode, log_event
from app.ledger.journal import derived_rows
from app.ledger.models import JournalRecord, RecordType
from app.ledger.store import SYSTEM_OPERATOR, Ledger

_SALE_VALUES = frozenset(t.value for t in RecordType if t.is_sale)


class UploadRefused(LedgerError):
    """The till's records do not continue what the central holds (fork, tampering)."""


# -- registration ---------------------------------------------------------------------
@dataclass(frozen=True)
class TillInfo:
    ledger_id: str
    till_id: str
    head_seq: int
    head_hash: str
    registered_at: str


def _info(row: TillChain) -> TillInfo:
    return TillInfo(row.ledger_id, row.till_id, row.head_seq, row.head_hash, row.registered_at)


def register_till(
    central: Ledger,
    ledger_id: str,
    till_id: str,
    *,
    timezone: str | None = None,
    operator: str = SYSTEM_OPERATOR,
) -> TillInfo:
    """Register a till's ledger with the central (idempotent); traced by an event.

    A shop closure waits for every registered till, so a till is registered by its first
    upload, or beforehand to make the shop wait for it. Two ledgers may not share a till
    name: the closures and the verification name tills, and must name them unambiguously."""
    with central.reader() as session:  # the usual case: known, and no write lock taken
        row = session.get(TillChain, ledger_id)
        if row is not None:
            return _info(row)
    with central.transaction() as session:
        row = session.get(TillChain, ledger_id)
        if row is not None:  # registered meanwhile by another upload of this till
            return _info(row)
        other = session.scalar(select(TillChain).where(TillChain.till_id == till_id))
        if other is not None:
            raise UploadRefused(
                f"Une autre caisse est déjà inscrite au serveur central sous le nom "
                f"« {till_id} » (journal {other.ledger_id}). Donnez à cette caisse un "
                "identifiant qui lui soit propre (Réglages), puis recommencez."
            )
        row = TillChain(
            ledger_id=ledger_id,
            till_id=till_id,
            timezone=timezone or central.timezone,
            head_seq=0,
            head_hash=chain.GENESIS_PREV_HASH,
            registered_at=canonical.format_ts(central.clock()),
        )
        session.add(row)
        session.flush()
        log_event(
            session, EventCode.TILL_REGISTERED, operator=operator, till=till_id, ledger=ledger_id
        )
        return _info(row)


def registered_tills(session: Session) -> list[TillInfo]:
    return [_info(row) for row in session.scalars(select(TillChain).order_by(TillChain.till_id))]


# -- upload ---------------------------------------------------------------------------
@dataclass(frozen=True)
class UploadResult:
    """What one upload did; ``last_seq``/``last_hash`` are the central's head for the till."""

    till_id: str
    ledger_id: str
    records: int  # inserted
    batches: int  # batches that inserted something (each traced by an UPLOAD event)
    skipped: int  # already on the central, identical
    last_seq: int
    last_hash: str
    local_last_seq: int

    @property
    def pending(self) -> int:
        return max(0, self.local_last_seq - self.last_seq)

    def summary(self) -> str:
        if not self.records:
            return (
                f"Caisse {self.till_id} : rien à envoyer, le serveur central a tout reçu "
                f"(jusqu'au n°{self.last_seq})."
            )
        return (
            f"Caisse {self.till_id} : {self.records} enregistrement(s) envoyé(s) en "
            f"{self.batches} lot(s), jusqu'au n°{self.last_seq} "
            f"(empreinte {self.last_hash[:16]}…)."
        )


@dataclass(frozen=True)
class _Local:
    """A till record as read from the till's own ledger."""

    seq: int
    canonical: bytes
    prev_hash: str
    hash: str
    signature: bytes


_LOCAL_COLUMNS = (
    JournalRecord.seq,
    JournalRecord.canonical,
    JournalRecord.prev_hash,
    JournalRecord.hash,
    JournalRecord.signature,
)


def _local_batch(local: Ledger, after: int, limit: int) -> list[_Local]:
    with local.reader() as session:
        rows = session.execute(
            select(*_LOCAL_COLUMNS)
            .where(JournalRecord.seq > after)
            .order_by(JournalRecord.seq)
            .limit(limit)
        ).all()
    return [_Local(*row) for row in rows]


def local_head(local: Ledger) -> int:
    """The last sequence number of the till's ledger."""
    with local.reader() as session:
        last = session.scalar(select(JournalRecord.seq).order_by(JournalRecord.seq.desc()).limit(1))
    return last or 0


def _local_hash(local: Ledger, seq: int) -> str | None:
    with local.reader() as session:
        return session.scalar(select(JournalRecord.hash).where(JournalRecord.seq == seq))


def upload(
    local: Ledger,
    central: Ledger,
    *,
    batch: int = 500,
    till_id: str | None = None,
    operator: str = SYSTEM_OPERATOR,
) -> UploadResult:
    """Send the till's records the central lacks; see the module docstring.

    The till's ledger is only read (never locked for writing): sales go on meanwhile.
    Raises UploadRefused (fork, tampering: nothing of the refused batch is kept)."""
    if local.kind != "real":
        raise UploadRefused(
            "Seul le journal réel d'une caisse est envoyé au serveur central "
            f"(ce journal est {'de formation' if local.kind == 'training' else local.kind})."
        )
    if batch < 1:
        raise ValueError("batch must be positive")
    name = till_id or local.till_id
    info = register_till(central, local.ledger_id, name, timezone=local.timezone, operator=operator)
    name = info.till_id
    local_last = local_head(local)
    _check_continues(local, info, name, local_last)
    cursor, records, batches, skipped = info.head_seq, 0, 0, 0
    head = (info.head_seq, info.head_hash)
    while True:
        rows = _local_batch(local, cursor, batch)
        if not rows:
            break
        stored = _store_batch(central, local.ledger_id, name, rows, operator)
        records += stored.inserted
        skipped += stored.skipped
        batches += stored.inserted > 0
        head = (stored.head_seq, stored.head_hash)
        cursor = rows[-1].seq
    return UploadResult(
        till_id=name,
        ledger_id=local.ledger_id,
        records=records,
        batches=batches,
        skipped=skipped,
        last_seq=head[0],
        last_hash=head[1],
        local_last_seq=max(local_last, cursor),
    )


def _check_continues(local: Ledger, info: TillInfo, name: str, local_last: int) -> None:
    """The till's ledger must hold, at the central's head, the very record received."""
    if info.head_seq == 0:
        return
    if local_last < info.head_seq:
        raise UploadRefused(
            f"Envoi refusé : le journal de la caisse {name} s'arrête au n°{local_last} alors "
            f"que le serveur central en a déjà reçu jusqu'au n°{info.head_seq}. Ce journal a "
            "été remplacé ou restauré depuis une ancienne sauvegarde ; rien n'a été envoyé."
        )
    if _local_hash(local, info.head_seq) != info.head_hash:
        raise _fork(name, info.head_seq)


def _fork(name: str, seq: int) -> UploadRefused:
    return UploadRefused(
        f"Envoi refusé : le journal de la caisse {name} ne prolonge pas celui que le serveur "
        f"central a déjà reçu (l'enregistrement n°{seq} est différent). Ce journal a été "
        "remplacé, réécrit ou copié sur un autre poste ; rien n'a été envoyé.",
        detail=f"fork at seq {seq}",
    )


@dataclass(frozen=True)
class _Stored:
    inserted: int
    skipped: int
    head_seq: int
    head_hash: str


@dataclass
class _Keys:
    """The till's public keys, and the one in force at the head."""

    public: dict[str, Any]
    active: str | None


def _till_keys(session: Session, ledger_id: str) -> _Keys:
    public = {
        key_id: chain.load_public_der(der)
        for key_id, der in session.execute(
            select(TillKey.key_id, TillKey.public_key).where(TillKey.ledger_id == ledger_id)
        )
    }
    last_key = session.scalar(
        select(TillRecord.canonical)
        .where(TillRecord.ledger_id == ledger_id, TillRecord.record_type == RecordType.KEY.value)
        .order_by(TillRecord.seq.desc())
        .limit(1)
    )
    active = canonical.decode(last_key)["body"]["key_id"] if last_key else None
    return _Keys(public, active)


def _store_batch(
    central: Ledger, ledger_id: str, name: str, rows: Sequence[_Local], operator: str
) -> _Stored:
    """One transaction of the central: check and insert ``rows``, trace the batch."""
    with central.transaction() as session:
        till = session.execute(
            select(TillChain).where(TillChain.ledger_id == ledger_id).with_for_update()
        ).scalar_one()
        head_seq, head_hash = till.head_seq, till.head_hash
        known = _known_hashes(session, ledger_id, rows, head_seq)
        till_keys = _till_keys(session, ledger_id)
        inserts: list[dict[str, Any]] = []
        new_keys: list[dict[str, Any]] = []
        skipped = 0
        for row in rows:
            if row.seq <= head_seq:
                if known.get(row.seq) != row.hash:
                    raise _fork(name, row.seq)
                skipped += 1
                continue
            values, key = _checked(row, ledger_id, name, head_seq, head_hash, till_keys)
            inserts.append(values)
            if key is not None:
                new_keys.append(key)
            head_seq, head_hash = row.seq, row.hash
        if not inserts:
            return _Stored(0, skipped, head_seq, head_hash)
        conn = session.connection()
        conn.execute(insert(TillRecord.__table__), inserts)
        if new_keys:
            conn.execute(insert(TillKey.__table__), new_keys)
        event = log_event(
            session,
            EventCode.UPLOAD,
            operator=operator,
            till=name,
            ledger=ledger_id,
            from_seq=inserts[0]["seq"],
            to_seq=head_seq,
            records=len(inserts),
            last_hash=head_hash,
        )
        conn.execute(
            insert(TillUpload.__table__),
            [
                {
                    "ledger_id": ledger_id,
                    "from_seq": inserts[0]["seq"],
                    "to_seq": head_seq,
                    "records": len(inserts),
                    "last_hash": head_hash,
                    "uploaded_at": event.ts,
                    "event_seq": event.seq,
                }
            ],
        )
        conn.execute(
            update(TillChain.__table__)
            .where(TillChain.ledger_id == ledger_id)
            .values(head_seq=head_seq, head_hash=head_hash)
        )
        return _Stored(len(inserts), skipped, head_seq, head_hash)


def _known_hashes(
    session: Session, ledger_id: str, rows: Sequence[_Local], head_seq: int
) -> dict[int, str]:
    """Hashes the central already holds for the records of ``rows`` it has received."""
    if not rows or rows[0].seq > head_seq:
        return {}
    return dict(
        session.execute(
            select(TillRecord.seq, TillRecord.hash).where(
                TillRecord.ledger_id == ledger_id,
                TillRecord.seq.between(rows[0].seq, min(rows[-1].seq, head_seq)),
            )
        ).all()
    )


def _checked(
    row: _Local, ledger_id: str, name: str, head_seq: int, head_hash: str, till_keys: _Keys
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The row to insert for one record, once it is shown to extend the chain received."""

    def refuse(what: str) -> UploadRefused:
        return UploadRefused(
            f"Envoi refusé : l'enregistrement n°{row.seq} de la caisse {name} {what} "
            "Rien n'a été enregistré de ce lot ; vérifiez le journal de la caisse "
            "(comptoir verify).",
            detail=f"till {ledger_id} seq {row.seq}",
        )

    if row.seq != head_seq + 1:
        raise refuse(f"ne suit pas le n°{head_seq} : il manque des enregistrements.")
    if row.prev_hash != head_hash:
        raise _fork(name, row.seq)
    if chain.link_hash(row.prev_hash, row.canonical) != row.hash:
        raise refuse("a été modifié : son empreinte ne correspond plus à son contenu.")
    try:
        envelope = canonical.decode(row.canonical)
        body = envelope["body"]
        rtype = RecordType(envelope["type"])
        vat, payments, total = derived_rows(rtype, body)
        del vat, payments
    except (ValueError, KeyError, TypeError):
        raise refuse("est illisible (contenu canonique corrompu).") from None
    if envelope.get("ledger") != ledger_id or envelope.get("seq") != row.seq:
        raise refuse("appartient à un autre journal ou a été déplacé.")
    key = _check_signature(row, envelope, rtype, body, till_keys, refuse)
    values = {
        "ledger_id": ledger_id,
        "seq": row.seq,
        "record_type": rtype.value,
        "number": envelope["number"],
        "ts": envelope["ts"],
        "business_date": envelope["date"],
        "till": envelope["till"],
        "operator": envelope["operator"],
        "is_sale": rtype.value in _SALE_VALUES,
        "period": envelope.get("period"),
        "total_cents": total,
        "key_id": envelope["key"],
        "canonical_version": envelope["v"],
        "canonical": row.canonical,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
        "signature": row.signature,
    }
    return values, key


def _check_signature(
    row: _Local,
    envelope: dict[str, Any],
    rtype: RecordType,
    body: dict[str, Any],
    till_keys: _Keys,
    refuse: Any,
) -> dict[str, Any] | None:
    """Check the signature by the key in force (as ``verify_ledger`` does); a KEY record
    brings its key into ``till_keys`` and is returned as a ``till_key`` row."""
    new_key = None
    allowed = till_keys.active
    if rtype is RecordType.KEY:
        try:
            der = base64.b64decode(body["public_key"], validate=True)
            public = chain.load_public_der(der)
        except (ValueError, KeyError, TypeError):
            raise refuse("introduit une clé de signature illisible.") from None
        if chain.key_id_of(public) != body.get("key_id"):
            raise refuse("introduit une clé dont l'identifiant ne correspond pas.")
        if row.seq == 1 or not body.get("endorsed"):
            allowed = body["key_id"]
        till_keys.public[body["key_id"]] = public
        new_key = {
            "ledger_id": envelope["ledger"],
            "key_id": body["key_id"],
            "public_key": der,
            "registered_seq": row.seq,
        }
    signer = envelope.get("key")
    key = till_keys.public.get(signer)
    if signer != allowed or key is None:
        raise refuse(f"est signé par une clé ({signer}) qui n'était pas la clé en vigueur.")
    if not chain.signature_ok(key, row.hash, row.signature):
        raise refuse("porte une signature invalide.")
    if rtype is RecordType.KEY:
        till_keys.active = body["key_id"]
    return new_key
