"""The outbox: issued invoices waiting to be deposited on the platform.

An invoice is queued in the transaction that issues it, so an issued invoice is never
forgotten; ``delivery.drain_once`` sends what is due. Each item keeps the ``trackingId``
it was queued with, so that it can be searched for before it is sent again.

Invoices to public-sector buyers go to Chorus Pro instead (the item's ``channel``).
Chorus Pro has no tracking id, so its items carry a file name of their own.

The same queue carries the 212 "Encaissée" status of invoices whose VAT falls due on
payment (``kind`` ``cashed``, see ``queue_cashed``): queued with the user's action, sent
with the same retries and the same search before any resend, and only after the invoice
itself has reached its platform.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.customers.models import Customer
from app.einvoice.issuing import get_document, status_of
from app.einvoice.pdp.cdar import STATUS_LABELS, build_cdar
from app.einvoice.pdp.flows import sha256_of
from app.einvoice.pdp.models import (
    CASHED_ITEM,
    CHANNELS,
    CHORUS,
    DEPOSITED,
    FAILED,
    INVOICE_ITEM,
    PDP,
    QUEUED,
    InvoiceLifecycle,
    OutboxItem,
)
from app.errors import InvalidInput
from app.ledger.store import ledger_of


class _Issued(Protocol):
    @property
    def seq(self) -> int: ...

    @property
    def body(self) -> dict[str, Any]: ...


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
    existing = item_of(session, seq, INVOICE_ITEM)
    if existing is not None:
        return existing
    tracking_id = str(uuid.uuid4())
    return add_item(
        session,
        seq=seq,
        doc_number=doc_number,
        tracking_id=tracking_id,
        filename=_filename(doc_number, tracking_id, channel),
        payload=file_bytes,
        channel=channel,
        kind=INVOICE_ITEM,
        moment=_now(now),
    )


def add_item(
    session: Session,
    *,
    seq: int,
    doc_number: str,
    tracking_id: str,
    filename: str,
    payload: bytes,
    channel: str,
    kind: str,
    moment: datetime,
) -> OutboxItem:
    """A new item of the queue, due at once, in the caller's transaction: an invoice, or
    a status about one (its CDAR built once, so every attempt sends the same bytes)."""
    stamp = utc_stamp(moment)
    item = OutboxItem(
        invoice_seq=seq,
        doc_number=doc_number,
        tracking_id=tracking_id,
        filename=filename,
        sha256=sha256_of(payload),
        payload=payload,
        state=QUEUED,
        attempts=0,
        next_attempt_at=stamp,
        created_at=stamp,
        updated_at=stamp,
        channel=channel,
        kind=kind,
    )
    session.add(item)
    session.flush()
    return item


def item_of(session: Session, seq: int, kind: str) -> OutboxItem | None:
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
    existing = item_of(session, document.seq, CASHED_ITEM)
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
    return add_item(
        session,
        seq=document.seq,
        doc_number=body["number"],
        tracking_id=str(uuid.uuid4()),
        filename=f"CDAR_{body['number']}_212.xml",
        payload=cdar,
        channel=PDP,
        kind=CASHED_ITEM,
        moment=moment,
    )


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


def retry_failed(session: Session, item_id: int, *, now: datetime | None = None) -> None:
    """Put a refused item back in the queue (after the platform or the account was fixed)."""
    item = session.get(OutboxItem, item_id)
    if item is None or item.state != FAILED or item.payload is None:
        raise InvalidInput("Cette facture n'est pas en échec d'envoi.")
    item.state, item.last_error = QUEUED, None
    item.next_attempt_at = item.updated_at = utc_stamp(_now(now))
    session.flush()


__all__ = [
    "add_item",
    "channel_for",
    "enqueue",
    "queue_cashed",
    "received_per_rate",
    "record_cashed_delivery",
    "retry_failed",
    "status_code_of",
    "transmits",
    "utc_stamp",
]
