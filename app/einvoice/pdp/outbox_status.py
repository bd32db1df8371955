"""Where the sending of the shop's invoices stands, in the shop's words: the status of
an invoice in the list, and the banner's sentences about what cannot leave."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.einvoice.pdp.config import chorus_configured
from app.einvoice.pdp.models import (
    ACK_ERROR,
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
from app.einvoice.pdp.outbox import _now, item_of, status_code_of, utc_stamp

LATE_AFTER = timedelta(minutes=30)

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
    cashed = item_of(session, invoice_seq, CASHED_ITEM)
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
    item = item_of(session, invoice_seq, INVOICE_ITEM)
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
    "current_status",
    "outbox_problems",
    "pending_count",
    "unlisted_notice",
]
