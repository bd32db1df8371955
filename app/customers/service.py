"""Customer services: identifiers checked with python-stdnum, errors naming the field."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum import exceptions as stdnum_errors
from stdnum.eu import vat as eu_vat
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret

from app.customers.models import Customer
from app.errors import InvalidInput
from app.values.text import check_xml_text

COMPANY, PERSON = "company", "person"
MAX_CHARS = 120


class FieldError(InvalidInput):
    """Bad input in one field of a form; ``field`` names it so the form can show it there."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CustomerInfo:
    id: int | None = None
    kind: str = COMPANY
    name: str = ""
    siren: str = ""
    siret: str = ""
    vat_number: str = ""
    electronic_address: str = ""
    email: str = ""
    address: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "FR"
    delivery_address: str = ""
    delivery_postcode: str = ""
    delivery_city: str = ""
    delivery_country: str = ""
    payment_terms_days: int = 30
    active: bool = True
    public_sector: bool = False  # invoices go to Chorus Pro

    @property
    def is_company(self) -> bool:
        return self.kind == COMPANY

    @property
    def has_delivery_address(self) -> bool:
        return bool(self.delivery_address.strip())


def _text(value: object, field: str, label: str, *, limit: int = MAX_CHARS) -> str:
    if not isinstance(value, str):
        raise FieldError(field, f"{label} : texte attendu.")
    try:
        check_xml_text(value, label)
    except InvalidInput as exc:
        raise FieldError(field, exc.message) from None
    value = " ".join(value.split())
    if len(value) > limit:
        raise FieldError(field, f"{label} : {limit} caractères au plus.")
    if any(ord(c) < 32 for c in value):
        raise FieldError(field, f"{label} : caractères de contrôle interdits.")
    return value


def validate_customer(info: CustomerInfo) -> CustomerInfo:
    """Normalise and check every field; raises FieldError naming the first bad one."""
    values = asdict(info)
    for name, label, limit in (
        ("name", "Nom", 120),
        ("address", "Adresse", 120),
        ("postcode", "Code postal", 16),
        ("city", "Ville", 60),
        ("email", "E-mail", 120),
        ("electronic_address", "Adresse électronique de facturation", 120),
        ("delivery_address", "Adresse de livraison", 120),
        ("delivery_postcode", "Code postal de livraison", 16),
        ("delivery_city", "Ville de livraison", 60),
    ):
        values[name] = _text(values[name], name, label, limit=limit)
    if values["kind"] not in (COMPANY, PERSON):
        raise FieldError("kind", "Type de client inconnu.")
    if not values["name"]:
        raise FieldError("name", "Nom : obligatoire.")
    for name in ("country", "delivery_country"):
        code = _text(values[name], name, "Pays", limit=60).upper()
        if code and (len(code) != 2 or not code.isalpha()):
            raise FieldError(name, "Pays : code ISO à deux lettres (FR, BE, DE…).")
        values[name] = code
    if not values["country"]:
        values["country"] = "FR"
    if values["email"] and "@" not in values["email"]:
        raise FieldError("email", "E-mail invalide.")
    days = values["payment_terms_days"]
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 120:
        raise FieldError("payment_terms_days", "Délai de paiement : de 0 à 120 jours.")
    if values["kind"] == COMPANY:
        _check_company_ids(values)
    else:
        values["siren"] = values["siret"] = ""
    _check_public_sector(values)
    return replace(info, **values)


def _check_public_sector(values: dict) -> None:
    """Chorus Pro knows a public buyer by the SIRET of the receiving establishment: without
    it the deposit would be refused, so the customer is refused first."""
    if not isinstance(values["public_sector"], bool):
        raise FieldError("public_sector", "Client public : oui ou non attendu.")
    if not values["public_sector"]:
        return
    if values["kind"] != COMPANY or values["country"] != "FR":
        raise FieldError(
            "public_sector",
            "Seule une entité publique française (État, collectivité, établissement public) "
            "reçoit ses factures par Chorus Pro.",
        )
    if not values["siret"]:
        raise FieldError(
            "siret", "SIRET obligatoire pour un client public : Chorus Pro l'identifie ainsi."
        )


def _check_company_ids(values: dict) -> None:
    siren = _text(values["siren"], "siren", "SIREN").replace(" ", "")
    siret = _text(values["siret"], "siret", "SIRET").replace(" ", "")
    vat = _text(values["vat_number"], "vat_number", "N° TVA").replace(" ", "").upper()
    foreign = values["country"] != "FR"
    if siren:
        try:
            siren = fr_siren.validate(siren)
        except stdnum_errors.ValidationError:
            raise FieldError("siren", "SIREN invalide : 9 chiffres dont la clé.") from None
    if siret:
        try:
            siret = fr_siret.validate(siret)
        except stdnum_errors.ValidationError:
            raise FieldError("siret", "SIRET invalide : 14 chiffres dont la clé.") from None
        if siren and not siret.startswith(siren):
            raise FieldError("siret", "Le SIRET doit commencer par le SIREN de l'entreprise.")
        siren = siren or siret[:9]
    if not siren and not foreign:
        raise FieldError("siren", "SIREN obligatoire pour une entreprise française.")
    if vat:
        try:
            vat = eu_vat.validate(vat)
        except stdnum_errors.ValidationError:
            raise FieldError("vat_number", "Numéro de TVA intracommunautaire invalide.") from None
        if vat.startswith("FR") and siren and vat[4:] != siren:
            raise FieldError("vat_number", "Le numéro de TVA ne correspond pas au SIREN.")
    if foreign and not vat:
        raise FieldError("vat_number", "N° de TVA obligatoire pour une entreprise étrangère.")
    values["siren"], values["siret"], values["vat_number"] = siren, siret, vat


def _info(row: Customer) -> CustomerInfo:
    return CustomerInfo(**{f.name: getattr(row, f.name) for f in fields(CustomerInfo)})


def save_customer(session: Session, info: CustomerInfo) -> CustomerInfo:
    info = validate_customer(info)
    row = session.get(Customer, info.id) if info.id else Customer()
    if row is None:
        raise InvalidInput("Client introuvable.")
    for f in fields(CustomerInfo):
        if f.name != "id":
            setattr(row, f.name, getattr(info, f.name))
    session.add(row)
    session.flush()
    return _info(row)


def get_customer(session: Session, customer_id: int) -> CustomerInfo:
    row = session.get(Customer, customer_id)
    if row is None:
        raise InvalidInput("Client introuvable.")
    return _info(row)


def search_customers(
    session: Session, text: str = "", *, limit: int = 200, inactive: bool = False
) -> list[CustomerInfo]:
    """Customers whose name or city holds ``text``, or whose SIREN/SIRET starts with it
    (spaces ignored); only active ones unless ``inactive``."""
    query = select(Customer)
    if not inactive:
        query = query.where(Customer.active.is_(True))
    text = " ".join(text.split())
    if text:
        like = f"%{_escaped(text.lower())}%"
        digits = text.replace(" ", "")
        query = query.where(
            func.lower(Customer.name).like(like, escape="\\")
            | func.lower(Customer.city).like(like, escape="\\")
            | Customer.siren.like(f"{_escaped(digits)}%", escape="\\")
            | Customer.siret.like(f"{_escaped(digits)}%", escape="\\")
        )
    return [_info(r) for r in session.scalars(query.order_by(Customer.name).limit(limit))]


def _escaped(text: str) -> str:
    """``text`` for a LIKE pattern: its own % and _ match only themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
