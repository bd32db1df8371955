"""Statuses of the invoices deposited on Chorus Pro, asked for one by one.

A plateforme agréée sends lifecycle messages (CDAR) that ``inbox.sync_once`` fetches;
Chorus Pro sends nothing, so each deposit still able to change is asked where it stands.
What it answers goes into the same lifecycle store (``InvoiceLifecycle``), so that the
invoice list shows a Chorus Pro status like any other. A final status (paid, rejected)
is not asked for again, and the background worker asks about each deposit at most every
``POLL_EVERY``: public buyers move in days, and PISTE counts the calls.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, or_, select

from app.einvoice.pdp.chorus_statuses import STATUSES, ChorusStatus
from app.einvoice.pdp.flows import FlowRef
from app.einvoice.pdp.models import CHORUS, DEPOSITED, InvoiceLifecycle, OutboxItem
from app.einvoice.pdp.outbox import _now, utc_stamp
from app.ledger.store import Ledger

log = logging.getLogger(__name__)

FINAL = tuple(code for code, known in STATUSES.items() if known.final)
KEY_PREFIX = "chorus:"  # InvoiceLifecycle.flow_id of a polled status: chorus:<item>:<n>
_LABEL_SIZE = 60
POLL_EVERY = timedelta(minutes=10)


class StatusSource(Protocol):
    def status(self, flow_ref: FlowRef | str) -> ChorusStatus: ...


def poll_chorus(
    ledger: Ledger,
    client: StatusSource,
    *,
    now: datetime | None = None,
    every: timedelta = POLL_EVERY,
    limit: int = 200,
) -> int:
    """Ask Chorus Pro about each deposit whose status may still change and that was not
    asked about for ``every`` (``timedelta(0)``: all of them, as ``comptoir pdp sync``
    does), longest unasked first; store each new status and return how many were stored.
    The network is never used inside a transaction; an unreachable Chorus Pro raises
    ``TransientFailure`` once what was already read is stored."""
    asked_before = utc_stamp(_now(now) - every)
    with ledger.reader() as session:
        todo = list(
            session.execute(
                select(OutboxItem.id, OutboxItem.flow_id)
                .where(
                    OutboxItem.channel == CHORUS,
                    OutboxItem.state == DEPOSITED,
                    OutboxItem.flow_id.is_not(None),
                    OutboxItem.updated_at <= asked_before,
                    or_(
                        OutboxItem.platform_status.is_(None),
                        OutboxItem.platform_status.not_in(FINAL),
                    ),
                )
                .order_by(OutboxItem.updated_at, OutboxItem.id)
                .limit(limit)
            )
        )
    stored = 0
    for item_id, flow_id in todo:
        status = client.status(flow_id)
        stored += _store(ledger, item_id, status, now)
    return stored


def _store(ledger: Ledger, item_id: int, status: ChorusStatus, now: datetime | None) -> int:
    """Record ``status`` for the item: 1 if the shop has something new to see, else 0."""
    moment = utc_stamp(_now(now))
    with ledger.transaction() as session:
        item = session.get(OutboxItem, item_id, populate_existing=True)
        if item is None:
            return 0
        item.updated_at = moment  # when it was last asked about
        if item.platform_status == status.code:
            return 0
        item.platform_status = status.code
        label = status.label[:_LABEL_SIZE]
        shown = session.execute(
            select(InvoiceLifecycle.label, InvoiceLifecycle.reason)
            .where(InvoiceLifecycle.invoice_seq == item.invoice_seq)
            .order_by(InvoiceLifecycle.issued_at.desc(), InvoiceLifecycle.id.desc())
            .limit(1)
        ).first()
        if shown is not None and tuple(shown) == (label, status.reason):
            return 0  # a new code with the same words (IN_INTEGRE, then DEPOSEE)
        prefix = f"{KEY_PREFIX}{item.id}:"
        earlier = session.scalar(
            select(func.count(InvoiceLifecycle.id)).where(
                InvoiceLifecycle.flow_id.startswith(prefix, autoescape=True)
            )
        )
        session.add(
            InvoiceLifecycle(
                invoice_seq=item.invoice_seq,
                doc_number=item.doc_number,
                code=status.lifecycle_code or "",
                label=label,
                issued_at=moment,
                reason=status.reason,
                flow_id=f"{prefix}{(earlier or 0) + 1}",
            )
        )
    log.info("chorus: invoice item %s now %s", item_id, status.code)
    return 1
