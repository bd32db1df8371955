"""What comes back from the platform: lifecycle statuses of our invoices and supplier
invoices, fetched since a stored cursor, stored once each, and the shop's answers."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import facturx
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.einvoice.pdp.cdar import (
    REASONS_FOR,
    STATUS_LABELS,
    build_cdar,
    parse_cdar,
    reason_label,
)
from app.einvoice.pdp.flows import FlowInfo, FlowPlatform, FlowRef
from app.einvoice.pdp.models import (
    APPROVED,
    DEPOSITED,
    DISPUTED,
    INVOICE_ITEM,
    PART_APPROVED,
    PAYMENT_SENT,
    QUEUED,
    RECEIVED,
    REFUSED,
    SUSPENDED,
    TAKEN,
    IncomingInvoice,
    InvoiceLifecycle,
    OutboxItem,
    SyncCursor,
)
from app.einvoice.pdp.outbox import _now, queue_cashed, record_cashed_delivery, utc_stamp
from app.einvoice.pdp.platform_http import PermanentRejection, TransientFailure
from app.einvoice.pdp.training import refuse_unless_sandbox
from app.einvoice.validate import (
    ValidatorUnavailable,
    has_doctype,
    safe_parser,
    validate_invoice,
)
from app.errors import InvalidInput
from app.ledger.settings import fiscal_settings
from app.ledger.store import Ledger, ledger_of
from app.values.text import check_xml_text

log = logging.getLogger(__name__)

# -- statuses and supplier invoices coming back ------------------------------------------
LIFECYCLE_CURSOR = "lifecycle"
INCOMING_CURSOR = "incoming"
# Searches start a little before the cursor: a flow stamped just before the previous
# search was answered is not skipped. Flows already stored are not fetched again.
CURSOR_OVERLAP = timedelta(minutes=1)
# The statuses a buyer gives a supplier invoice, and the state each leaves it in.
ANSWERS = {
    "204": TAKEN, "205": APPROVED, "206": PART_APPROVED, "207": DISPUTED,
    "208": SUSPENDED, "210": REFUSED, "211": PAYMENT_SENT,
}  # fmt: skip


@dataclass(frozen=True)
class SyncStats:
    statuses: int = 0
    incoming: int = 0


def sync_once(ledger: Ledger, client: FlowPlatform) -> SyncStats:
    """Fetch the statuses of our invoices and the supplier invoices received since the
    last sync. The network is never used inside a transaction."""
    refuse_unless_sandbox(ledger, client)  # a training ledger fetches from a sandbox only
    return SyncStats(_sync_lifecycle(ledger, client), _sync_incoming(ledger, client))


def _since(session: Session, name: str) -> str | None:
    cursor = session.get(SyncCursor, name)
    if cursor is None:
        return None
    moment = datetime.fromisoformat(cursor.value.replace("Z", "+00:00"))
    return utc_stamp(moment - CURSOR_OVERLAP)


def _advance(session: Session, name: str, flows: list[FlowInfo]) -> None:
    stamps = [f.updated_at for f in flows if f.updated_at]
    if not stamps:
        return
    newest = max(stamps, key=lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")))
    cursor = session.get(SyncCursor, name)
    if cursor is None:
        session.add(SyncCursor(name=name, value=newest))
    elif cursor.value < newest:
        cursor.value = newest


def _known(
    session: Session, model: type[InvoiceLifecycle | IncomingInvoice], flows: list[FlowInfo]
) -> set[str]:
    ids = [f.flow_id for f in flows]
    found = session.scalars(select(model.flow_id).where(model.flow_id.in_(ids))) if ids else ()
    return set(found)


Reader = Callable[[Session, FlowInfo, bytes], "InvoiceLifecycle | IncomingInvoice | None"]


def _pull(
    ledger: Ledger,
    client: FlowPlatform,
    cursor: str,
    flow_type: str,
    model: type[InvoiceLifecycle | IncomingInvoice],
    read: Reader,
) -> int:
    with ledger.reader() as session:
        since = _since(session, cursor)
    flows = client.search(updated_after=since, flow_types=[flow_type], direction="In")
    rows: list[InvoiceLifecycle | IncomingInvoice] = []
    complete = True
    with ledger.reader() as session:
        known = _known(session, model, flows)
        for flow in flows:
            if flow.flow_id in known:
                continue
            try:
                content = client.fetch(flow.flow_id)
            except TransientFailure:
                complete = False  # the cursor stays: what is left is fetched next time
                break
            except PermanentRejection as exc:
                log.warning("flow %s cannot be downloaded, skipped: %s", flow.flow_id, exc.detail)
                continue
            row = read(session, flow, content)
            if row is not None:
                rows.append(row)
    with ledger.transaction() as session:
        stored = 0
        for row in rows:
            if not session.scalar(select(model.id).where(model.flow_id == row.flow_id)):
                session.add(row)
                stored += 1
        if complete:
            _advance(session, cursor, flows)
    return stored


def _lifecycle_row(session: Session, flow: FlowInfo, content: bytes) -> InvoiceLifecycle | None:
    try:
        status = parse_cdar(content)
    except InvalidInput as exc:
        log.warning("lifecycle flow %s unreadable, skipped: %s", flow.flow_id, exc.detail)
        return None
    seq = session.scalar(
        select(OutboxItem.invoice_seq).where(
            OutboxItem.doc_number == status.invoice_number, OutboxItem.kind == INVOICE_ITEM
        )
    )
    return InvoiceLifecycle(
        invoice_seq=seq,
        doc_number=status.invoice_number,
        code=status.code,
        label=status.label,
        issued_at=status.issued_at,
        reason=status.reason or reason_label(status.reason_code),
        flow_id=flow.flow_id,
    )


def _sync_lifecycle(ledger: Ledger, client: FlowPlatform) -> int:
    return _pull(
        ledger, client, LIFECYCLE_CURSOR, "CustomerInvoiceLC", InvoiceLifecycle, _lifecycle_row
    )


def _invoice_facts(content: bytes) -> dict[str, Any]:
    """Supplier, number, date and total of a Factur-X PDF or a CII/UBL XML, or {}."""
    try:
        xml = content
        if b"%PDF-" in content[:1024]:
            _, xml = facturx.get_xml_from_pdf(content, check_xsd=False)
        if has_doctype(etree.fromstring(xml, safe_parser())):
            return {}  # refused by validation: nothing of it is read (entities, files)
        data = facturx.parse_ubl_cii_xml(xml, check_xsd=False)
    except Exception as exc:  # a broken supplier file is still kept, to be refused
        log.info("incoming invoice unreadable: %r", exc)
        return {}
    seller = data.get("BG-4") or {}
    buyer = data.get("BG-7") or {}
    total = data.get("BT-112")
    issued = data.get("BT-2")
    return {
        "supplier_name": str(seller.get("name") or "")[:200],
        "supplier_siren": str(seller.get("legal_identifier") or "")[:20],
        "number": str(data.get("BT-1") or "")[:35],
        "type_code": str(data.get("BT-3") or "380")[:3],
        "buyer_name": str(buyer.get("name") or "")[:200],
        "issue_date": issued.isoformat() if hasattr(issued, "isoformat") else str(issued or ""),
        "total_cents": int((Decimal(str(total)) * 100).quantize(Decimal(1))) if total else None,
    }


def _incoming_row(session: Session, flow: FlowInfo, content: bytes) -> IncomingInvoice:
    is_pdf = b"%PDF-" in content[:1024]
    name = flow.name or f"{flow.flow_id}.{'pdf' if is_pdf else 'xml'}"
    try:
        report = validate_invoice(content, filename=name)
        summary, valid = report.summary(), report.ok
    except ValidatorUnavailable:
        raise  # a broken installation: no flow can be checked, the sync stops and says so
    except Exception as exc:  # one bad flow is kept, refused, and the sync goes on
        log.warning("incoming flow %s could not be validated: %r", flow.flow_id, exc)
        summary, valid = "Fichier illisible : la validation n'a pas pu aboutir.", False
    return IncomingInvoice(
        flow_id=flow.flow_id,
        received_at=flow.submitted_at or flow.updated_at or utc_stamp(_now(None)),
        syntax=flow.syntax or ("Factur-X" if is_pdf else "XML"),
        filename=name[:255],
        original=content,
        validation=summary,
        valid=valid,
        status=RECEIVED,
        reason="",
        **_invoice_facts(content),
    )


def _sync_incoming(ledger: Ledger, client: FlowPlatform) -> int:
    return _pull(ledger, client, INCOMING_CURSOR, "SupplierInvoice", IncomingInvoice, _incoming_row)


# UNTDID 1001 codes of the French invoicing rules (BR-FR-04), as a shop reads them.
DOCUMENT_KINDS = {
    "380": "Facture",
    "381": "Avoir",
    "384": "Facture rectificative",
    "386": "Facture d'acompte",
    "389": "Autofacture",
    "261": "Avoir autofacturé",
    "500": "Autofacture d'acompte",
    "501": "Autofacture rectificative",
    "471": "Facture (affacturage)",
    "472": "Autofacture (affacturage)",
    "473": "Avoir (affacturage)",
    "502": "Autofacture rectificative (affacturage)",
    "503": "Avoir autofacturé (affacturage)",
}
SELF_BILLED = frozenset({"389", "261", "500", "501", "472", "502", "503"})


@dataclass(frozen=True)
class IncomingSummary:
    id: int
    received_at: str
    supplier_name: str
    supplier_siren: str
    number: str
    issue_date: str
    total_cents: int | None
    valid: bool
    validation: str
    status: str
    reason: str
    type_code: str = "380"
    buyer_name: str = ""

    @property
    def self_billed(self) -> bool:
        return self.type_code in SELF_BILLED

    @property
    def kind(self) -> str:
        """What the document is, in French (« Autofacture » for a self-billed invoice)."""
        return DOCUMENT_KINDS.get(self.type_code, f"Document de type {self.type_code}")


def list_incoming(session: Session) -> list[IncomingSummary]:
    """Supplier invoices received, newest first (without their file)."""
    rows = session.execute(
        select(
            IncomingInvoice.id, IncomingInvoice.received_at, IncomingInvoice.supplier_name,
            IncomingInvoice.supplier_siren, IncomingInvoice.number, IncomingInvoice.issue_date,
            IncomingInvoice.total_cents, IncomingInvoice.valid, IncomingInvoice.validation,
            IncomingInvoice.status, IncomingInvoice.reason, IncomingInvoice.type_code,
            IncomingInvoice.buyer_name,
        ).order_by(IncomingInvoice.received_at.desc(), IncomingInvoice.id.desc())
    )  # fmt: skip
    return [IncomingSummary(*row) for row in rows]


def answer_incoming(
    session: Session,
    client: FlowPlatform,
    incoming_id: int,
    code: str,
    reason: str = "",
    *,
    reason_code: str | None = None,
    now: datetime | None = None,
) -> FlowRef:
    """Answer a supplier invoice as its buyer (204 to 211, ``ANSWERS``); 206, 207, 208 and
    210 need a reason code of the official list (``cdar.REASONS_FOR``). The status is
    recorded once the platform has taken the message."""
    refuse_unless_sandbox(ledger_of(session), client)
    if code not in ANSWERS:
        raise InvalidInput(f"Réponse inconnue : « {code} » ({', '.join(ANSWERS)}).")
    reason = " ".join(check_xml_text(reason, "Le motif").split())
    if code in REASONS_FOR and not reason_code:
        raise InvalidInput(
            f"Choisissez le code motif : « {STATUS_LABELS[code]} » en demande un, de la liste "
            f"officielle ({', '.join(REASONS_FOR[code])})."
        )
    incoming = session.get(IncomingInvoice, incoming_id)
    if incoming is None:
        raise InvalidInput("Cette facture fournisseur n'existe pas.")
    if not incoming.number:
        raise InvalidInput(
            "Le numéro de cette facture fournisseur est illisible : répondez au fournisseur "
            "hors de la plateforme."
        )
    cdar = build_cdar(
        incoming.number,
        incoming.issue_date or None,
        code,
        reason_code=reason_code,
        reason=reason or None,
        sender_siren=fiscal_settings(session).siren,
        receiver_siren=incoming.supplier_siren,
        issued_at=_now(now),
    )
    ref = client.submit(
        cdar,
        filename=f"CDAR_{incoming.number}_{code}.xml",
        tracking_id=str(uuid.uuid4()),
        flow_syntax="CDAR",
        flow_profile=None,
    )
    incoming.status = ANSWERS[code]
    incoming.reason = reason or (reason_label(reason_code) if reason_code else "")
    session.flush()
    return ref


def vat_due_on_payment(body: dict[str, Any]) -> bool:
    """Services whose VAT falls due when paid (no option for VAT on debits): the platform
    must be told when the payment is received (status 212)."""
    return not body.get("vat_on_debits") and body.get("operation") in ("services", "mixed")


def report_cashed(
    session: Session, client: FlowPlatform, doc_number: str, *, now: datetime | None = None
) -> FlowRef:
    """Send the 212 "Encaissée" status now, within the caller's transaction: it is queued
    first (``queue_cashed``) and sent under that item's ``trackingId``, so that a later
    drain never sends it again. Prefer queuing alone and letting the worker send it: a
    platform down here undoes the whole transaction."""
    refuse_unless_sandbox(ledger_of(session), client)
    item = queue_cashed(session, doc_number, now=now)
    if item.state == DEPOSITED and item.flow_id is not None:
        return FlowRef(item.flow_id, item.tracking_id, item.updated_at)
    if item.state != QUEUED or item.payload is None:
        raise InvalidInput(
            f"L'encaissement de la facture {doc_number} est déjà en cours d'envoi par la file."
        )
    ref = client.submit(
        item.payload,
        filename=item.filename,
        tracking_id=item.tracking_id,
        sha256=item.sha256,
        flow_syntax="CDAR",
        flow_profile=None,
    )
    record_cashed_delivery(session, item, ref.flow_id, now=now)
    return ref
