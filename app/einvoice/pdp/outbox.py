"""The outbox: issued invoices waiting to be deposited on the platform.

An invoice is queued in the transaction that issues it, so an issued invoice is never
forgotten. ``drain_once`` sends what is due, each item in its own short transaction, and
never holds the database while waiting for the network. The Flow API has no idempotency
key: each item keeps the ``trackingId`` it was queued with, and an item whose last
attempt has an unknown outcome (timeout, lost answer, crash while sending) is searched
for by that ``trackingId`` before it is sent again, so it is deposited exactly once.

Invoices to public-sector buyers go to Chorus Pro instead (the item's ``channel``). Both
clients satisfy ``Depositor``: deposit a file, find an earlier deposit of it. Chorus Pro
has no tracking id, so its items carry a file name of their own and are looked for by it.

The same queue carries the 212 "Encaissée" status of invoices whose VAT falls due on
payment (``kind`` ``cashed``, see ``queue_cashed``): queued with the user's action, sent
with the same retries and the same search before any resend, and only after the invoice
itself has reached its platform.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.customers.models import Customer
from app.einvoice.issuing import get_document, status_of
from app.einvoice.pdp.cdar import STATUS_LABELS, build_cdar
from app.einvoice.pdp.client import (
    AlreadyExistingFlow,
    AuthenticationFailed,
    FlowRef,
    PermanentRejection,
    PlatformError,
    TransientFailure,
    sha256_of,
)
from app.einvoice.pdp.config import chorus_configured
from app.einvoice.pdp.directory import (
    Directory,
    buyer_ids,
    directory_of,
    remember,
    unlisted_message,
)
from app.einvoice.pdp.models import (
    ACK_ERROR,
    ACK_OK,
    ACK_PENDING,
    CASHED_ITEM,
    CHANNELS,
    CHORUS,
    DEPOSITED,
    FAILED,
    INVOICE_ITEM,
    PDP,
    QUEUED,
    SENDING,
    UNLISTED,
    InvoiceLifecycle,
    OutboxItem,
)
from app.einvoice.pdp.training import refuse_unless_sandbox
from app.errors import InvalidInput
from app.ledger.store import Ledger, ledger_of

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


def utc_stamp(moment: datetime) -> str:
    """Fixed-width UTC timestamps, so that they compare as strings."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def transmits(session: Session, body: dict[str, Any]) -> bool:
    """Whether an issued invoice goes to the platform: French B2B (``BAR`` note); a training
    or demo ledger's only ever to a sandbox (``drain_once`` refuses any other platform).
    International B2B and B2C are e-reported instead."""
    kind = ledger_of(session).kind  # training and demo invoices are queued for a sandbox only
    return kind in ("real", "training", "demo") and body.get("notes", {}).get("BAR") == "B2B"


def channel_for(session: Session, body: dict[str, Any]) -> str:
    """Chorus Pro for a buyer the shop marked as public-sector (known by its SIRET), and
    for a credit note correcting an invoice that went there; else the PA. A training or
    demo ledger has no Chorus Pro: all its invoices wait for the PA channel's sandbox."""
    if ledger_of(session).kind in ("training", "demo"):
        return PDP
    preceding = body.get("preceding") or {}
    if preceding.get("number"):
        corrected = session.scalar(
            select(OutboxItem.channel).where(
                OutboxItem.doc_number == preceding["number"], OutboxItem.kind == INVOICE_ITEM
            )
        )
        if corrected is not None:
            return corrected
    siret = (body.get("buyer") or {}).get("siret")
    if siret:
        public = session.scalar(
            select(Customer.id)
            .where(Customer.siret == siret, Customer.public_sector.is_(True))
            .limit(1)
        )
        if public is not None:
            return CHORUS
    return PDP


def _filename(doc_number: str, tracking_id: str, channel: str) -> str:
    # Chorus Pro finds a lost deposit by file name only: the name must belong to this
    # item alone, not to a same-numbered invoice of another ledger of the shop.
    if channel == CHORUS:
        return f"{doc_number}_{tracking_id[:8]}.pdf"
    return f"{doc_number}.pdf"


def enqueue(
    session: Session,
    document: _Issued | tuple[int, str],
    file_bytes: bytes,
    *,
    now: datetime | None = None,
    channel: str | None = None,
) -> OutboxItem:
    """Queue an issued invoice (an ``IssuedDocument``, a ``Recorded`` or ``(seq, number)``)
    with the exact bytes of its Factur-X PDF, for ``channel`` (by default the one
    ``channel_for`` its body). Queuing the same invoice twice is harmless."""
    if isinstance(document, tuple):
        seq, doc_number = document
        channel = channel or PDP
    else:
        seq, doc_number = document.seq, document.body["number"]
        channel = channel or channel_for(session, document.body)
    if channel not in CHANNELS:
        raise InvalidInput(f"Canal d'envoi inconnu : « {channel} ».")
    if not file_bytes:
        raise InvalidInput(f"Le fichier de la facture {doc_number} est vide.")
    existing = _item_of(session, seq, INVOICE_ITEM)
    if existing is not None:
        return existing
    stamp = utc_stamp(_now(now))
    tracking_id = str(uuid.uuid4())
    item = OutboxItem(
        invoice_seq=seq,
        doc_number=doc_number,
        tracking_id=tracking_id,
        filename=_filename(doc_number, tracking_id, channel),
        sha256=sha256_of(file_bytes),
        payload=file_bytes,
        state=QUEUED,
        attempts=0,
        next_attempt_at=stamp,
        created_at=stamp,
        updated_at=stamp,
        channel=channel,
    )
    session.add(item)
    session.flush()
    return item


def _item_of(session: Session, seq: int, kind: str) -> OutboxItem | None:
    return session.scalar(
        select(OutboxItem).where(OutboxItem.invoice_seq == seq, OutboxItem.kind == kind)
    )


def queue_cashed(session: Session, doc_number: str, *, now: datetime | None = None) -> OutboxItem:
    """Queue the 212 "Encaissée" status of an invoice paid in full, in the caller's
    transaction, for the PA. The CDAR is built once, so that every attempt sends the same
    bytes under the same ``trackingId``; asking again returns the item already queued."""

    document = get_document(session, doc_number)
    if document.is_credit_note:
        raise InvalidInput("Un avoir n'est pas encaissé.")
    existing = _item_of(session, document.seq, CASHED_ITEM)
    if existing is not None:
        return existing
    if status_of(session, document).outstanding > 0:
        raise InvalidInput(f"La facture {doc_number} n'est pas entièrement réglée.")
    body = document.body
    moment = _now(now)
    received = status_of(session, document).paid
    cdar = build_cdar(
        body["number"],
        body["issue_date"],
        "212",
        sender_siren=body["seller"]["siren"],
        receiver_siren=body["buyer"]["siren"],
        issued_at=moment,
        amounts=received_per_rate(body["vat"], received),
    )
    stamp = utc_stamp(moment)
    item = OutboxItem(
        invoice_seq=document.seq,
        doc_number=body["number"],
        tracking_id=str(uuid.uuid4()),
        filename=f"CDAR_{body['number']}_212.xml",
        sha256=sha256_of(cdar),
        payload=cdar,
        state=QUEUED,
        attempts=0,
        next_attempt_at=stamp,
        created_at=stamp,
        updated_at=stamp,
        channel=PDP,
        kind=CASHED_ITEM,
    )
    session.add(item)
    session.flush()
    return item


def received_per_rate(vat: list[dict[str, int]], received: int) -> dict[int, int]:
    """What was received (cents, VAT included) split over the invoice's VAT rates in
    proportion to their totals; the cents lost to rounding go to the largest rates."""
    total = sum(row["total"] for row in vat)
    if total <= 0 or received <= 0:
        return {}
    shares = {row["rate"]: row["total"] * received // total for row in vat}
    for row in sorted(vat, key=lambda row: -row["total"])[: received - sum(shares.values())]:
        shares[row["rate"]] += 1
    return {rate: cents for rate, cents in shares.items() if cents > 0}


def status_code_of(kind: str) -> str:
    """The lifecycle code a status item carries: "cashed" is the 212 of a paid invoice,
    other status items are named "<code>-<n>" (``statuses.queue_status``)."""
    return "212" if kind == CASHED_ITEM else kind.split("-", 1)[0]


def record_cashed_delivery(
    session: Session, item: OutboxItem, flow_id: str, *, now: datetime | None = None
) -> None:
    """The platform has the status (212 or another the shop gave as seller): it becomes
    the invoice's latest status, as if reported."""
    code = status_code_of(item.kind)
    item.state, item.last_error, item.flow_id, item.payload = DEPOSITED, None, flow_id, None
    item.updated_at = utc_stamp(_now(now))
    known = session.scalar(select(InvoiceLifecycle.id).where(InvoiceLifecycle.flow_id == flow_id))
    if known is None:
        session.add(
            InvoiceLifecycle(
                invoice_seq=item.invoice_seq,
                doc_number=item.doc_number,
                code=code,
                label=STATUS_LABELS[code],
                issued_at=item.updated_at,
                reason="",
                flow_id=flow_id,
            )
        )
    session.flush()


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
    invoice = _item_of(session, seq, INVOICE_ITEM)
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
    UNLISTED: "En attente : destinataire non référencé",
}
# Where each channel sends, in the words of the banner ("d'envoi à …").
DESTINATIONS = {PDP: "la plateforme", CHORUS: "Chorus Pro"}
_CHORUS_LABELS = {DEPOSITED: "Transmise à Chorus Pro", FAILED: "Rejetée par Chorus Pro"}
# A 212 not yet with the platform comes before any status it gave: the shop must see
# that its declaration is still on its way (once sent, it is the latest status).
_CASHED_LABELS = {
    QUEUED: "212 Encaissée en attente d'envoi",
    SENDING: "212 Encaissée en attente d'envoi",
    FAILED: "212 Encaissée rejetée par la plateforme",
}


def current_status(session: Session, invoice_seq: int) -> tuple[str, str] | None:
    """The latest status the platform gave the invoice, else where its sending stands;
    None when the invoice does not go through the platform."""
    cashed = _item_of(session, invoice_seq, CASHED_ITEM)
    if cashed is not None and cashed.state in _CASHED_LABELS:
        return _CASHED_LABELS[cashed.state], cashed.last_error or ""
    status = session.execute(
        select(InvoiceLifecycle.label, InvoiceLifecycle.reason)
        .where(InvoiceLifecycle.invoice_seq == invoice_seq)
        .order_by(InvoiceLifecycle.issued_at.desc(), InvoiceLifecycle.id.desc())
        .limit(1)
    ).first()
    if status is not None:
        return status[0], status[1] or ""
    item = _item_of(session, invoice_seq, INVOICE_ITEM)
    if item is None:
        return None
    reason = item.last_error or "" if item.state != DEPOSITED else ""
    if item.channel == CHORUS and item.state in _CHORUS_LABELS:
        return _CHORUS_LABELS[item.state], reason
    return OUTBOX_LABELS[item.state], reason


def _plural(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n <= 1 else plural}"


def outbox_problems(
    session: Session, *, now: datetime | None = None, late_after: timedelta = LATE_AFTER
) -> list[str]:
    """French sentences for the banner: refused invoices, invoices that cannot leave."""
    problems = [
        f"Facture {doc} rejetée par la plateforme : {error}"
        if kind == INVOICE_ITEM and ack == ACK_ERROR
        else f"Facture {doc} non transmise : {error}"
        if kind == INVOICE_ITEM
        else f"Encaissement de la facture {doc} non transmis : {error}"
        if kind == CASHED_ITEM
        else f"Statut {status_code_of(kind)} de la facture {doc} non transmis : {error}"
        for doc, error, kind, ack in session.execute(
            select(
                OutboxItem.doc_number, OutboxItem.last_error, OutboxItem.kind,
                OutboxItem.ack_status,
            )
            .where(OutboxItem.state == FAILED)
            .order_by(OutboxItem.id)
        )
    ]  # fmt: skip
    notice = unlisted_notice(session)
    if notice:
        problems.append(notice)
    pending = list(
        session.scalars(
            select(OutboxItem)
            .where(OutboxItem.state.in_((QUEUED, SENDING)))
            .order_by(OutboxItem.updated_at.desc())
        )
    )
    for channel in CHANNELS:
        waiting = [item for item in pending if item.channel == channel]
        if waiting:
            problems.extend(_waiting_problems(session, channel, waiting, now, late_after))
    return problems


def unlisted_notice(session: Session) -> str | None:
    """The sentence of the banner about invoices waiting for the directory to know their
    buyer (« destinataire non référencé »), or None."""
    unlisted = list(
        session.scalars(
            select(OutboxItem.doc_number)
            .where(OutboxItem.state == UNLISTED)
            .order_by(OutboxItem.id)
        )
    )
    if not unlisted:
        return None
    what = (
        f"La facture {unlisted[0]} attend"
        if len(unlisted) == 1
        else f"{len(unlisted)} factures ({', '.join(unlisted[:3])}"
        f"{'…' if len(unlisted) > 3 else ''}) attendent"
    )
    return (
        f"{what} : destinataire non référencé dans l'annuaire. Envoi dès que "
        "l'annuaire le connaîtra (vérifié à chaque synchronisation)."
    )


def _waiting_problems(
    session: Session,
    channel: str,
    pending: list[OutboxItem],
    now: datetime | None,
    late_after: timedelta,
) -> list[str]:
    """What holds back the invoices of one channel, if anything."""
    if channel == CHORUS and not chorus_configured(session):
        what = (
            "1 facture d'un client public attend son"
            if len(pending) == 1
            else f"{len(pending)} factures de clients publics attendent leur"
        )
        return [
            f"{what} envoi : Chorus Pro n'est pas configuré "
            "(Réglages › Facturation électronique › Chorus Pro)."
        ]
    troubled = [item for item in pending if item.last_error]
    late = [i for i in pending if i.created_at < utc_stamp(_now(now) - late_after)]
    if troubled:  # the whole queue waits behind it: count every pending invoice
        what = _plural(len(pending), "facture en attente", "factures en attente")
        return [f"{what} d'envoi à {DESTINATIONS[channel]} : {troubled[0].last_error}"]
    if late:
        minutes = int(late_after.total_seconds() // 60)
        what = "1 facture attend son" if len(late) == 1 else f"{len(late)} factures attendent leur"
        where = " à Chorus Pro" if channel == CHORUS else ""
        return [f"{what} envoi{where} depuis plus de {minutes} minutes."]
    return []


def pending_count(session: Session) -> int:
    return len(
        session.scalars(select(OutboxItem.id).where(OutboxItem.state.in_((QUEUED, SENDING)))).all()
    )


__all__ = [
    "Depositor",
    "DrainStats",
    "channel_for",
    "current_status",
    "drain_once",
    "enqueue",
    "outbox_problems",
    "pending_count",
    "queue_cashed",
    "record_cashed_delivery",
    "retry_failed",
    "transmits",
    "unlisted_notice",
]
