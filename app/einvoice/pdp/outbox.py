"""The outbox: issued invoices waiting to be deposited on the platform.

An invoice is queued in the transaction that issues it, so an issued invoice is never
forgotten. ``drain_once`` sends what is due, each item in its own short transaction, and
never holds the database while waiting for the network. The Flow API has no idempotency
key: each item keeps the ``trackingId`` it was queued with, and an item whose last
attempt has an unknown outcome (timeout, lost answer, crash while sending) is searched
for by that ``trackingId`` before it is sent again, so it is deposited exactly once.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.einvoice.pdp.client import (
    AlreadyExistingFlow,
    AuthenticationFailed,
    FlowPlatform,
    PermanentRejection,
    TransientFailure,
    sha256_of,
)
from app.einvoice.pdp.models import (
    DEPOSITED,
    FAILED,
    QUEUED,
    SENDING,
    InvoiceLifecycle,
    OutboxItem,
)
from app.errors import InvalidInput
from app.ledger.journal import ledger_of
from app.ledger.store import Ledger

log = logging.getLogger(__name__)

BACKOFF_BASE = 2.0  # seconds before the first retry
BACKOFF_CAP = 600.0
# An attempt in progress keeps its item for this long; after it, the attempt is taken
# as lost (the process died) and the item is searched for, then sent again.
LEASE = timedelta(minutes=2)
LATE_AFTER = timedelta(minutes=30)
MAX_UNFOUND = 5  # attempts before "already received but not found" is shown to the shop
_jitter = random.Random()


class _Issued(Protocol):
    @property
    def seq(self) -> int: ...

    @property
    def body(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class DrainStats:
    sent: int = 0
    deposited_after_search: int = 0
    retried: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Claim:
    id: int
    tracking_id: str
    filename: str
    sha256: str
    payload: bytes
    attempts: int
    outcome_unknown: bool
    previous_state: str
    previous_next: str


def utc_stamp(moment: datetime) -> str:
    """Fixed-width UTC timestamps, so that they compare as strings."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def transmits(session: Session, body: dict[str, Any]) -> bool:
    """Whether an issued invoice goes to the platform: French B2B (``BAR`` note), and never
    from a training or demo ledger. International B2B and B2C are e-reported instead."""
    return ledger_of(session).kind == "real" and body.get("notes", {}).get("BAR") == "B2B"


def enqueue(
    session: Session,
    document: _Issued | tuple[int, str],
    file_bytes: bytes,
    *,
    now: datetime | None = None,
) -> OutboxItem:
    """Queue an issued invoice (an ``IssuedDocument``, a ``Recorded`` or ``(seq, number)``)
    with the exact bytes of its Factur-X PDF. Queuing the same invoice twice is harmless."""
    if isinstance(document, tuple):
        seq, doc_number = document
    else:
        seq, doc_number = document.seq, document.body["number"]
    if not file_bytes:
        raise InvalidInput(f"Le fichier de la facture {doc_number} est vide.")
    existing = session.scalar(select(OutboxItem).where(OutboxItem.invoice_seq == seq))
    if existing is not None:
        return existing
    stamp = utc_stamp(_now(now))
    item = OutboxItem(
        invoice_seq=seq,
        doc_number=doc_number,
        tracking_id=str(uuid.uuid4()),
        filename=f"{doc_number}.pdf",
        sha256=sha256_of(file_bytes),
        payload=file_bytes,
        state=QUEUED,
        attempts=0,
        next_attempt_at=stamp,
        created_at=stamp,
        updated_at=stamp,
    )
    session.add(item)
    session.flush()
    return item


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """Exponential, with jitter so that tills do not retry in step; at most ~10 minutes."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    delay = ceiling * _jitter.uniform(0.5, 1.0)
    return timedelta(seconds=max(delay, min(retry_after or 0.0, BACKOFF_CAP)))


# -- draining ----------------------------------------------------------------------------
def drain_once(
    ledger: Ledger, client: FlowPlatform, *, now: datetime | None = None, max_items: int = 50
) -> DrainStats:
    """Send the items that are due. Raises ``AuthenticationFailed`` (items left as they
    were) when the platform refuses our credentials."""
    with ledger.reader() as session:
        due = list(
            session.scalars(
                select(OutboxItem.id)
                .where(
                    OutboxItem.state.in_((QUEUED, SENDING)),
                    OutboxItem.next_attempt_at <= utc_stamp(_now(now)),
                )
                .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
                .limit(max_items)
            )
        )
    counts = {"sent": 0, "deposited_after_search": 0, "retried": 0, "failed": 0}
    for item_id in due:
        claim = _claim(ledger, item_id, now)
        if claim is None:
            continue  # taken meanwhile by another drain (the CLI, another window)
        try:
            outcome, stop = _deliver(ledger, client, claim, now)
        except AuthenticationFailed as exc:
            _release(ledger, claim, exc.message, now)
            raise
        counts[outcome] += 1
        if stop:
            break  # unreachable, or asking us to wait: the rest waits for the next drain
    return DrainStats(**counts)


def _claim(ledger: Ledger, item_id: int, now: datetime | None) -> _Claim | None:
    with ledger.transaction() as session:
        item = session.get(OutboxItem, item_id, populate_existing=True)
        moment = _now(now)
        if item is None or item.state not in (QUEUED, SENDING) or item.payload is None:
            return None
        if item.next_attempt_at > utc_stamp(moment):
            return None
        claim = _Claim(
            item.id,
            item.tracking_id,
            item.filename,
            item.sha256,
            item.payload,
            item.attempts + 1,
            item.state == SENDING,
            item.state,
            item.next_attempt_at,
        )
        item.state, item.attempts = SENDING, item.attempts + 1
        item.next_attempt_at = utc_stamp(moment + LEASE)
        item.updated_at = utc_stamp(moment)
        return claim


Outcome = tuple[str, bool]  # (the DrainStats counter to increase, stop draining)


def _deliver(ledger: Ledger, client: FlowPlatform, claim: _Claim, now: datetime | None) -> Outcome:
    if claim.outcome_unknown:
        found = _look_for_earlier_attempt(ledger, client, claim, now)
        if found is not None:
            return found
    try:
        ref = client.submit(
            claim.payload, filename=claim.filename, tracking_id=claim.tracking_id,
            sha256=claim.sha256,
        )  # fmt: skip
    except AlreadyExistingFlow as exc:
        found = _look_for_earlier_attempt(ledger, client, claim, now)
        return found or _already_there_but_not_found(ledger, claim, exc, now)
    except PermanentRejection as exc:
        _record(ledger, claim, state=FAILED, error=exc.message, now=now)
        log.warning("outbox item %s refused: %s", claim.id, exc.detail)
        return "failed", False
    except TransientFailure as exc:
        _retry(ledger, claim, exc, now, unknown=exc.maybe_delivered)
        return "retried", _stops(exc)
    _record(ledger, claim, state=DEPOSITED, flow_id=ref.flow_id, now=now)
    return "sent", False


def _look_for_earlier_attempt(
    ledger: Ledger, client: FlowPlatform, claim: _Claim, now: datetime | None
) -> Outcome | None:
    """Search the platform for this item's trackingId. None: not there, send it."""
    try:
        flow_id = _find(client, claim.tracking_id)
    except (TransientFailure, PermanentRejection) as exc:
        _retry(ledger, claim, exc, now, unknown=True)
        return "retried", _stops(exc)
    if flow_id is None:
        return None
    log.info("outbox item %s found on the platform: not sent again", claim.id)
    _record(ledger, claim, state=DEPOSITED, flow_id=flow_id, now=now)
    return "deposited_after_search", False


def _already_there_but_not_found(
    ledger: Ledger, claim: _Claim, exc: AlreadyExistingFlow, now: datetime | None
) -> Outcome:
    # The platform has these very bytes, not under our trackingId (or its search lags
    # behind): look again later, and after a few tries let the shop check.
    if claim.attempts < MAX_UNFOUND:
        _retry(ledger, claim, exc, now, unknown=True)
        return "retried", False
    error = (
        f"{exc.message} Elle ne la retrouve pourtant pas : vérifiez sur le portail de la "
        "plateforme, puis relancez l'envoi si besoin."
    )
    _record(ledger, claim, state=FAILED, error=error, now=now)
    return "failed", False


def _stops(exc: Exception) -> bool:
    return isinstance(exc, TransientFailure) and exc.status in (None, 429, 503)


def _find(client: FlowPlatform, tracking_id: str) -> str | None:
    for flow in client.search(tracking_id=tracking_id):
        if flow.tracking_id == tracking_id and flow.direction in (None, "Out"):
            return flow.flow_id
    return None


def _record(
    ledger: Ledger,
    claim: _Claim,
    *,
    state: str,
    now: datetime | None,
    flow_id: str | None = None,
    error: str | None = None,
) -> None:
    with ledger.transaction() as session:
        item = session.get(OutboxItem, claim.id, populate_existing=True)
        if item is None or item.state == DEPOSITED:
            return
        item.state, item.last_error = state, error
        item.updated_at = utc_stamp(_now(now))
        if flow_id is not None:
            item.flow_id = flow_id
        if state == DEPOSITED:
            item.payload = None  # the platform has it; the PDF is also kept beside the ledger


def _still_ours(item: OutboxItem | None, claim: _Claim) -> bool:
    """False when the lease ran out and another drain took the item meanwhile."""
    return item is not None and item.state == SENDING and item.attempts == claim.attempts


def _retry(
    ledger: Ledger, claim: _Claim, exc: Exception, now: datetime | None, *, unknown: bool
) -> None:
    retry_after = getattr(exc, "retry_after", None)
    message = getattr(exc, "message", str(exc))
    with ledger.transaction() as session:
        item = session.get(OutboxItem, claim.id, populate_existing=True)
        if item is None or not _still_ours(item, claim):
            return
        moment = _now(now)
        # Unknown stays "sending": the next attempt searches before sending again.
        item.state = SENDING if unknown else QUEUED
        item.last_error = f"{message} Nouvel essai automatique."
        item.next_attempt_at = utc_stamp(moment + backoff(claim.attempts, retry_after))
        item.updated_at = utc_stamp(moment)
    log.info("outbox item %s: attempt %s failed (%s)", claim.id, claim.attempts, message)


def _release(ledger: Ledger, claim: _Claim, message: str, now: datetime | None) -> None:
    """Give the item back untouched: the account, not the invoice, is at fault."""
    with ledger.transaction() as session:
        item = session.get(OutboxItem, claim.id, populate_existing=True)
        if item is None or not _still_ours(item, claim):
            return
        item.state, item.attempts = claim.previous_state, claim.attempts - 1
        item.next_attempt_at, item.last_error = claim.previous_next, message
        item.updated_at = utc_stamp(_now(now))


def retry_failed(session: Session, item_id: int, *, now: datetime | None = None) -> None:
    """Put a refused item back in the queue (after the platform or the account was fixed)."""
    item = session.get(OutboxItem, item_id)
    if item is None or item.state != FAILED or item.payload is None:
        raise InvalidInput("Cette facture n'est pas en échec d'envoi.")
    item.state, item.last_error = QUEUED, None
    item.next_attempt_at = item.updated_at = utc_stamp(_now(now))
    session.flush()


# -- what the GUI shows ------------------------------------------------------------------
OUTBOX_LABELS = {
    QUEUED: "En attente d'envoi",
    SENDING: "Envoi en cours",
    DEPOSITED: "Transmise à la plateforme",
    FAILED: "Rejetée par la plateforme",
}


def current_status(session: Session, invoice_seq: int) -> tuple[str, str] | None:
    """The latest status the platform gave the invoice, else where its sending stands;
    None when the invoice does not go through the platform."""
    status = session.execute(
        select(InvoiceLifecycle.label, InvoiceLifecycle.reason)
        .where(InvoiceLifecycle.invoice_seq == invoice_seq)
        .order_by(InvoiceLifecycle.issued_at.desc(), InvoiceLifecycle.id.desc())
        .limit(1)
    ).first()
    if status is not None:
        return status[0], status[1] or ""
    item = session.scalar(select(OutboxItem).where(OutboxItem.invoice_seq == invoice_seq))
    if item is None:
        return None
    reason = item.last_error or "" if item.state != DEPOSITED else ""
    return OUTBOX_LABELS[item.state], reason


def _plural(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n <= 1 else plural}"


def outbox_problems(
    session: Session, *, now: datetime | None = None, late_after: timedelta = LATE_AFTER
) -> list[str]:
    """French sentences for the banner: refused invoices, invoices that cannot leave."""
    problems = [
        f"Facture {doc} non transmise : {error}"
        for doc, error in session.execute(
            select(OutboxItem.doc_number, OutboxItem.last_error)
            .where(OutboxItem.state == FAILED)
            .order_by(OutboxItem.id)
        )
    ]
    pending = list(
        session.scalars(
            select(OutboxItem)
            .where(OutboxItem.state.in_((QUEUED, SENDING)))
            .order_by(OutboxItem.updated_at.desc())
        )
    )
    troubled = [item for item in pending if item.last_error]
    late = [i for i in pending if i.created_at < utc_stamp(_now(now) - late_after)]
    if troubled:  # the whole queue waits behind it: count every pending invoice
        what = _plural(len(pending), "facture en attente", "factures en attente")
        problems.append(f"{what} d'envoi à la plateforme : {troubled[0].last_error}")
    elif late:
        minutes = int(late_after.total_seconds() // 60)
        what = "1 facture attend son" if len(late) == 1 else f"{len(late)} factures attendent leur"
        problems.append(f"{what} envoi depuis plus de {minutes} minutes.")
    return problems


def pending_count(session: Session) -> int:
    return len(
        session.scalars(select(OutboxItem.id).where(OutboxItem.state.in_((QUEUED, SENDING)))).all()
    )


# What comes back lives in inbox.py; these names stay importable from here.
from app.einvoice.pdp.inbox import (  # noqa: E402
    SyncStats,
    answer_incoming,
    list_incoming,
    sync_once,
)

__all__ = [
    "DrainStats",
    "SyncStats",
    "answer_incoming",
    "current_status",
    "drain_once",
    "enqueue",
    "list_incoming",
    "outbox_problems",
    "pending_count",
    "retry_failed",
    "sync_once",
    "transmits",
]
