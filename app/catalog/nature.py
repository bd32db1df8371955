"""What a product sells, as the e-reporting of B2C sales files it (DGFiP Flux 10.3)."""

from __future__ import annotations

from app.errors import InvalidInput

GOODS = "goods"
SERVICES = "services"
NOT_SUBJECT = "not_subject"  # not subject to French VAT (sold abroad, outside its scope)
MARGIN = "margin"  # margin scheme: second-hand goods, works of art, travel agents

NATURES = {
    GOODS: "Livraison de biens",
    SERVICES: "Prestation de services",
    NOT_SUBJECT: "Non soumis à la TVA française",
    MARGIN: "Régime de la marge",
}
# The Flux 10.3 category of each nature.
CATEGORY_CODES = {GOODS: "TLB1", SERVICES: "TPS1", NOT_SUBJECT: "TNT1", MARGIN: "TMA1"}


def default_nature(rate_bp: int) -> str:
    """The usual nature at a VAT rate: 10 % is mostly catering, transport and works
    (services); 0 % is mostly sales outside the scope of French VAT; the rest are goods."""
    if rate_bp == 1000:
        return SERVICES
    if rate_bp == 0:
        return NOT_SUBJECT
    return GOODS


def check_nature(nature: str | None) -> str | None:
    if nature is not None and nature not in NATURES:
        raise InvalidInput(f"Nature d'article inconnue : « {nature} ».")
    return nature


def nature_of(nature: str | None, rate_bp: int) -> str:
    """The nature set on a product, or the default for its VAT rate."""
    return nature or default_nature(rate_bp)
