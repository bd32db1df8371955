"""The one write path: append a fiscal record to the chain.

``append`` runs inside the caller's transaction (the session belongs to the caller). It
reads the chain head under the chain's write lock (``BEGIN IMMEDIATE`` on SQLite, an
advisory lock of the database on PostgreSQL: ``app.ledger.db.lock_chain``), enforces the
closure rules for records that carry turnover, numbers the record in its own gapless
series, serialises it canonically, hashes, signs and inserts it with its query copies.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Insert, bindparam, func, insert, select
from sqlalchemy.orm import Session

from app.errors import ClockError, ClockJump, InvalidInput
from app.ledger import anchor, canonical, chain
from app.ledger.db import lock_chain
from app.ledger.models import JournalPayment, JournalRecord, JournalVat, PurgedNumber, SigningKey
from app.ledger.periods import ensure_open_for_sale
from app.ledger.records import RecordType, derived_rows, document_number
from app.values.text import check_xml_text

MAX_ACTOR_CHARS = 64


@dataclass(frozen=True)
class Recorded:
    """What was appended, as a value the caller can keep after the session ends."""

    seq: int
    record_type: RecordType
    number: int
    ts: str
    business_date: date
    till: str
    operator: str
    hash: str
    signature: bytes
    body: dict[str, Any]

    @property
    def doc_number(self) -> str:
        return document_number(self.record_type, self.number)

    @property
    def signature_excerpt(self) -> str:
        return signature_excerpt(self.signature)


def signature_excerpt(signature: bytes) -> str:
    """A short, printable excerpt of a signature (receipts): 12 characters of base32 over
    its last 10 bytes."""
    return base64.b32encode(signature[-10:]).decode("ascii")[:12]


class Writer(Protocol):
    """What ``append`` needs from the ledger that opened the session
    (``app.ledger.store.Ledger``): who and what signs, the clock, where the shop is."""

    ledger_id: str
    kind: str
    timezone: str
    till_id: str
    supervisor: str | None
    signer_key_id: str | None

    @property
    def signer(self) -> Any: ...

    def clock(self) -> datetime: ...

    def note_clock_anomaly(self, observed: str, last: str) -> None: ...

    # The forward jump of the clock (``_check_clock_jump``).
    clock_jump_limit: timedelta
    clock_confirmed_by: str | None
    clock_checked: bool


def _writer(session: Session) -> Writer:
    try:
        return session.info["ledger"]
    except KeyError:
        raise RuntimeError("session was not opened by Ledger.session()") from None


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    ts: str
    key_id: str


# Statements of the hot path are built once: building them costs more than running them.
_HEAD = (
    select(JournalRecord.seq, JournalRecord.hash, JournalRecord.ts, JournalRecord.key_id)
    .order_by(JournalRecord.seq.desc())
    .limit(1)
)
# The last number of a type, and the last one a purge removed (numbering goes on after it).
_LAST_NUMBER = select(
    func.max(JournalRecord.number),
    select(PurgedNumber.last_number)
    .where(PurgedNumber.record_type == bindparam("record_type"))
    .scalar_subquery(),
).where(JournalRecord.record_type == bindparam("record_type"))
_INSERT_RECORD = insert(JournalRecord.__table__)
_INSERT_VAT = insert(JournalVat.__table__)
_INSERT_PAYMENT = insert(JournalPayment.__table__)
_INSERT_KEY = insert(SigningKey.__table__)


_DRIVER_SQL: dict[tuple[str, tuple[str, ...]], str] = {}


def _insert(conn: Connection, statement: Insert, rows: list[dict[str, Any]]) -> None:
    """Insert rows; on SQLite straight through the driver with a cached statement, since
    compiling the insert each time costs more than the insert itself."""
    if conn.dialect.name != "sqlite":
        conn.execute(statement, rows)
        return
    columns = tuple(rows[0])
    key = (statement.table.name, columns)
    sql = _DRIVER_SQL.get(key)
    if sql is None:
        sql = _DRIVER_SQL[key] = (
            f"INSERT INTO {statement.table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})"
        )
    conn.exec_driver_sql(sql, [tuple(row[c] for c in columns) for row in rows])


def head(session: Session) -> Head | None:
    # Core on the session's connection: the ORM layer adds nothing to these statements.
    row = session.connection().execute(_HEAD).first()
    return Head(*row) if row else None


def local_date(ts: datetime, timezone: str) -> date:
    return ts.astimezone(ZoneInfo(timezone)).date()


def _actor(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ACTOR_CHARS:
        raise InvalidInput(f"Identifiant {what} invalide : {value!r}.")
    return check_xml_text(value, f"L'identifiant {what}").strip()


def append(
    session: Session,
    record_type: RecordType,
    body: dict[str, Any],
    *,
    operator: str,
    ref_seq: int | None = None,
    period: str | None = None,
    key_override: Any = None,
    expect_number: int | None = None,
) -> Recorded:
    """Append one record; raises before writing anything if a rule forbids it."""
    ledger = _writer(session)
    record_type = RecordType(record_type)
    operator = _actor(operator, "d'opérateur")
    till = _actor(ledger.till_id, "de caisse")  # the ledger's own, never a caller's
    signer = key_override or ledger.signer
    if signer is None:
        raise RuntimeError("ledger opened read-only")

    lock_chain(session)  # before the head is read; SQLite holds it since BEGIN IMMEDIATE
    last = head(session)
    now = ledger.clock()
    ts = canonical.format_ts(now)
    if last is not None and ts < last.ts:
        ledger.note_clock_anomaly(observed=ts, last=last.ts)
        raise ClockError(
            "L'horloge de cet ordinateur indique une heure antérieure au dernier "
            "enregistrement du journal. Corrigez la date et l'heure avant de continuer.",
            detail=f"observed {ts}, last record {last.ts}",
        )
    if last is not None and not ledger.clock_checked:
        last = _check_clock_jump(session, ledger, last, now)
    business_date = local_date(now, ledger.timezone)
    if record_type.is_sale:
        ensure_open_for_sale(session, business_date)

    number = next_number(session, record_type)
    if expect_number is not None and expect_number != number:
        raise RuntimeError(f"numbering moved: expected {expect_number}, got {number}")
    seq = (last.seq if last else 0) + 1
    key_id = ledger.signer_key_id if key_override is None else chain.key_id_of(signer.public_key())
    envelope = {
        "v": canonical.CANONICAL_VERSION,
        "ledger": ledger.ledger_id,
        "seq": seq,
        "type": record_type.value,
        "number": number,
        "ts": ts,
        "date": business_date.isoformat(),
        "till": till,
        "operator": operator,
        "key": key_id,
        "ref": ref_seq,
        "period": period,
        "body": body,
    }
    if ledger.kind == "training":
        # Only training records carry it: the real ledger's envelope never changes.
        envelope["supervisor"] = _actor(ledger.supervisor or operator, "de responsable")
    data = canonical.encode(envelope)
    prev_hash = last.hash if last else chain.GENESIS_PREV_HASH
    link = chain.link_hash(prev_hash, data)
    signature = chain.sign_hash(signer, link)

    vat_rows, payment_rows, total = derived_rows(record_type, body)
    # Core inserts: the ORM's unit of work costs more than the rest of an append.
    conn = session.connection()
    _insert(
        conn,
        _INSERT_RECORD,
        [
            {
                "seq": seq,
                "record_type": record_type.value,
                "number": number,
                "ts": ts,
                "business_date": business_date.isoformat(),
                "till": till,
                "operator": operator,
                "is_sale": record_type.is_sale,
                "ref_seq": ref_seq,
                "period": period,
                "total_cents": total,
                "key_id": key_id,
                "canonical_version": canonical.CANONICAL_VERSION,
                "canonical": data,
                "prev_hash": prev_hash,
                "hash": link,
                "signature": signature,
            }
        ],
    )
    if vat_rows:
        _insert(
            conn,
            _INSERT_VAT,
            [
                {"seq": seq, "rate_bp": r, "base_cents": b, "vat_cents": v, "total_cents": t}
                for r, b, v, t in vat_rows
            ],
        )
    if payment_rows:
        _insert(
            conn,
            _INSERT_PAYMENT,
            [
                {"seq": seq, "idx": i, "method": m, "amount_cents": a}
                for i, (m, a) in enumerate(payment_rows)
            ],
        )
    session.info["anchor"] = anchor.Head(seq, link, ts, prev_hash)  # kept outside once committed
    if record_type is RecordType.KEY:
        conn.execute(
            _INSERT_KEY,
            [
                {
                    "key_id": body["key_id"],
                    "public_key": base64.b64decode(body["public_key"]),
                    "registered_seq": seq,
                }
            ],
        )
    return Recorded(
        seq=seq,
        record_type=record_type,
        number=number,
        ts=ts,
        business_date=business_date,
        till=till,
        operator=operator,
        hash=link,
        signature=signature,
        body=body,
    )


CLOCK_JUMP_EVENT = "CLOCK_JUMP"
SHUT_LIMIT = timedelta(days=31)
"""How long a shop shut properly (its day closed, or Comptoir stopped) may stay shut before
the next start asks a manager to confirm the date: a weekend or a holiday is no jump."""


def _check_clock_jump(session: Session, ledger: Writer, last: Head, now: datetime) -> Head:
    """The first write of a ledger handle far ahead of the last record needs a manager's
    confirmation, journaled first (both times) in the same transaction; without one,
    ``ClockJump`` is raised and nothing is written. A clock set in 2030 by mistake would
    otherwise date a record in 2030 and, the clock put right, every later record would be
    refused as going back in time."""
    last_time = canonical.parse_ts(last.ts)
    gap = now - last_time
    if gap <= ledger.clock_jump_limit or (
        gap <= max(ledger.clock_jump_limit, SHUT_LIMIT) and _shut_properly(session, last)
    ):
        ledger.clock_checked = True
        return last
    observed = canonical.format_ts(now)
    if ledger.clock_confirmed_by is None:
        zone = ZoneInfo(ledger.timezone)
        days = (now - last_time).days
        raise ClockJump(
            f"L'horloge de cet ordinateur indique le {_local(now, zone)}, soit "
            f"{_days(days)} après le dernier enregistrement du journal "
            f"({_local(last_time, zone)}). Si l'horloge est fausse, corrigez la date et "
            "l'heure de l'ordinateur. Si elle est juste, un gérant doit confirmer la date "
            "avant tout enregistrement : au démarrage de Comptoir, ou en ligne de commande "
            "avec « comptoir clock confirm --manager NOM ».",
            observed=observed,
            last=last.ts,
        )
    ledger.clock_checked = True
    append(
        session,
        RecordType.EVENT,
        {
            "code": CLOCK_JUMP_EVENT,
            "detail": {
                "observed": observed,
                "last_record": last.ts,
                "last_seq": last.seq,
                "limit_hours": int(ledger.clock_jump_limit.total_seconds() // 3600),
                "confirmed_by": ledger.clock_confirmed_by,
            },
        },
        operator=ledger.clock_confirmed_by,
    )
    return head(session) or last


def _shut_properly(session: Session, last: Head) -> bool:
    """Whether the shop was no longer in use after its last record: Comptoir was stopped,
    or the day of that record is closed (a Z, perhaps followed by its printing)."""
    record_type, business_date, data = session.execute(
        select(
            JournalRecord.record_type, JournalRecord.business_date, JournalRecord.canonical
        ).where(JournalRecord.seq == last.seq)
    ).one()
    if record_type == RecordType.EVENT and canonical.decode(data)["body"].get("code") == "STOP":
        return True
    closed = session.scalar(
        select(JournalRecord.seq).where(
            JournalRecord.record_type == RecordType.DAY_CLOSURE,
            JournalRecord.period == business_date,
        )
    )
    return closed is not None


def confirm_clock_jump(session: Session) -> bool:
    """Journal the confirmation of a clock far ahead of the last record (the ledger opened
    with ``clock_confirmed_by``) without any other record; False when there is no jump."""
    ledger = _writer(session)
    if ledger.clock_confirmed_by is None:
        raise RuntimeError("no manager named to confirm the clock")
    lock_chain(session)
    last = head(session)
    if last is None or ledger.clock_checked:
        return False
    after = _check_clock_jump(session, ledger, last, ledger.clock())
    return after.seq != last.seq


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d/%m/%Y à %H:%M")


def _days(days: int) -> str:
    return "plus d'un jour" if days < 2 else f"{days} jours"


def next_number(session: Session, record_type: RecordType) -> int:
    """The number the next record of this type will get (read under the write lock); never
    one a purge removed."""
    last, purged = (
        session.connection()
        .execute(_LAST_NUMBER, {"record_type": RecordType(record_type).value})
        .one()
    )
    return max(last or 0, purged or 0) + 1
