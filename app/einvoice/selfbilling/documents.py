"""Self-billed invoices (type 389) and credit notes (261): priced like the shop's invoices,
but the seller (BG-4) is the supplier of the mandate and the buyer (BG-7) the shop.

Everything the document shows is frozen in its ledger record, the mandate as it was
included; the mention « Autofacturation » is a note of the invoice (BG-1) and is printed.
A self-billed invoice is refused on a day its mandate does not cover.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.einvoice.corrections import prepare_credit_note
from app.einvoice.invoices import DEFAULT_NOTES, InvoiceDraft, compute, due_date, operation_of
from app.einvoice.issuing import PAYMENT_MEANS, InvoiceStatus, IssuedDocument, Prepared, status_of
from app.einvoice.selfbilling.mandates import Mandate, get_mandate
from app.einvoice.selfbilling.records import self_billed_rows, sequence_after
from app.errors import InvalidInput
from app.ledger import canonical
from app.ledger.closures import today
from app.ledger.db import lock_chain
from app.ledger.journal import next_number
from app.ledger.records import RecordType
from app.ledger.settings import FiscalSettings, fiscal_settings
from app.values.text import check_xml_text, validate_label

SELF_BILLING_NOTE = "Autofacturation"
INVOICE_CODE, CREDIT_CODE = "389", "261"


def self_billed_number(prefix: str, sequence: int) -> str:
    """``AFDUPONT-000001``: the mandate's prefix and its own continuous sequence."""
    return f"{prefix}-{sequence:06d}"


def mention(mandate: dict[str, Any], buyer: str, *, credit: bool = False) -> str:
    """The printed and sent explanation of who drew the document up, and under what."""
    what = "avoir établi" if credit else "facture établie"
    return (
        f"{SELF_BILLING_NOTE} : {what} par {buyer}, acheteur, au nom et pour le "
        f"compte de {mandate['supplier']}, en vertu du mandat n° {mandate['mandate']} "
        "(article 289-I-2 du CGI)."
    )


def _supplier(mandate: Mandate) -> dict[str, Any]:
    return {
        "name": mandate.name,
        "legal_form": "",
        "legal_info": "",
        "siren": mandate.siren,
        "siret": mandate.siret,
        "vat_number": mandate.vat_number,
        "address": mandate.address,
        "postcode": mandate.postcode,
        "city": mandate.city,
        "country": mandate.country,
        "electronic_address": mandate.electronic_address,
        "phone": "",
    }


def _shop(shop: FiscalSettings) -> dict[str, Any]:
    if not shop.is_complete:
        raise InvalidInput("Complétez l'identité de la boutique (Réglages) avant de facturer.")
    return {
        "customer_id": None,
        "kind": "company",
        "name": shop.name,
        "siren": shop.siren,
        "siret": shop.siret,
        "vat_number": shop.vat_number,
        "address": shop.address,
        "postcode": shop.postcode,
        "city": shop.city,
        "country": shop.country or "FR",
        "electronic_address": shop.electronic_address or shop.siren,
        "email": "",
    }


def _active(session: Session, key: int | str) -> Mandate:
    mandate = get_mandate(session, key)
    day = today(session)
    if not mandate.covers(day):
        if day < mandate.start_date:
            when = f"ne prend effet que le {mandate.start_date:%d/%m/%Y}"
        else:
            assert mandate.end_date is not None  # covers() is false only then
            when = f"a pris fin le {mandate.end_date:%d/%m/%Y}"
        raise InvalidInput(
            f"Le mandat d'autofacturation « {mandate.reference} » de {mandate.name} {when} : "
            f"aucune autofacture ne peut être émise le {day:%d/%m/%Y}."
        )
    return mandate


def _frame(mandate: Mandate, sequence: int, buyer: str, *, credit: bool = False) -> dict[str, Any]:
    frame = {
        "mandate": mandate.reference,
        "mandate_id": mandate.id,
        "prefix": mandate.prefix,
        "sequence": sequence,
        "start_date": mandate.start_date.isoformat(),
        "end_date": mandate.end_date.isoformat() if mandate.end_date else None,
        "supplier": mandate.name,
    }
    frame["mention"] = mention(frame, buyer, credit=credit)
    return frame


def prepare_self_billed(session: Session, mandate_key: int | str, draft: InvoiceDraft) -> Prepared:
    """A self-billed invoice under the mandate ``mandate_key`` (id, reference or prefix),
    ready to be validated and appended. ``draft.customer_id`` is not read: the parties
    are the mandate's supplier and the shop."""
    lock_chain(session)  # the mandate's sequence is read under the chain's write lock
    mandate = _active(session, mandate_key)
    shop = fiscal_settings(session)
    seller, buyer = _supplier(mandate), _shop(shop)
    amounts = compute(draft)
    if any(line["category"] in ("K", "AE") for line in amounts.lines) and not (
        seller["vat_number"] and buyer["vat_number"]
    ):
        raise InvalidInput(
            "Autoliquidation ou livraison intracommunautaire : les numéros de TVA du "
            "fournisseur et de la boutique sont obligatoires."
        )
    if draft.payment_means not in PAYMENT_MEANS:
        raise InvalidInput(f"Moyen de paiement inconnu : {draft.payment_means!r}.")
    issued = today(session)
    days = 30 if draft.due_days is None else draft.due_days
    sequence = sequence_after(session, mandate.prefix)
    number = self_billed_number(mandate.prefix, sequence)
    operation, process = operation_of(amounts.lines)
    frame = _frame(mandate, sequence, shop.name)
    body: dict[str, Any] = {
        "doc": "self_invoice",
        "number": number,
        "type_code": INVOICE_CODE,
        "issue_date": issued.isoformat(),
        "due_date": due_date(issued, days).isoformat(),
        "currency": "EUR",
        "seller": seller,
        "buyer": buyer,
        "delivery": None,
        "operation": operation,
        "business_process": process,
        "vat_on_debits": bool(draft.vat_on_debits),  # the supplier's option, not the shop's
        "prices_include_vat": draft.prices_include_vat,
        **amounts.body_fields(),
        "payment_terms": validate_label(
            draft.payment_terms or f"Paiement à {days} jours, par virement"
        ),
        "payment_means": {"code": draft.payment_means, "iban": draft.iban or mandate.iban},
        "notes": {
            **DEFAULT_NOTES,
            "BAR": "B2B",
            "free": check_xml_text(draft.note, "La note").strip(),
        },
        "purchase_order": _short(draft.purchase_order, "Le bon de commande"),
        "service_code": "",
        "preceding": None,
        "from_ticket": None,
        "reason": None,
        "self_billing": frame,
    }
    record_number = next_number(session, RecordType.SELF_INVOICE)
    return Prepared(RecordType.SELF_INVOICE, record_number, body, None)


def prepare_self_credit(
    session: Session,
    invoice: str,
    *,
    reason: str,
    lines: list[tuple[int, Decimal | int | str]] | None = None,
) -> Prepared:
    """A self-billed credit note (261) on a self-billed invoice, whole or some lines, in
    the same mandate's sequence; the mandate must still cover the day."""
    lock_chain(session)
    base = prepare_credit_note(session, invoice, reason=reason, lines=lines, self_billed=True)
    frame = base.body["self_billing"]
    mandate = _active(session, frame["mandate_id"] or frame["mandate"])
    sequence = sequence_after(session, mandate.prefix)
    body = {
        **base.body,
        "doc": "self_credit",
        "type_code": CREDIT_CODE,
        "number": self_billed_number(mandate.prefix, sequence),
        "self_billing": _frame(mandate, sequence, base.body["buyer"]["name"], credit=True),
    }
    number = next_number(session, RecordType.SELF_CREDIT)
    return replace(base, record_type=RecordType.SELF_CREDIT, number=number, body=body)


def _short(text: str, what: str) -> str:
    value = check_xml_text(text, what).strip()
    if len(value) > 100:
        raise InvalidInput(f"{what} dépasse 100 caractères.")
    return value


@dataclass(frozen=True)
class SelfBilled:
    """A self-billed document as listed: number, mandate, supplier, date, total, status."""

    number: str
    kind: str  # "Autofacture" | "Avoir d'autofacturation"
    mandate: str
    supplier: str
    issue_date: str
    total: int
    status: InvoiceStatus


def list_self_billed(session: Session, *, mandate: str | None = None) -> list[SelfBilled]:
    """Self-billed invoices and credit notes, newest first; those of one mandate."""
    found = []
    for row in reversed(self_billed_rows(session)):
        envelope = canonical.decode(row.canonical)
        body = envelope["body"]
        frame = body["self_billing"]
        if mandate is not None and mandate not in (frame["mandate"], frame["prefix"]):
            continue
        record_type = RecordType(row.record_type)
        document = IssuedDocument(row.seq, record_type, row.number, row.ts, envelope, body)
        found.append(
            SelfBilled(
                body["number"],
                record_type.label,
                frame["mandate"],
                body["seller"]["name"],
                body["issue_date"],
                body["total"],
                status_of(session, document),
            )
        )
    return found
