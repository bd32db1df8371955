"""The platform's acknowledgement of each flow the shop deposited (Flow API).

A deposit is answered ``Pending``; the platform then checks the file (antivirus,
integrity, technical rules, unicity) and its acknowledgement turns ``Ok`` or ``Error``
with details. Each sync reads the acknowledgement of the flows still pending, from the
state kept in the outbox (invoices, statuses) and in ``pdp_report_ack`` (e-reports):

- ``Ok``: the invoice stays deposited;
- ``Error``: the invoice is rejected (``failed``), the platform's details in French in
  its error, shown by the invoices screen and ``comptoir pdp``; an Error that only says
  ``AlreadyExistingFlow`` means the platform has the file: deposited, never sent again;
- an e-report's acknowledgement and the PPF's 300 Déposé / 301 Rejeté are kept for the
  e-reporting screen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.einvoice.pdp.flows import FlowInfo
from app.einvoice.pdp.models import (
    ACK_ERROR,
    ACK_OK,
    ACK_PENDING,
    DEPOSITED,
    FAILED,
    PDP,
    InvoiceLifecycle,
    OutboxItem,
    ReportAcknowledgement,
)
from app.einvoice.pdp.outbox import _now, utc_stamp
from app.einvoice.pdp.platform_http import PermanentRejection
from app.ledger.store import Ledger

log = logging.getLogger(__name__)


class Acknowledging(Protocol):
    def flow_info(self, flow_id: str) -> FlowInfo: ...


@dataclass(frozen=True)
class AckStats:
    ok: int = 0
    rejected: int = 0
    pending: int = 0


def rejection_message(info: FlowInfo) -> str:
    return f"accusé de réception en erreur — {info.rejection()}."


def read_acknowledgements(
    ledger: Ledger, client: Acknowledging, *, now: datetime | None = None
) -> AckStats:
    """Read the acknowledgement of every deposited flow still ``Pending``; the network
    is never used inside a transaction."""
    with ledger.reader() as session:
        items = list(
            session.execute(
                select(OutboxItem.id, OutboxItem.flow_id).where(
                    OutboxItem.state == DEPOSITED,
                    OutboxItem.channel == PDP,
                    OutboxItem.ack_status == ACK_PENDING,
                    OutboxItem.flow_id.is_not(None),
                )
            )
        )
        reports = list(
            session.scalars(
                select(ReportAcknowledgement.flow_id).where(
                    ReportAcknowledgement.ack_status == ACK_PENDING
                )
            )
        )
    counts = {"ok": 0, "rejected": 0, "pending": 0}
    for item_id, flow_id in items:
        info = _info(client, flow_id)
        outcome = _outcome(info)
        counts[outcome] += 1
        if info is not None and outcome != "pending":
            with ledger.transaction() as session:
                _acknowledge_item(session, item_id, info, now)
    for flow_id in reports:
        info = _info(client, flow_id)
        outcome = _outcome(info)
        counts[outcome] += 1
        if info is not None and outcome != "pending":
            with ledger.transaction() as session:
                _acknowledge_report(session, flow_id, info, now)
    return AckStats(**counts)


def _info(client: Acknowledging, flow_id: str) -> FlowInfo | None:
    try:
        return client.flow_info(flow_id)
    except PermanentRejection as exc:  # unknown to the platform (yet): asked again later
        log.warning("acknowledgement of flow %s unreadable: %s", flow_id, exc.detail)
        return None


def _outcome(info: FlowInfo | None) -> str:
    if info is None or info.ack_status not in (ACK_OK, ACK_ERROR):
        return "pending"
    return "ok" if info.ack_status == ACK_OK or info.already_existing else "rejected"


def _acknowledge_item(session: Session, item_id: int, info: FlowInfo, now: datetime | None) -> None:
    item = session.get(OutboxItem, item_id, populate_existing=True)
    if item is None or item.ack_status != ACK_PENDING:
        return
    item.updated_at = utc_stamp(_now(now))
    if _outcome(info) == "ok":
        item.ack_status = ACK_OK
        return
    item.ack_status, item.state = ACK_ERROR, FAILED
    item.last_error = rejection_message(info)
    # A status the platform refused was never given: it is no longer the invoice's latest.
    session.execute(delete(InvoiceLifecycle).where(InvoiceLifecycle.flow_id == info.flow_id))
    log.warning("flow %s rejected by the platform: %s", info.flow_id, info.rejection())


def _acknowledge_report(
    session: Session, flow_id: str, info: FlowInfo, now: datetime | None
) -> None:
    row = session.get(ReportAcknowledgement, flow_id, populate_existing=True)
    if row is None:
        return
    row.updated_at = utc_stamp(_now(now))
    if _outcome(info) == "ok":
        row.ack_status = ACK_OK
    else:
        row.ack_status, row.reason = ACK_ERROR, info.rejection()
