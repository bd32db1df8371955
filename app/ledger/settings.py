"""The shop's fiscal identity, kept in the ledger: every change is a SETTINGS record."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum import bic as stdnum_bic
from stdnum import exceptions as stdnum_errors
from stdnum import iban as stdnum_iban
from stdnum.eu import vat as eu_vat
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret

from app.errors import InvalidInput
from app.ledger import canonical
from app.ledger.journal import Recorded, append
from app.ledger.models import JournalRecord
from app.ledger.operators import Permission, require
from app.ledger.records import RecordType
from app.values.money import MAX_AMOUNT_CENTS, format_cents
from app.values.text import check_xml_text

VAT_REGIMES = {
    "reel_normal": "Régime réel normal",
    "reel_simplifie": "Régime réel simplifié",
    "franchise": "Franchise en base de TVA (art. 293 B du CGI)",
}
MAX_FIELD_CHARS = 120


@dataclass(frozen=True)
class FiscalSettings:
    name: str = ""
    legal_form: str = ""
    siret: str = ""
    vat_number: str = ""
    address: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "FR"
    phone: str = ""
    vat_regime: str = "reel_normal"
    vat_on_debits: bool = False
    electronic_address: str = ""  # e-invoicing address (scheme 0225); the SIREN by default
    iban: str = ""
    bic: str = ""
    share_capital: int = 0  # cents; 0: not stated (a sole trader has none)
    registration: str = ""  # "RCS Lyon", "RM 69": the register and its city or département

    @property
    def siren(self) -> str:
        return self.siret[:9]

    @property
    def legal_mentions(self) -> str:
        """What an invoice prints under the shop's name (Code de commerce R123-237): legal
        form and share capital, then the register with the SIREN."""
        return legal_mentions(self.legal_form, self.share_capital, self.registration, self.siren)

    @property
    def is_complete(self) -> bool:
        return bool(self.name and self.siret and self.address and self.city)


def _clean(value: Any, label: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{label} : texte attendu.")
    check_xml_text(value, label)
    value = " ".join(value.split())
    if len(value) > MAX_FIELD_CHARS:
        raise InvalidInput(f"{label} : {MAX_FIELD_CHARS} caractères au plus.")
    return value


def validate(settings: FiscalSettings) -> FiscalSettings:
    """Normalise and check identifiers; raises InvalidInput naming the field."""
    values = {f.name: getattr(settings, f.name) for f in fields(settings)}
    for name, label in (
        ("name", "Raison sociale"),
        ("legal_form", "Forme juridique"),
        ("address", "Adresse"),
        ("postcode", "Code postal"),
        ("city", "Ville"),
        ("phone", "Téléphone"),
        ("country", "Pays"),
    ):
        values[name] = _clean(values[name], label)
    if not values["name"]:
        raise InvalidInput("Raison sociale : obligatoire.")
    try:
        values["siret"] = fr_siret.validate(values["siret"])
    except stdnum_errors.ValidationError:
        raise InvalidInput("SIRET invalide : 14 chiffres dont la clé de contrôle.") from None
    if values["vat_number"]:
        try:
            values["vat_number"] = eu_vat.validate(values["vat_number"])
        except stdnum_errors.ValidationError:
            raise InvalidInput("Numéro de TVA intracommunautaire invalide.") from None
        if values["vat_number"].startswith("FR") and values["vat_number"][4:] != fr_siren.compact(
            values["siret"][:9]
        ):
            raise InvalidInput("Le numéro de TVA ne correspond pas au SIREN.")
    values["electronic_address"] = _clean(
        values["electronic_address"], "Adresse électronique de facturation"
    )
    iban = _clean(values["iban"], "IBAN").replace(" ", "").upper()
    if iban:
        try:
            iban = stdnum_iban.validate(iban)
        except stdnum_errors.ValidationError:
            raise InvalidInput("IBAN invalide.") from None
    values["iban"] = iban
    bic = _clean(values["bic"], "BIC").replace(" ", "").upper()
    if bic:
        try:
            bic = stdnum_bic.validate(bic)
        except stdnum_errors.ValidationError:
            raise InvalidInput(
                "BIC invalide : 8 ou 11 caractères (banque, pays, ville, agence), ex. AGRIFRPP882."
            ) from None
        if iban and bic[4:6] != iban[:2] and not _same_sepa_zone(iban[:2], bic[4:6]):
            raise InvalidInput("Le pays du BIC ne correspond pas à celui de l'IBAN.")
    values["bic"] = bic
    capital = values["share_capital"]
    if isinstance(capital, bool) or not isinstance(capital, int):
        raise InvalidInput("Capital social : montant en euros attendu.")
    if not 0 <= capital < MAX_AMOUNT_CENTS:
        raise InvalidInput("Capital social : montant positif attendu.")
    values["registration"] = _registration(values["registration"])
    if values["vat_regime"] not in VAT_REGIMES:
        raise InvalidInput(f"Régime de TVA inconnu : {values['vat_regime']!r}.")
    if not isinstance(values["vat_on_debits"], bool):
        raise InvalidInput("Option pour le paiement de la TVA d'après les débits : oui ou non.")
    return replace(settings, **values)


# French overseas departments and Monaco use French banks' BICs (country FR).
_FR_ZONE = {"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "MC", "NC", "PF", "WF"}


def _same_sepa_zone(iban_country: str, bic_country: str) -> bool:
    return {iban_country, bic_country} <= _FR_ZONE


REGISTERS = ("RCS", "RM", "RSAC", "RSEIRL", "RNE")


def _registration(value: Any) -> str:
    """ "RCS Lyon", "RM 69": the register (commerce, métiers…) and where it is kept."""
    text = _clean(value, "Immatriculation (RCS ou RM)")
    if not text:
        return ""
    register, _, place = text.partition(" ")
    if register.upper() not in REGISTERS or not place.strip():
        raise InvalidInput(
            "Immatriculation : le registre puis la ville du greffe ou le département, "
            "ex. « RCS Lyon » ou « RM 69 »."
        )
    return f"{register.upper()} {place.strip()}"


def legal_mentions(legal_form: str, capital_cents: int, registration: str, siren: str) -> str:
    parts = []
    form = legal_form.strip()
    if capital_cents and "capital" not in form.lower():
        form = f"{form} au capital de {format_cents(capital_cents)}".strip()
        form = form[0].upper() + form[1:]
    if form:
        parts.append(form)
    if registration:
        digits = "".join(c for c in registration if c.isdigit())
        if len(siren) == 9 and siren not in digits:
            registration = f"{registration} {siren[:3]} {siren[3:6]} {siren[6:]}"
        parts.append(registration)
    return " — ".join(parts)


def fiscal_settings(session: Session) -> FiscalSettings:
    data = session.scalar(
        select(JournalRecord.canonical)
        .where(JournalRecord.record_type == RecordType.SETTINGS)
        .order_by(JournalRecord.seq.desc())
        .limit(1)
    )
    if data is None:
        return FiscalSettings()
    known = {f.name for f in fields(FiscalSettings)}
    body = canonical.decode(data)["body"]["settings"]
    return FiscalSettings(**{k: v for k, v in body.items() if k in known})


def record_fiscal_settings(
    session: Session, settings: FiscalSettings, *, operator: str
) -> Recorded | None:
    """Journal a change of the fiscal identity; None when nothing changed."""
    settings = validate(settings)
    before = fiscal_settings(session)
    if settings == before:
        return None
    require(session, operator, Permission.EDIT_SETTINGS)
    changed = sorted(k for k, v in asdict(settings).items() if asdict(before)[k] != v)
    body = {"settings": asdict(settings), "changed": changed}
    return append(session, RecordType.SETTINGS, body, operator=operator)
