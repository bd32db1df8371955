"""Uploading a till's records to the central ledger (see ``app.ledger.central.service``).

``upload`` copies the records the central lacks, in sequence order, in batches. Each batch
is one transaction of the central that locks the till's ``till_chain`` row (``SELECT ...
FOR UPDATE``: two uploads of one till never interleave), checks every record — the link
to the head already received, the hash of the canonical bytes, the signature by the
till's key in force, the envelope naming this till's ledger and position — and inserts
it exactly as the till signed it. A record the central already holds with the same hash
is skipped; a different one at the same place is a fork, and the batch is refused whole.

Everything an upload writes is the till's word, signed by the till's own key: its
records, and one ``till_upload`` row per batch that inserts something, signed by the
till's key in force at the batch's last record over ``UploadTrace.statement``. Nothing
is appended to the central's own chain, so the central's signing key is never needed to
upload (``open_central(..., for_upload=True)`` opens the central without it). A till's
first upload registers it: its ``till_chain`` row is made in the transaction that
inserts its first records, which start with the KEY record of its first key.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.errors import LedgerError
from app.ledger import canonical, chain, keys
from app.ledger.central.models import TillChain, TillKey, TillRecord, TillUpload
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType, derived_rows
from app.ledger.store import Ledger

_SALE_VALUES = frozenset(t.value for t in RecordType if t.is_sale)
UPLOAD_STATEMENT_VERSION = 1


class UploadRefused(LedgerError):
    """The till's records do not continue what the central holds (fork, tampering)."""


class TillKeyMissing(UploadRefused):
    """The till's signing key is not on this computer: it cannot sign its uploads."""


# -- the signed trace of a batch ------------------------------------------------------
@dataclass(frozen=True)
class UploadTrace:
    """What a ``till_upload`` row says, and the bytes the till signs for it.

    The statement is canonical JSON (``app.ledger.canonical``) with a ``type`` of its own,
    so that it can never be taken for a record of a chain; the till signs the SHA-256 of
    it with ``chain.sign_hash``, as it signs a record's link hash."""

    ledger_id: str
    from_seq: int
    to_seq: int
    records: int
    last_hash: str
    uploaded_at: str
    key_id: str

    @classmethod
    def of(cls, row: TillUpload) -> UploadTrace:
        return cls(
            row.ledger_id,
            row.from_seq,
            row.to_seq,
            row.records,
            row.last_hash,
            row.uploaded_at,
            row.key_id,
        )

    def statement(self) -> bytes:
        return canonical.encode(
            {
                "v": UPLOAD_STATEMENT_VERSION,
                "type": "UPLOAD",
                "ledger": self.ledger_id,
                "from_seq": self.from_seq,
                "to_seq": self.to_seq,
                "records": self.records,
                "last_hash": self.last_hash,
                "uploaded_at": self.uploaded_at,
                "key": self.key_id,
            }
        )

    def digest(self) -> str:
        return hashlib.sha256(self.statement()).hexdigest()

    def signed_by(self, public_key: ec.EllipticCurvePublicKey, signature: bytes) -> bool:
        return chain.signature_ok(public_key, self.digest(), signature)


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


def till_info(central: Ledger, ledger_id: str) -> TillInfo | None:
    """The till as the central knows it, or None before its first upload."""
    with central.reader() as session:
        row = session.get(TillChain, ledger_id)
        return None if row is None else _info(row)


def registered_tills(session: Session) -> list[TillInfo]:
    return [_info(row) for row in session.scalars(select(TillChain).order_by(TillChain.till_id))]


@dataclass(frozen=True)
class _Till:
    """The till being uploaded: its ledger, its name on the central, its time zone."""

    ledger_id: str
    name: str
    timezone: str


def _locked_chain(session: Session, central: Ledger, till: _Till) -> TillChain:
    """The till's ``till_chain`` row, locked; made on its first upload.

    A shop closure waits for every registered till, so a till is registered by its first
    upload, in the same transaction as its first records. Two ledgers may not share a
    till name: the closures and the verification name tills, and must name them
    unambiguously."""
    row = session.execute(
        select(TillChain).where(TillChain.ledger_id == till.ledger_id).with_for_update()
    ).scalar_one_or_none()
    if row is not None:
        return row
    other = session.scalar(select(TillChain).where(TillChain.till_id == till.name))
    if other is not None:
        raise UploadRefused(
            f"Une autre caisse est déjà inscrite au serveur central sous le nom "
            f"« {till.name} » (journal {other.ledger_id}). Donnez à cette caisse un "
            "identifiant qui lui soit propre (Réglages), puis recommencez."
        )
    row = TillChain(
        ledger_id=till.ledger_id,
        till_id=till.name,
        timezone=till.timezone or central.timezone,
        head_seq=0,
        head_hash=chain.GENESIS_PREV_HASH,
        registered_at=canonical.format_ts(central.clock()),
    )
    session.add(row)
    session.flush()
    return row


# -- upload ---------------------------------------------------------------------------
@dataclass(frozen=True)
class UploadResult:
    """What one upload did; ``last_seq``/``last_hash`` are the central's head for the till."""

    till_id: str
    ledger_id: str
    records: int  # inserted
    batches: int  # batches that inserted something (each traced by a signed till_upload)
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


def _local_batch(local: Ledger, after: int, until: int) -> list[_Local]:
    """The till's records ``after`` < seq <= ``until``, in order."""
    with local.reader() as session:
        rows = session.execute(
            select(*_LOCAL_COLUMNS)
            .where(JournalRecord.seq > after, JournalRecord.seq <= until)
            .order_by(JournalRecord.seq)
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


@dataclass(frozen=True)
class _LocalState:
    """The till's ledger when the upload starts: its head, and its key in force."""

    head: int
    key_id: str | None
    key_seq: int  # the KEY record that introduced it


def _local_state(local: Ledger) -> _LocalState:
    with local.reader() as session:  # one snapshot: the key in force at that head
        head = session.scalar(select(JournalRecord.seq).order_by(JournalRecord.seq.desc()).limit(1))
        key = session.execute(
            select(JournalRecord.seq, JournalRecord.canonical)
            .where(JournalRecord.record_type == RecordType.KEY)
            .order_by(JournalRecord.seq.desc())
            .limit(1)
        ).first()
    if key is None:
        return _LocalState(head or 0, None, 0)
    return _LocalState(head or 0, canonical.decode(key[1])["body"]["key_id"], key[0])


@dataclass(frozen=True)
class _Signer:
    private_key: ec.EllipticCurvePrivateKey
    key_id: str


def _till_signer(local: Ledger, state: _LocalState, name: str) -> _Signer:
    """The till's private key in force: the open ledger's signer, or the key stored on
    this computer (a ledger opened read-only, as ``comptoir central upload`` does)."""
    key = local.signer
    if key is None or chain.key_id_of(key.public_key()) != state.key_id:
        stored = keys.load_key(local.ledger_id)
        key = stored.private_key if stored is not None else None
    if key is None or state.key_id is None or chain.key_id_of(key.public_key()) != state.key_id:
        raise TillKeyMissing(
            f"Envoi impossible : la clé de signature de la caisse {name} n'est pas sur cet "
            "ordinateur, et chaque envoi au serveur central est signé par la caisse "
            "elle-même. Lancez l'envoi depuis le poste de cette caisse.",
            detail=f"till {local.ledger_id}: key {state.key_id} not stored here",
        )
    return _Signer(key, state.key_id)


def upload(
    local: Ledger,
    central: Ledger,
    *,
    batch: int = 500,
    till_id: str | None = None,
) -> UploadResult:
    """Send the till's records the central lacks; see the module docstring.

    The till's ledger is only read (never locked for writing): sales go on meanwhile, and
    what they record goes with the next upload. The central may be opened without its
    key. Raises UploadRefused (fork, tampering: nothing of the refused batch is kept) and
    TillKeyMissing (the till's key is not on this computer)."""
    if local.kind != "real":
        raise UploadRefused(
            "Seul le journal réel d'une caisse est envoyé au serveur central "
            f"(ce journal est {'de formation' if local.kind == 'training' else local.kind})."
        )
    if batch < 1:
        raise ValueError("batch must be positive")
    state = _local_state(local)
    info = till_info(central, local.ledger_id)
    name = info.till_id if info is not None else (till_id or local.till_id)
    _check_continues(local, info, name, state.head)
    till = _Till(local.ledger_id, name, local.timezone)
    head = (info.head_seq, info.head_hash) if info else (0, chain.GENESIS_PREV_HASH)
    cursor, records, batches, skipped = head[0], 0, 0, 0
    signer = _till_signer(local, state, name) if cursor < state.head else None
    while signer is not None and cursor < state.head:
        # A batch reaches at least the KEY record of the key that signs it, so that the
        # central holds that key when the batch's trace is recorded. Usually it already
        # does; after a change of key while offline, the first batch is that much longer.
        until = min(state.head, cursor + max(batch, state.key_seq - cursor))
        rows = _local_batch(local, cursor, until)
        if not rows:
            break
        stored = _store_batch(central, till, rows, signer)
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
        local_last_seq=state.head,
    )


def _check_continues(local: Ledger, info: TillInfo | None, name: str, local_last: int) -> None:
    """The till's ledger must hold, at the central's head, the very record received."""
    if info is None or info.head_seq == 0:
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


def _store_batch(central: Ledger, till: _Till, rows: Sequence[_Local], signer: _Signer) -> _Stored:
    """One transaction of the central: check and insert ``rows``, trace the batch."""
    ledger_id, name = till.ledger_id, till.name
    with central.transaction() as session:
        chain_row = _locked_chain(session, central, till)
        head_seq, head_hash = chain_row.head_seq, chain_row.head_hash
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
        trace = UploadTrace(
            ledger_id,
            inserts[0]["seq"],
            head_seq,
            len(inserts),
            head_hash,
            canonical.format_ts(central.clock()),
            signer.key_id,
        )
        signature = _signed(trace, signer, till_keys, name)
        conn = session.connection()
        conn.execute(insert(TillRecord.__table__), inserts)
        if new_keys:
            conn.execute(insert(TillKey.__table__), new_keys)
        conn.execute(
            insert(TillUpload.__table__),
            [
                {
                    "ledger_id": ledger_id,
                    "from_seq": trace.from_seq,
                    "to_seq": trace.to_seq,
                    "records": trace.records,
                    "last_hash": trace.last_hash,
                    "uploaded_at": trace.uploaded_at,
                    "key_id": trace.key_id,
                    "signature": signature,
                }
            ],
        )
        conn.execute(
            update(TillChain.__table__)
            .where(TillChain.ledger_id == ledger_id)
            .values(head_seq=head_seq, head_hash=head_hash)
        )
        return _Stored(len(inserts), skipped, head_seq, head_hash)


def _signed(trace: UploadTrace, signer: _Signer, till_keys: _Keys, name: str) -> bytes:
    """The till's signature of the batch's trace, by its key in force at the batch's last
    record, checked against the public key its chain published (as verification will)."""
    public = till_keys.public.get(signer.key_id)
    signature = chain.sign_hash(signer.private_key, trace.digest())
    if (
        till_keys.active != signer.key_id
        or public is None
        or not trace.signed_by(public, signature)
    ):
        raise UploadRefused(
            f"Envoi refusé : la clé de signature de la caisse {name} présente sur ce poste "
            f"n'est pas celle que son journal met en vigueur au n°{trace.to_seq} ; rien n'a "
            "été envoyé. Recommencez l'envoi (la caisse a peut-être changé de clé entre-temps).",
            detail=f"till {trace.ledger_id}: key {signer.key_id}, in force {till_keys.active}",
        )
    return signature


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
