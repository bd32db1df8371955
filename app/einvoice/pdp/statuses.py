"""Lifecycle statuses the shop gives, in both directions.

As the seller of its own invoices (209 Complétée after a 208 Suspendue, 212 Encaissée,
full or partial, 220 Annulée), a status is queued in the durable outbox like the invoice
itself (item kind ``<code>-<n>``), built once and checked with BR-FR-CDV V1.4.0.03, and
sent by the worker after the invoice. As the buyer of a supplier invoice (204 to 211),
the answer goes to the platform at once (``inbox.answer_incoming``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.einvoice.issuing import get_document, status_of
from app.einvoice.pdp.cdar import (
    BUYER_STATUSES,
    SELLER_STATUSES,
    STATUS_LABELS,
    build_cdar,
    check_reason,
)
from app.einvoice.pdp.models import (
    PDP,
    IncomingInvoice,
    InvoiceLifecycle,
    OutboxItem,
)
from app.einvoice.pdp.outbox import _now, add_item, received_per_rate
from app.errors import InvalidInput
from app.values.money import format_cents


def queue_status(
    session: Session,
    doc_number: str,
    code: str,
    *,
    amount_cents: int | None = None,
    reason_code: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> OutboxItem:
    """Queue a seller's status about one of the shop's invoices, in the caller's
    transaction; ``amount_cents`` is what a 212 says was received (all that was paid by
    default)."""
    if code not in SELLER_STATUSES:
        allowed = ", ".join(SELLER_STATUSES)
        raise InvalidInput(f"Comme vendeur, la boutique donne les statuts {allowed}.")
    document = get_document(session, doc_number)
    if document.is_self_billed:
        raise InvalidInput(
            f"L'autofacture {doc_number} a été établie par la boutique comme acheteuse : les "
            "statuts de vendeur (encaissée, complétée, annulée) reviennent au fournisseur."
        )
    if document.is_credit_note:
        raise InvalidInput("Un statut de cycle de vie porte sur une facture, pas sur un avoir.")
    check_reason(code, reason_code)
    body, state = document.body, status_of(session, document)
    received = None
    if code == "212":
        received = state.paid if amount_cents is None else amount_cents
        if received <= 0:
            raise InvalidInput(f"Aucun règlement n'est enregistré pour la facture {doc_number}.")
        if received > body["total"]:
            total = format_cents(body["total"])
            raise InvalidInput(f"Le montant encaissé dépasse le total de la facture ({total}).")
    elif amount_cents is not None:
        raise InvalidInput("Seul le statut 212 « Encaissée » porte un montant.")
    if code == "209" and "208" not in _received_codes(session, document.seq):
        raise InvalidInput(f"La facture {doc_number} n'est pas suspendue (208) : rien à compléter.")
    if code == "220" and state.credited < body["total"]:
        raise InvalidInput(
            f"La facture {doc_number} n'est pas entièrement annulée par un avoir : émettez "
            "l'avoir avant le statut « Annulée »."
        )
    sequence = 1 + session.scalar(
        select(func.count())
        .select_from(OutboxItem)
        .where(OutboxItem.invoice_seq == document.seq, OutboxItem.kind.like(f"{code}-%"))
    )
    moment = _now(now)
    cdar = build_cdar(
        body["number"],
        body["issue_date"],
        code,
        reason_code=reason_code,
        reason=reason or None,
        sender_siren=body["seller"]["siren"],
        receiver_siren=body["buyer"]["siren"],
        issued_at=moment,
        invoice_type=body.get("type_code") or "380",
        amounts=received_per_rate(body["vat"], received) if received else None,
        sequence=sequence,
    )
    return add_item(
        session,
        seq=document.seq,
        doc_number=body["number"],
        tracking_id=str(uuid.uuid4()),
        filename=f"CDAR_{body['number']}_{code}_{sequence}.xml",
        payload=cdar,
        channel=PDP,
        kind=f"{code}-{sequence}",
        moment=moment,
    )


def _received_codes(session: Session, invoice_seq: int) -> set[str]:
    return set(
        session.scalars(
            select(InvoiceLifecycle.code).where(InvoiceLifecycle.invoice_seq == invoice_seq)
        )
    )


def incoming_by_number(session: Session, number: str) -> IncomingInvoice:
    """The supplier invoice with this number (the latest received, if several)."""
    found = session.scalar(
        select(IncomingInvoice)
        .where(IncomingInvoice.number == number)
        .order_by(IncomingInvoice.id.desc())
        .limit(1)
    )
    if found is None:
        raise InvalidInput(f"Aucune facture fournisseur n° {number} n'a été reçue.")
    return found


def describe(code: str) -> str:
    """« 212 Encaissée », and who gives it."""
    side = "vendeur" if code in SELLER_STATUSES else "acheteur" if code in BUYER_STATUSES else ""
    return f"{code} {STATUS_LABELS.get(code, '')}" + (f" (statut {side})" if side else "")
