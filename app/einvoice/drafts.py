"""Invoice drafts: what the editor held when it was closed without issuing, kept to be
resumed. A draft is plain editor state (texts as typed, lines as edited), not an invoice:
it is checked only when it is issued, and deleted in the issuing transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.einvoice.models import InvoiceDraftRow as Row
from app.errors import InvalidInput
from app.ledger import canonical
from app.ledger.store import ledger_of
from app.values.text import check_xml_text

MAX_DRAFTS = 200  # a shop with more unfinished invoices has forgotten them
_MAX_PAYLOAD = 1_000_000


@dataclass(frozen=True)
class DraftSummary:
    id: int
    updated_at: str
    operator: str
    customer_id: int | None
    label: str


def save_draft(
    session: Session,
    state: dict[str, Any],
    *,
    operator: str,
    label: str,
    draft_id: int | None = None,
) -> int:
    """Keep the editor's ``state`` (JSON-able) under ``label``; replaces draft ``draft_id``
    when given. Returns the draft's id."""
    payload = json.dumps(state, ensure_ascii=False, sort_keys=True)
    if len(payload) > _MAX_PAYLOAD:
        raise InvalidInput("Ce brouillon est trop long pour être enregistré.")
    check_xml_text(payload, "Le brouillon")
    now = canonical.format_ts(ledger_of(session).clock())
    customer = state.get("customer_id")
    customer_id = customer if isinstance(customer, int) else None
    row = session.get(Row, draft_id) if draft_id is not None else None
    if row is None:
        count = len(session.scalars(select(Row.id)).all())
        if count >= MAX_DRAFTS:
            raise InvalidInput(
                f"{MAX_DRAFTS} brouillons de factures attendent déjà : émettez ou supprimez "
                "les anciens (Factures › Brouillons…)."
            )
        row = Row(created_at=now, operator=operator[:64])
        session.add(row)
    row.updated_at, row.customer_id, row.label, row.payload = (
        now, customer_id, label[:200], payload
    )  # fmt: skip
    session.flush()
    return row.id


def list_drafts(session: Session) -> list[DraftSummary]:
    """Drafts, the most recently touched first."""
    rows = session.scalars(select(Row).order_by(Row.updated_at.desc(), Row.id.desc()))
    return [DraftSummary(r.id, r.updated_at, r.operator, r.customer_id, r.label) for r in rows]


def load_draft(session: Session, draft_id: int) -> dict[str, Any]:
    row = session.get(Row, draft_id)
    if row is None:
        raise InvalidInput("Ce brouillon n'existe plus.")
    try:
        state = json.loads(row.payload)
    except ValueError:
        raise InvalidInput("Ce brouillon est illisible : supprimez-le.") from None
    if not isinstance(state, dict):
        raise InvalidInput("Ce brouillon est illisible : supprimez-le.")
    return state


def delete_draft(session: Session, draft_id: int) -> None:
    row = session.get(Row, draft_id)
    if row is not None:
        session.delete(row)
