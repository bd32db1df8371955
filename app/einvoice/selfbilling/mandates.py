"""Self-billing mandates: a supplier's written agreement that the shop draws up its
invoices in the supplier's name and on its behalf (CGI art. 289-I-2).

Mandates are kept in a table of their own (their end date is set when the contract
ends), and each one recorded or ended is a technical event of the journal (JET), so that
who gave the shop authority to issue in whose name, and when, stays on record.

A mandate names the supplier (checked like a customer company: SIREN/SIRET/VAT with
python-stdnum), its reference, the dates it covers and the prefix of the numbering the
supplier and the shop agreed on: self-billed invoices follow their own continuous
sequence per prefix, never mixed with the shop's sales invoices. The platform reaches the
supplier at an electronic address that starts with its SIREN (BR-FR-22).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum import exceptions as stdnum_errors
from stdnum import iban as stdnum_iban

from app.customers.service import COMPANY, CustomerInfo, FieldError, validate_customer
from app.einvoice.models import SelfBillingMandate as Row
from app.einvoice.selfbilling.records import body_of, self_billed_rows
from app.errors import InvalidInput
from app.ledger import canonical
from app.ledger.events import EventCode, log_event
from app.ledger.store import ledger_of
from app.values.text import check_xml_text

# Letters and digits, a letter first; never the shape of the shop's own numbers (F2026,
# AV2026), so that a self-billed number can never be taken for a sales invoice's.
_PREFIX = re.compile(r"[A-Z][A-Z0-9]{1,11}")
_SHOP_PREFIX = re.compile(r"(F|AV)\d*")
_REFERENCE_MAX = 100


@dataclass(frozen=True)
class Mandate:
    """A self-billing mandate as recorded; ``id`` is None before it is saved."""

    reference: str
    prefix: str
    start_date: date
    name: str
    siren: str = ""
    siret: str = ""
    vat_number: str = ""
    address: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "FR"
    electronic_address: str = ""
    iban: str = ""
    end_date: date | None = None
    id: int | None = None

    def covers(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)

    def state_on(self, day: date) -> str:
        if day < self.start_date:
            return "À venir"
        return "Actif" if self.covers(day) else "Terminé"

    @property
    def supplier(self) -> str:
        return f"{self.name} (SIREN {self.siren})"


def validate_mandate(mandate: Mandate) -> Mandate:
    """Normalised, or FieldError naming the first bad field, in French."""
    info = validate_customer(
        CustomerInfo(
            kind=COMPANY,
            name=mandate.name,
            siren=mandate.siren,
            siret=mandate.siret,
            vat_number=mandate.vat_number,
            address=mandate.address,
            postcode=mandate.postcode,
            city=mandate.city,
            country=mandate.country or "FR",
            electronic_address=mandate.electronic_address,
        )
    )
    if info.country != "FR":
        raise FieldError(
            "country",
            "L'autofacturation électronique concerne un fournisseur établi en France "
            "(identifié par son SIREN).",
        )
    if not (info.address and info.postcode and info.city):
        raise FieldError("address", "Adresse du fournisseur incomplète (rue, code postal, ville).")
    electronic = info.electronic_address.replace(" ", "") or info.siren
    if not electronic.startswith(info.siren):
        raise FieldError(
            "electronic_address",
            f"L'adresse électronique du fournisseur doit commencer par son SIREN "
            f"({info.siren}) : c'est là que la plateforme lui remet ses autofactures.",
        )
    reference = " ".join(check_xml_text(mandate.reference, "La référence du mandat").split())
    if not reference:
        raise FieldError("reference", "Référence du mandat : obligatoire.")
    if len(reference) > _REFERENCE_MAX:
        raise FieldError("reference", f"Référence du mandat : {_REFERENCE_MAX} caractères au plus.")
    prefix = mandate.prefix.strip().upper()
    if not _PREFIX.fullmatch(prefix):
        raise FieldError(
            "prefix",
            "Préfixe de numérotation : de 2 à 12 lettres ou chiffres, en commençant par une "
            "lettre (ex. AFDUPONT).",
        )
    if _SHOP_PREFIX.fullmatch(prefix):
        raise FieldError(
            "prefix",
            f"Le préfixe « {prefix} » se confondrait avec les factures ou avoirs de la "
            "boutique : choisissez-en un autre.",
        )
    for field, value in (("start_date", mandate.start_date), ("end_date", mandate.end_date)):
        if value is not None and not isinstance(value, date):
            raise FieldError(field, "Date du mandat invalide.")
    if mandate.end_date is not None and mandate.end_date < mandate.start_date:
        raise FieldError("end_date", "La fin du mandat précède son début.")
    iban = mandate.iban.replace(" ", "").upper()
    if iban:
        try:
            iban = stdnum_iban.validate(iban)
        except stdnum_errors.ValidationError:
            raise FieldError("iban", "IBAN du fournisseur invalide.") from None
    return replace(
        mandate,
        reference=reference,
        prefix=prefix,
        name=info.name,
        siren=info.siren,
        siret=info.siret,
        vat_number=info.vat_number,
        address=info.address,
        postcode=info.postcode,
        city=info.city,
        country=info.country,
        electronic_address=electronic,
        iban=iban,
    )


def _mandate(row: Row) -> Mandate:
    values = {f.name: getattr(row, f.name) for f in fields(Mandate)}
    values["start_date"] = date.fromisoformat(row.start_date)
    values["end_date"] = date.fromisoformat(row.end_date) if row.end_date else None
    return Mandate(**values)


def add_mandate(session: Session, mandate: Mandate, *, operator: str) -> Mandate:
    """Record a new mandate; its reference and prefix must be new."""
    mandate = validate_mandate(mandate)
    if session.scalar(select(Row.id).where(Row.reference == mandate.reference)) is not None:
        raise FieldError("reference", f"Le mandat « {mandate.reference} » existe déjà.")
    taken = session.scalar(select(Row).where(Row.prefix == mandate.prefix))
    if taken is not None:
        raise FieldError(
            "prefix",
            f"Le préfixe « {mandate.prefix} » est déjà celui du mandat « {taken.reference} » "
            f"({taken.name}) : chaque mandat a sa propre numérotation.",
        )
    values = {f.name: getattr(mandate, f.name) for f in fields(Mandate) if f.name != "id"}
    values["start_date"] = mandate.start_date.isoformat()
    values["end_date"] = mandate.end_date.isoformat() if mandate.end_date else None
    now = canonical.format_ts(ledger_of(session).clock())
    row = Row(**values, created_at=now, operator=operator[:64])
    session.add(row)
    session.flush()
    _journal(session, "recorded", mandate, operator)
    return _mandate(row)


def _journal(session: Session, action: str, mandate: Mandate, operator: str) -> None:
    log_event(
        session,
        EventCode.SELF_BILLING_MANDATE,
        operator=operator,
        action=action,
        reference=mandate.reference,
        prefix=mandate.prefix,
        supplier=mandate.name,
        siren=mandate.siren,
        start=mandate.start_date.isoformat(),
        end=mandate.end_date.isoformat() if mandate.end_date else None,
    )


def list_mandates(session: Session, *, active_on: date | None = None) -> list[Mandate]:
    """Every mandate by supplier name, or those covering ``active_on``."""
    mandates = [_mandate(r) for r in session.scalars(select(Row).order_by(Row.name, Row.id))]
    if active_on is not None:
        mandates = [m for m in mandates if m.covers(active_on)]
    return mandates


def get_mandate(session: Session, key: int | str) -> Mandate:
    """A mandate by its id, its reference or its prefix."""
    if isinstance(key, int):
        row = session.get(Row, key)
    else:
        text = key.strip()
        row = session.scalar(select(Row).where(Row.reference == text)) or session.scalar(
            select(Row).where(Row.prefix == text.upper())
        )
    if row is None:
        raise InvalidInput(f"Aucun mandat d'autofacturation « {key} ».")
    return _mandate(row)


def end_mandate(session: Session, key: int | str, end: date, *, operator: str) -> Mandate:
    """Set the last day a mandate covers (not before its start, nor before an autofacture
    already issued under it)."""
    mandate = get_mandate(session, key)
    if end < mandate.start_date:
        raise InvalidInput(
            f"Le mandat « {mandate.reference} » commence le {mandate.start_date:%d/%m/%Y} : "
            "il ne peut finir avant."
        )
    issued = [
        body["issue_date"]
        for body in map(body_of, self_billed_rows(session))
        if body["self_billing"]["mandate"] == mandate.reference
    ]
    last = date.fromisoformat(max(issued)) if issued else None
    if last is not None and end < last:
        raise InvalidInput(
            f"Une autofacture a été émise le {last:%d/%m/%Y} sous ce mandat : il ne peut "
            "finir avant cette date."
        )
    row = session.get(Row, mandate.id)
    assert row is not None  # get_mandate found it
    row.end_date = end.isoformat()
    session.flush()
    ended = _mandate(row)
    _journal(session, "ended", ended, operator)
    return ended
