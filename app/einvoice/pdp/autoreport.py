"""The e-reporting periods a closure completes, sent right after it.

``send_due_after_closure`` is a closure follower (``app.ledger.closing``): the command
line and the GUI hand it to ``close_and_follow_up`` / ``follow_up_closure``. Without a
platform configured, or on a training ledger, it does nothing: the e-reporting screen
still lists the due periods. A demo ledger's go to its plateforme de démonstration.
"""

from __future__ import annotations

import logging

from app.einvoice.pdp.ereporting.report import send_due
from app.einvoice.pdp.ereporting.sent import due_periods
from app.einvoice.pdp.worker import configured_client
from app.ledger.records import RecordType
from app.ledger.store import Ledger

log = logging.getLogger(__name__)


def send_due_after_closure(
    ledger: Ledger, kind: RecordType, period: str, operator: str
) -> str | None:
    """After a day (or month) closure, send the periods now complete and not yet sent;
    a line for the shop saying what left, or None. Failures are raised (``ComptoirError``):
    the closure stands and the caller shows them as a warning."""
    if ledger.kind not in ("real", "demo") or kind not in (
        RecordType.DAY_CLOSURE,
        RecordType.MONTH_CLOSURE,
    ):
        return None
    with ledger.reader() as session:
        due = due_periods(session)
    if not due:
        return None
    client = configured_client(ledger)
    if client is None:
        return None
    try:
        sent = send_due(ledger, client, operator=operator, periods=due)
    finally:
        client.close()
    if not sent:
        return None
    labels = ", ".join(report.period.label() for report, _ in sent)
    return f"E-reporting transmis après la clôture : {labels}."
