"""Sending the outbox: each item that is due deposited exactly once.

``drain_once`` sends what is due, each item in its own short transaction, and never
holds the database while waiting for the network. The Flow API has no idempotency key:
an item whose last attempt has an unknown outcome (timeout, lost answer, crash while
sending) is searched for by its ``trackingId`` before it is sent again, so it is
deposited exactly once. Failures are retried with a growing, jittered delay.

Both platform clients satisfy ``Depositor``: deposit a file, find an earlier deposit of
it. Chorus Pro has no tracking id, so its items are looked for by their file name.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.einvoice.pdp.directory import (
    Directory,
    buyer_ids,
    directory_of,
    remember,
    unlisted_message,
)
from app.einvoice.pdp.flows import FlowRef
from app.einvoice.pdp.models import (
    ACK_OK,
    ACK_PENDING,
    DEPOSITED,
    FAILED,
    INVOICE_ITEM,
    PDP,
    QUEUED,
    SENDING,
    UNLISTED,
    OutboxItem,
)
from app.einvoice.pdp.outbox import _now, item_of, record_cashed_delivery, utc_stamp
from app.einvoice.pdp.platform_http import (
    AlreadyExistingFlow,
    AuthenticationFailed,
    PermanentRejection,
    PlatformError,
    TransientFailure,
)
from app.einvoice.pdp.training import refuse_unless_sandbox
from app.ledger.store import Ledger

log = logging.getLogger(__name__)

BACKOFF_BASE = 2.0  # seconds before the first retry
BACKOFF_CAP = 600.0
# An attempt in progress keeps its item for this long; after it, the attempt is taken
# as lost (the process died) and the item is searched for, then sent again.
LEASE = timedelta(minutes=2)
MAX_UNFOUND = 5  # attempts before "already received but not found" is shown to the shop
_jitter = random.Random()


class Depositor(Protocol):
    """What the outbox needs of a platform; ``HttpFlowClient`` (Flow API) and
    ``ChorusProClient`` both are one."""

    def submit(
        self, file: bytes, *, filename: str, tracking_id: str, sha256: str | None = None
    ) -> FlowRef: ...

    def find_deposit(
        self,
        *,
        tracking_id: str,
        filename: str,
        since: date | None = None,
        unsure_for: timedelta | None = None,
    ) -> str | None:
        """The platform's id of an earlier deposit of this item, or None. ``unsure_for``:
        how long ago the attempt of unknown outcome was (None: unknown)."""
        ...


Depositors = Depositor | Mapping[str, Depositor]  # one client (the PA), or one per channel


@dataclass(frozen=True)
class DrainStats:
    sent: int = 0
    deposited_after_search: int = 0
    retried: int = 0
    failed: int = 0
    unlisted: int = 0  # waiting for the directory to know their buyer


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
    queued_on: date  # an earlier deposit cannot be older than the day before it was queued
    kind: str = INVOICE_ITEM
    unsure_for: timedelta | None = None  # since the attempt whose outcome is unknown
    channel: str = PDP
    doc_number: str = ""


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """Exponential, with jitter so that tills do not retry in step; at most ~10 minutes."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    delay = ceiling * _jitter.uniform(0.5, 1.0)
    return timedelta(seconds=max(delay, min(retry_after or 0.0, BACKOFF_CAP)))


# -- draining ----------------------------------------------------------------------------
def drain_once(
    ledger: Ledger, clients: Depositors, *, now: datetime | None = None, max_items: int = 50
) -> DrainStats:
    """Send the items that are due, each through its channel's client (``clients``: the
    PA's client alone, or a client per channel; items of a channel without one wait).

    A channel that is unreachable or asks to wait is left for the next drain; the others
    go on. When a platform refuses our credentials its items are left as they were, the
    other channels are drained, and then that ``AuthenticationFailed`` is raised."""
    by_channel = dict(clients) if isinstance(clients, Mapping) else {PDP: clients}
    for client in by_channel.values():
        refuse_unless_sandbox(ledger, client)  # training invoices: a sandbox or nothing
    with ledger.reader() as session:
        due = list(
            session.execute(
                select(OutboxItem.id, OutboxItem.channel)
                .where(
                    OutboxItem.state.in_((QUEUED, SENDING)),
                    OutboxItem.next_attempt_at <= utc_stamp(_now(now)),
                    OutboxItem.channel.in_(list(by_channel)),
                )
                # Invoices first: a status waits for its invoice to be deposited.
                .order_by(
                    OutboxItem.kind != INVOICE_ITEM, OutboxItem.next_attempt_at, OutboxItem.id
                )
                .limit(max_items)
            )
        )
    counts = {"sent": 0, "deposited_after_search": 0, "retried": 0, "failed": 0, "unlisted": 0}
    directories = {channel: directory_of(client) for channel, client in by_channel.items()}
    resting: set[str] = set()  # channels left for the next drain
    refused: AuthenticationFailed | None = None
    for item_id, channel in due:
        if channel in resting:
            continue
        claim = _claim(ledger, item_id, now)
        if claim is None:
            continue  # taken meanwhile by another drain (the CLI, another window)
        try:
            outcome, stop = _deliver(
                ledger, by_channel[channel], claim, now, directories.get(channel)
            )
        except AuthenticationFailed as exc:
            _release(ledger, claim, exc.message, now)
            resting.add(channel)
            refused = refused or exc
            continue
        counts[outcome] += 1
        if stop:
            resting.add(channel)  # unreachable, or asking us to wait
    if refused is not None:
        raise refused
    return DrainStats(**counts)


def _claim(ledger: Ledger, item_id: int, now: datetime | None) -> _Claim | None:
    with ledger.transaction() as session:
        item = session.get(OutboxItem, item_id, populate_existing=True)
        moment = _now(now)
        if item is None or item.state not in (QUEUED, SENDING) or item.payload is None:
            return None
        if item.next_attempt_at > utc_stamp(moment):
            return None
        if item.kind != INVOICE_ITEM and _invoice_not_there_yet(session, item.invoice_seq):
            return None  # a status about an invoice the platform does not have yet
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
            _day_before(item.created_at),
            item.kind,
            _since(item.updated_at, moment) if item.state == SENDING else None,
            item.channel,
            item.doc_number,
        )
        item.state, item.attempts = SENDING, item.attempts + 1
        item.next_attempt_at = utc_stamp(moment + LEASE)
        item.updated_at = utc_stamp(moment)
        return claim


def _invoice_not_there_yet(session: Session, seq: int) -> bool:
    invoice = item_of(session, seq, INVOICE_ITEM)
    return invoice is not None and invoice.state != DEPOSITED


def _since(stamp: str, moment: datetime) -> timedelta:
    return moment - datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _day_before(stamp: str) -> date:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).date() - timedelta(days=1)


Outcome = tuple[str, bool]  # (the DrainStats counter to increase, stop draining)


def _deliver(
    ledger: Ledger,
    client: Depositor,
    claim: _Claim,
    now: datetime | None,
    directory: Directory | None = None,
) -> Outcome:
    if claim.outcome_unknown:
        found = _look_for_earlier_attempt(ledger, client, claim, now)
        if found is not None:
            return found
    elif claim.kind == INVOICE_ITEM and directory is not None:
        waiting = _check_buyer(ledger, directory, claim, now)
        if waiting is not None:
            return waiting
    # A status message is a CDAR flow (always to the PA, whose client takes these
    # options); an invoice goes with the client's defaults.
    options: dict[str, Any] = (
        {"flow_syntax": "CDAR", "flow_profile": None} if claim.kind != INVOICE_ITEM else {}
    )
    try:
        ref = client.submit(
            claim.payload, filename=claim.filename, tracking_id=claim.tracking_id,
            sha256=claim.sha256, **options,
        )  # fmt: skip
    except AlreadyExistingFlow as exc:
        found = _look_for_earlier_attempt(ledger, client, claim, now)
        return found or _already_there(ledger, claim, exc, now)
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
    ledger: Ledger, client: Depositor, claim: _Claim, now: datetime | None
) -> Outcome | None:
    """Search the platform for this item (its trackingId, or its file name on Chorus Pro).
    None: not there, send it."""
    try:
        flow_id = client.find_deposit(
            tracking_id=claim.tracking_id, filename=claim.filename, since=claim.queued_on,
            unsure_for=claim.unsure_for,
        )  # fmt: skip
    except (TransientFailure, PermanentRejection) as exc:
        _retry(ledger, claim, exc, now, unknown=True)
        return "retried", _stops(exc)
    if flow_id is None:
        return None
    log.info("outbox item %s found on the platform: not sent again", claim.id)
    _record(ledger, claim, state=DEPOSITED, flow_id=flow_id, now=now)
    return "deposited_after_search", False


def _already_there(
    ledger: Ledger, claim: _Claim, exc: AlreadyExistingFlow, now: datetime | None
) -> Outcome:
    """The platform has these very bytes, not under our trackingId (another till, or a
    lost answer whose search lags behind): the invoice is deposited, never sent twice.
    The flow is the one the platform named, when it did; before that, look again."""
    if exc.flow_id:
        _record(ledger, claim, state=DEPOSITED, flow_id=exc.flow_id, now=now, ack=ACK_OK)
        return "deposited_after_search", False
    if claim.attempts < MAX_UNFOUND:
        _retry(ledger, claim, exc, now, unknown=True)
        return "retried", False
    log.info("outbox item %s: already on the platform, its flow not named", claim.id)
    _record(ledger, claim, state=DEPOSITED, now=now, ack=ACK_OK)
    return "deposited_after_search", False


def _check_buyer(
    ledger: Ledger, directory: Directory, claim: _Claim, now: datetime | None
) -> Outcome | None:
    """Ask the directory about the invoice's buyer first; None: listed, send it. A buyer
    it does not know leaves the invoice ``unlisted``, asked about again at each sync."""
    with ledger.reader() as session:
        siren, siret = buyer_ids(session, claim.doc_number)
    if not siren:
        return None
    try:
        found = directory.lookup(siren, siret)
    except (TransientFailure, PermanentRejection) as exc:
        _retry(ledger, claim, exc, now, unknown=False)
        return "retried", _stops(exc)
    except PlatformError as exc:  # a directory refusing the search must not block sending
        log.warning("directory lookup of %s failed: %s", siren, exc.detail)
        return None
    with ledger.transaction() as session:
        remember(session, found, now=now)
        if found.listed:
            return None
        item = session.get(OutboxItem, claim.id, populate_existing=True)
        if item is None or not _still_ours(item, claim):
            return "retried", False
        item.state, item.attempts = UNLISTED, claim.attempts - 1
        item.last_error = unlisted_message(siren)
        item.updated_at = utc_stamp(_now(now))
    return "unlisted", False


def _stops(exc: Exception) -> bool:
    return isinstance(exc, TransientFailure) and exc.status in (None, 429, 503)


def _record(
    ledger: Ledger,
    claim: _Claim,
    *,
    state: str,
    now: datetime | None,
    flow_id: str | None = None,
    error: str | None = None,
    ack: str = ACK_PENDING,
) -> None:
    with ledger.transaction() as session:
        item = session.get(OutboxItem, claim.id, populate_existing=True)
        if item is None or item.state == DEPOSITED:
            return
        if state == DEPOSITED and item.channel == PDP:
            item.ack_status = ack  # the Flow API acknowledges later: read at each sync
        if state == DEPOSITED and flow_id is not None and item.kind != INVOICE_ITEM:
            record_cashed_delivery(session, item, flow_id, now=now)
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


__all__ = [
    "Depositor",
    "DrainStats",
    "backoff",
    "drain_once",
]
