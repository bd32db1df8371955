"""Issuing invoices into the ledger, reading issued documents back, and lists.

Issuing assigns the next gapless number (``F2026-000123``), appends the record and
freezes it; an issued invoice is corrected only by a credit note that references it
(``app.einvoice.corrections``, which also records payments against invoices).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.customers.service import CustomerInfo, get_customer
from app.einvoice.invoices import (
    DEFAULT_NOTES,
    InvoiceDraft,
    InvoiceLineInput,
    compute,
    due_date,
    operation_of,
)
from app.errors import InvalidInput
from app.ledger import canonical
from app.ledger.closures import today
from app.ledger.journal import Recorded, append, next_number
from app.ledger.models import JournalRecord
from app.ledger.operators import Permission, require
from app.ledger.records import RecordType
from app.ledger.settings import FiscalSettings, fiscal_settings
from app.sales.service import get_ticket
from app.values.text import check_xml_text, validate_label

PREFIXES = {RecordType.INVOICE: "F", RecordType.CREDIT_NOTE: "AV"}
# A self-billing mandate's prefix (never F… or AV… and digits), a dash, its sequence.
SELF_BILLED_NUMBER = re.compile(r"[A-Z][A-Z0-9]{1,11}-\d{6,}")
PAYMENT_MEANS = {
    "30": "Virement",
    "58": "Virement SEPA",
    "48": "Carte bancaire",
    "20": "Chèque",
    "10": "Espèces",
}


def invoice_number(record_type: RecordType, number: int, issued: str) -> str:
    """``F2026-000123`` / ``AV2026-000004``: at most 35 characters, letters, digits, '-'."""
    return f"{PREFIXES[record_type]}{issued[:4]}-{number:06d}"


@dataclass(frozen=True)
class IssuedDocument:
    """An invoice or credit note read back from the ledger."""

    seq: int
    record_type: RecordType
    number: int
    ts: str
    envelope: dict[str, Any]
    body: dict[str, Any]

    @property
    def doc_number(self) -> str:
        return self.body["number"]

    @property
    def is_credit_note(self) -> bool:
        return self.record_type in (RecordType.CREDIT_NOTE, RecordType.SELF_CREDIT)

    @property
    def is_self_billed(self) -> bool:
        """Drawn up by the shop as the buyer, under a supplier's mandate: a purchase."""
        return self.record_type in (RecordType.SELF_INVOICE, RecordType.SELF_CREDIT)


def _seller(shop: FiscalSettings) -> dict[str, Any]:
    if not shop.is_complete:
        raise InvalidInput("Complétez l'identité de la boutique (Réglages) avant de facturer.")
    return {
        "name": shop.name,
        "legal_form": shop.legal_form,
        "legal_info": shop.legal_mentions,
        "siren": shop.siren,
        "siret": shop.siret,
        "vat_number": shop.vat_number,
        "address": shop.address,
        "postcode": shop.postcode,
        "city": shop.city,
        "country": shop.country or "FR",
        "electronic_address": shop.electronic_address or shop.siren,
        "phone": shop.phone,
    }


def _payment_means(draft: InvoiceDraft, shop: FiscalSettings) -> dict[str, str]:
    """The means of payment (BG-16): the account to pay to is the draft's, else the shop's
    (Réglages); the shop's BIC goes with the shop's own IBAN only."""
    iban = draft.iban or shop.iban
    means = {"code": draft.payment_means, "iban": iban}
    if shop.bic and iban == shop.iban:
        means["bic"] = shop.bic
    return means


def _buyer(customer: CustomerInfo) -> dict[str, Any]:
    if not (customer.address and customer.city):
        raise InvalidInput(f"Adresse de facturation de « {customer.name} » incomplète.")
    electronic = customer.electronic_address or (customer.siren if customer.is_company else "")
    return {
        "customer_id": customer.id,  # the customer file it came from (its history)
        "kind": customer.kind,
        "name": customer.name,
        "siren": customer.siren,
        "siret": customer.siret,
        "vat_number": customer.vat_number,
        "address": customer.address,
        "postcode": customer.postcode,
        "city": customer.city,
        "country": customer.country,
        "electronic_address": electronic,
        "email": customer.email,
    }


def _delivery(customer: CustomerInfo) -> dict[str, Any] | None:
    if not customer.has_delivery_address:
        return None
    return {
        "name": customer.name,
        "address": customer.delivery_address,
        "postcode": customer.delivery_postcode,
        "city": customer.delivery_city,
        "country": customer.delivery_country or customer.country,
    }


def _bar(customer: CustomerInfo) -> str:
    if not customer.is_company:
        return "B2C"
    return "B2B" if customer.country == "FR" else "B2BINT"


def _check_reverse_charge(lines: list[dict[str, Any]], seller: dict, buyer: dict) -> None:
    reverse = any(line["category"] in ("K", "AE") for line in lines)
    if reverse and not (seller["vat_number"] and buyer["vat_number"]):
        raise InvalidInput(
            "Autoliquidation ou livraison intracommunautaire : les numéros de TVA du "
            "vendeur et du client sont obligatoires."
        )


def build_invoice_body(session: Session, draft: InvoiceDraft, number: str) -> dict[str, Any]:
    """Everything the invoice will show, frozen: the recorded body."""
    customer = get_customer(session, draft.customer_id)
    shop = fiscal_settings(session)
    seller, buyer = _seller(shop), _buyer(customer)
    amounts = compute(draft)
    _check_reverse_charge(amounts.lines, seller, buyer)
    issued = today(session)
    days = customer.payment_terms_days if draft.due_days is None else draft.due_days
    operation, process = operation_of(amounts.lines)
    paid = amounts.totals["total"] if draft.from_ticket is not None else 0
    terms = draft.payment_terms or (
        "Payée au comptant" if paid else f"Paiement à {days} jours, par virement"
    )
    body: dict[str, Any] = {
        "doc": "invoice",
        "number": number,
        "type_code": "380",
        "issue_date": issued.isoformat(),
        "due_date": due_date(issued, days).isoformat(),
        "currency": "EUR",
        "seller": seller,
        "buyer": buyer,
        "delivery": _delivery(customer),
        "operation": operation,
        "business_process": process,
        "vat_on_debits": shop.vat_on_debits if draft.vat_on_debits is None else draft.vat_on_debits,
        "prices_include_vat": draft.prices_include_vat,
        **amounts.body_fields(paid),
        "payment_terms": validate_label(terms),
        "payment_means": _payment_means(draft, shop),
        "notes": {
            **DEFAULT_NOTES,
            "BAR": _bar(customer),
            "free": check_xml_text(draft.note, "La note").strip(),
        },
        "purchase_order": _reference(draft.purchase_order, "Le bon de commande"),
        "service_code": _reference(draft.service_code, "Le code service"),
        "preceding": None,
        "from_ticket": None,
        "reason": None,
    }
    if draft.payment_means not in PAYMENT_MEANS:
        raise InvalidInput(f"Moyen de paiement inconnu : {draft.payment_means!r}.")
    return body


@dataclass(frozen=True)
class Prepared:
    """A document ready to be appended: its type, number, body and reference."""

    record_type: RecordType
    number: int
    body: dict[str, Any]
    ref_seq: int | None

    def append(self, session: Session, *, operator: str) -> Recorded:
        return append(
            session,
            self.record_type,
            self.body,
            operator=operator,
            ref_seq=self.ref_seq,
            expect_number=self.number,
        )


def issue_invoice(session: Session, draft: InvoiceDraft, *, operator: str) -> Recorded:
    """Number, record and freeze an invoice; nothing is written if anything is wrong."""
    require(session, operator, Permission.SELL)
    return prepare_invoice(session, draft).append(session, operator=operator)


def prepare_invoice(session: Session, draft: InvoiceDraft) -> Prepared:
    number = next_number(session, RecordType.INVOICE)
    formatted = invoice_number(RecordType.INVOICE, number, today(session).isoformat())
    body = build_invoice_body(session, draft, formatted)
    ref_seq = None
    if draft.from_ticket is not None:
        ticket = get_ticket(session, draft.from_ticket)
        if ticket.kind != "sale":
            raise InvalidInput("Seul un ticket de vente peut être facturé.")
        if _invoices_of_ticket(session, ticket.seq):
            raise InvalidInput(f"Le ticket n°{ticket.number} a déjà été facturé.")
        body["from_ticket"] = {"seq": ticket.seq, "number": ticket.number}
        ref_seq = ticket.seq
    return Prepared(RecordType.INVOICE, number, body, ref_seq)


def _invoices_of_ticket(session: Session, ticket_seq: int) -> list[int]:
    return list(
        session.scalars(
            select(JournalRecord.seq).where(
                JournalRecord.record_type == RecordType.INVOICE, JournalRecord.ref_seq == ticket_seq
            )
        )
    )


def draft_from_ticket(session: Session, ticket_number: int, customer_id: int) -> InvoiceDraft:
    """ "Facturer ce ticket": the ticket's lines, prices incl. VAT, already paid."""
    ticket = get_ticket(session, ticket_number)
    if ticket.kind != "sale":
        raise InvalidInput("Seul un ticket de vente peut être facturé.")
    lines = []
    for line in ticket.body["lines"]:
        qty = Decimal(line["qty"])
        unit = "KGM" if line["weighed"] else "C62"
        # The invoice line carries the amount actually paid (after both discounts).
        price = int((Decimal(line["total"]) / qty).quantize(1)) if qty else 0
        exact = price * qty == line["total"]
        lines.append(
            InvoiceLineInput(
                line["label"],
                qty if exact else Decimal(1),
                price if exact else line["total"],
                line["rate"],
                unit=unit if exact else "C62",
                category="S" if line["rate"] else "E",
                exemption_code=None if line["rate"] else "VATEX-FR-FRANCHISE",
                exemption_reason=None if line["rate"] else "Exonération de TVA",
            )
        )
    return InvoiceDraft(
        customer_id=customer_id,
        lines=tuple(lines),
        prices_include_vat=True,
        from_ticket=ticket.number,
        due_days=0,
        payment_means="10",
    )


REFERENCE_MAX = 100  # BT-10 and BT-13 hold short identifiers (Chorus Pro: 50 to 100 signs)


def _reference(text: str, what: str) -> str:
    value = check_xml_text(text, what).strip()
    if len(value) > REFERENCE_MAX:
        raise InvalidInput(f"{what} dépasse {REFERENCE_MAX} caractères.")
    return value


# -- reading --------------------------------------------------------------------------
def _document(row: JournalRecord) -> IssuedDocument:
    envelope = canonical.decode(row.canonical)
    return IssuedDocument(
        row.seq, RecordType(row.record_type), row.number, row.ts, envelope, envelope["body"]
    )


def get_document(session: Session, doc_number: str) -> IssuedDocument:
    """An invoice or credit note by its printed number (``F2026-000123``) or number."""
    text = doc_number.strip().upper()
    if (own := _self_billed(session, text)) is not None:
        return _document(own)
    record_type = RecordType.CREDIT_NOTE if text.startswith("AV") else RecordType.INVOICE
    digits = text.rsplit("-", 1)[-1].lstrip("FAV")
    if not digits.isdigit():
        raise InvalidInput(f"Numéro de facture invalide : {doc_number!r}.")
    row = session.scalar(
        select(JournalRecord).where(
            JournalRecord.record_type == record_type, JournalRecord.number == int(digits)
        )
    )
    if row is None:
        raise InvalidInput(f"La facture {doc_number} n'existe pas.")
    document = _document(row)
    if text.count("-") and document.doc_number != text:
        raise InvalidInput(f"La facture {doc_number} n'existe pas.")
    return document


def _self_billed(session: Session, text: str) -> JournalRecord | None:
    """A self-billed document by its printed number (``AFDUPONT-000001``: its mandate's
    own sequence, kept in its body; ``app.einvoice.selfbilling``)."""
    if not SELF_BILLED_NUMBER.fullmatch(text):
        return None
    rows = session.scalars(
        select(JournalRecord).where(
            JournalRecord.record_type.in_((RecordType.SELF_INVOICE, RecordType.SELF_CREDIT))
        )
    )
    return next((r for r in rows if canonical.decode(r.canonical)["body"]["number"] == text), None)


def related(session: Session, document: IssuedDocument) -> list[IssuedDocument]:
    """Credit notes and payments that reference an invoice."""
    rows = session.scalars(
        select(JournalRecord)
        .where(
            JournalRecord.ref_seq == document.seq,
            JournalRecord.record_type.in_(
                (RecordType.CREDIT_NOTE, RecordType.SELF_CREDIT, RecordType.PAYMENT)
            ),
        )
        .order_by(JournalRecord.seq)
    )
    return [_document(row) for row in rows]


@dataclass(frozen=True)
class InvoiceStatus:
    document: IssuedDocument
    credited: int
    paid: int
    outstanding: int
    overdue: bool

    @property
    def label(self) -> str:
        if self.document.is_credit_note:
            return "Avoir"
        if self.credited >= self.document.body["total"]:
            return "Annulée par avoir"
        if self.outstanding <= 0:
            return "Payée"
        if self.overdue:
            return "En retard"
        return "Partiellement payée" if self.paid else "À payer"


def status_of(session: Session, document: IssuedDocument) -> InvoiceStatus:
    credited = paid = 0
    for other in related(session, document):
        if other.is_credit_note:
            credited += other.body["total"]
        else:
            paid += other.body["total"]
    total = document.body["total"]
    outstanding = 0 if document.is_credit_note else total - document.body["paid"] - credited - paid
    overdue = outstanding > 0 and document.body["due_date"] < today(session).isoformat()
    return InvoiceStatus(document, credited, paid + document.body["paid"], outstanding, overdue)


def list_documents(
    session: Session,
    *,
    text: str = "",
    customer_id: int | None = None,
    status: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[InvoiceStatus]:
    """Invoices and credit notes, newest first, filtered by text, customer, status, period."""
    rows = session.scalars(
        select(JournalRecord)
        .where(JournalRecord.record_type.in_((RecordType.INVOICE, RecordType.CREDIT_NOTE)))
        .order_by(JournalRecord.seq.desc())
    )
    customer = get_customer(session, customer_id) if customer_id else None
    found = []
    needle = text.strip().lower()
    for row in rows:
        document = _document(row)
        body = document.body
        if customer and not _bought_by(body["buyer"], customer):
            continue
        if start and body["issue_date"] < start.isoformat():
            continue
        if end and body["issue_date"] > end.isoformat():
            continue
        if (
            needle
            and needle not in body["number"].lower()
            and needle not in body["buyer"]["name"].lower()
        ):
            continue
        state = status_of(session, document)
        if status and state.label != status:
            continue
        found.append(state)
    return found


def _bought_by(buyer: dict[str, Any], customer: CustomerInfo) -> bool:
    """Whether a recorded buyer is this customer: by the customer file it came from, or,
    for documents recorded before that was kept, by name and SIREN as they were."""
    if buyer.get("customer_id") is not None:
        return bool(buyer["customer_id"] == customer.id)
    return (buyer["name"], buyer["siren"]) == (customer.name, customer.siren)


def customer_history(session: Session, customer_id: int) -> list[InvoiceStatus]:
    """A customer's invoices and credit notes, newest first, each with its status."""
    return list_documents(session, customer_id=customer_id)


def overdue(session: Session) -> list[InvoiceStatus]:
    return [s for s in list_documents(session) if s.overdue]
