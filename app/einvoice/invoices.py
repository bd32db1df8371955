"""Invoices and credit notes: computed excl. VAT per EN 16931, issued into the ledger.

An invoice is prepared as an ``InvoiceDraft`` (editable, not fiscal), priced by
``compute`` and frozen by ``issue_invoice``, which appends an INVOICE record whose body
holds everything the document shows: seller and buyer as they were, lines, allowances
and charges, VAT breakdown per category and totals (BT-106 to BT-115). Corrections are
credit notes that reference the invoice. The body format is read by
``app.einvoice.facturx`` to build the Factur-X XML and PDF.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.errors import InvalidInput
from app.sales.cart import Discount
from app.values.money import check_cents, round_half_up_div, to_decimal
from app.values.text import validate_label
from app.values.vat import VAT_RATES_BP

UNITS = {
    "C62": "pièce",
    "H87": "pièce",
    "KGM": "kg",
    "LTR": "litre",
    "MTR": "mètre",
    "HUR": "heure",
    "DAY": "jour",
    "MON": "mois",
    "SET": "lot",
}
# VAT categories (UNTDID 5305) and the exemption codes (VATEX) each needs.
# Each is named in plain French on screen; the code stays in the data.
CATEGORIES = {
    "S": "Taux normal ou réduit",
    "Z": "Taux zéro",
    "E": "Exonéré",
    "AE": "Autoliquidation",
    "K": "Livraison intracommunautaire (exonérée)",
    "G": "Exportation hors UE (exonérée)",
    "O": "Hors champ de la TVA",
}
EXEMPT_CATEGORIES = {"E", "AE", "K", "G", "O"}
DEFAULT_EXEMPTIONS = {
    "K": ("VATEX-EU-IC", "Exonération de TVA, article 262 ter I du CGI"),
    "AE": ("VATEX-EU-AE", "Autoliquidation, article 283-2 du CGI"),
    "G": ("VATEX-EU-G", "Exonération de TVA, article 262 I du CGI (exportation)"),
    "O": ("VATEX-EU-O", "Opération hors champ d'application de la TVA"),
}
DEFAULT_NOTES = {
    "PMT": "En cas de retard de paiement, indemnité forfaitaire pour frais de recouvrement "
    ": 40 € (art. L441-10 du Code de commerce).",
    "PMD": "Pénalités de retard : trois fois le taux d'intérêt légal, exigibles dès le "
    "lendemain de la date d'échéance.",
    "AAB": "Pas d'escompte pour paiement anticipé.",
}
MAX_LINES = 500
_FOUR = Decimal("0.0001")


@dataclass(frozen=True)
class InvoiceLineInput:
    """One line as typed in the editor. ``unit_price_cents`` is excl. or incl. VAT as the
    draft says; a free line has no product."""

    label: str
    quantity: Decimal
    unit_price_cents: int
    vat_rate_bp: int
    unit: str = "C62"
    category: str = "S"
    discount: Discount | None = None
    nature: str = "goods"  # goods | services
    exemption_code: str | None = None
    exemption_reason: str | None = None
    product_id: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", validate_label(self.label))
        quantity = to_decimal(self.quantity, "Quantité")
        if quantity <= 0 or quantity > Decimal(999_999):
            raise InvalidInput(f"« {self.label} » : quantité strictement positive attendue.")
        if quantity != quantity.quantize(Decimal("0.001")):
            raise InvalidInput(f"« {self.label} » : trois décimales au plus pour la quantité.")
        object.__setattr__(self, "quantity", quantity)
        if check_cents(self.unit_price_cents, "Prix unitaire") < 0:
            raise InvalidInput(f"« {self.label} » : le prix unitaire ne peut être négatif.")
        if self.unit not in UNITS:
            raise InvalidInput(f"Unité inconnue : {self.unit!r}.")
        if self.nature not in ("goods", "services"):
            raise InvalidInput("Nature de ligne : bien ou service.")
        if self.category not in CATEGORIES:
            raise InvalidInput(f"Catégorie de TVA inconnue : {self.category!r}.")
        if self.vat_rate_bp not in VAT_RATES_BP:
            raise InvalidInput(f"Taux de TVA inconnu : {self.vat_rate_bp!r}.")
        if self.category == "S" and self.vat_rate_bp == 0:
            raise InvalidInput(
                f"« {self.label} » : un taux de 0 % demande un motif d'exonération "
                "(catégorie exonérée, autoliquidation, intracommunautaire…)."
            )
        if self.category != "S" and self.vat_rate_bp != 0:
            raise InvalidInput(f"« {self.label} » : une ligne exonérée est à 0 %.")
        if self.category in EXEMPT_CATEGORIES:
            code, reason = DEFAULT_EXEMPTIONS.get(self.category, (None, None))
            object.__setattr__(self, "exemption_code", self.exemption_code or code)
            object.__setattr__(self, "exemption_reason", self.exemption_reason or reason)
            if not (self.exemption_code and self.exemption_reason):
                raise InvalidInput(
                    f"« {self.label} » : indiquez le motif d'exonération (code VATEX et texte)."
                )


@dataclass(frozen=True)
class Charge:
    """A document-level charge (shipping, packaging), excl. VAT, with its own rate."""

    reason: str
    amount_cents: int
    vat_rate_bp: int = 2000

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", validate_label(self.reason))
        if check_cents(self.amount_cents, "Frais") <= 0:
            raise InvalidInput("Un frais doit être strictement positif.")
        if self.vat_rate_bp not in VAT_RATES_BP:
            raise InvalidInput(f"Taux de TVA inconnu : {self.vat_rate_bp!r}.")


@dataclass(frozen=True)
class InvoiceDraft:
    customer_id: int
    lines: tuple[InvoiceLineInput, ...]
    prices_include_vat: bool = False
    document_discount: Discount | None = None
    charges: tuple[Charge, ...] = ()
    due_days: int | None = None  # None: the customer's payment terms
    payment_terms: str = ""
    note: str = ""
    purchase_order: str = ""  # BT-13: the buyer's order, or a public buyer's engagement number
    service_code: str = ""  # BT-10: the public buyer's service (Chorus Pro's code service)
    from_ticket: int | None = None  # ticket number this invoice documents
    payment_means: str = "30"  # UNTDID 4461: 30 credit transfer
    iban: str = ""
    vat_on_debits: bool | None = None  # None: the shop's option (Réglages)


@dataclass(frozen=True)
class Amounts:
    """The priced document: body parts ready to be recorded."""

    lines: list[dict[str, Any]]
    allowances: list[dict[str, Any]]
    charges: list[dict[str, Any]]
    vat_breakdown: list[dict[str, Any]]
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def vat_per_rate(self) -> list[dict[str, int]]:
        per_rate: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for row in self.vat_breakdown:
            per_rate[row["rate"]][0] += row["base"]
            per_rate[row["rate"]][1] += row["vat"]
        return [
            {"rate": rate, "base": base, "vat": vat, "total": base + vat}
            for rate, (base, vat) in sorted(per_rate.items(), reverse=True)
        ]

    def body_fields(self, paid: int = 0) -> dict[str, Any]:
        """The amounts as a recorded body holds them (invoice, credit note, self-billed
        document alike): lines, allowances, charges, VAT, totals, and what is left due
        after ``paid``."""
        return {
            "lines": self.lines,
            "allowances": self.allowances,
            "charges": self.charges,
            "vat_breakdown": self.vat_breakdown,
            "vat": self.vat_per_rate,
            **self.totals,
            "paid": paid,
            "due": self.totals["total"] - paid,
            "payments": [],
        }


def excl_vat(amount: int, rate_bp: int) -> int:
    """An amount including VAT at ``rate_bp``, without it: exact, rounded half up to the
    cent (the rule every invoice amount follows; never a float)."""
    return round_half_up_div(amount * 10_000, 10_000 + rate_bp)


def _spread(amount: int, weights: list[int]) -> list[int]:
    """Share ``amount`` in proportion to ``weights`` (largest remainder, exact sum)."""
    total = sum(weights)
    if total <= 0:
        return [0] * len(weights)
    shares = [amount * w // total for w in weights]
    rest = amount - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: -(amount * weights[i] % total))
    for i in order[:rest]:
        shares[i] += 1
    return shares


def compute(draft: InvoiceDraft) -> Amounts:
    """Price a draft: line nets excl. VAT, document allowances spread per VAT group,
    charges, VAT once per (category, rate) group, and the EN 16931 totals."""
    if not draft.lines:
        raise InvalidInput("La facture n'a aucune ligne.")
    if len(draft.lines) > MAX_LINES:
        raise InvalidInput(f"Une facture compte au plus {MAX_LINES} lignes.")
    return summarize(price_lines(draft), draft.document_discount, draft.charges)


def price_lines(draft: InvoiceDraft) -> list[dict[str, Any]]:
    """Each line's amounts excl. VAT: gross, discount and net (BT-131)."""
    lines = []
    for line in draft.lines:
        gross = int((line.quantity * line.unit_price_cents).quantize(1, ROUND_HALF_UP))
        discount = line.discount.apply_to(gross) if line.discount else 0
        if draft.prices_include_vat:
            net = excl_vat(gross - discount, line.vat_rate_bp)
            gross_excl = excl_vat(gross, line.vat_rate_bp)
            discount_excl = gross_excl - net
            unit_excl = Decimal(line.unit_price_cents) * 10_000 / (10_000 + line.vat_rate_bp)
        else:
            net, gross_excl, discount_excl = gross - discount, gross, discount
            unit_excl = Decimal(line.unit_price_cents)
        lines.append(
            {
                "label": line.label,
                "qty": format(line.quantity.normalize(), "f"),
                "unit": line.unit,
                "unit_price": line.unit_price_cents,
                "net_price": format((unit_excl / 100).quantize(_FOUR, ROUND_HALF_UP), "f"),
                "rate": line.vat_rate_bp,
                "category": line.category,
                "exemption_code": line.exemption_code,
                "exemption_reason": line.exemption_reason,
                "gross": gross_excl,
                "discount": discount_excl,
                "net": net,
                "nature": line.nature,
                "product_id": line.product_id,
            }
        )
    return lines


def summarize(
    lines: list[dict[str, Any]],
    document_discount: Discount | None = None,
    charges_in: tuple[Charge, ...] = (),
) -> Amounts:
    """Allowances, charges, VAT breakdown and totals over priced lines."""
    groups: dict[tuple[str, int], int] = defaultdict(int)
    exemptions: dict[tuple[str, int], tuple[str | None, str | None]] = {}
    for line in lines:
        key = (line["category"], line["rate"])
        groups[key] += line["net"]
        exemptions.setdefault(key, (line["exemption_code"], line["exemption_reason"]))
    total_lines = sum(groups.values())
    allowances = []
    if document_discount is not None:
        amount = document_discount.apply_to(total_lines)
        keys = sorted(groups)
        for key, share in zip(keys, _spread(amount, [groups[k] for k in keys]), strict=True):
            if share:
                allowances.append(
                    {
                        "amount": share,
                        "base": groups[key],
                        "percent": None
                        if document_discount.percent is None
                        else format(document_discount.percent.normalize(), "f"),
                        "rate": key[1],
                        "category": key[0],
                        "reason": "Remise",
                    }
                )
    charges = []
    for charge in charges_in:
        category = "S" if charge.vat_rate_bp else "E"
        charges.append(
            {
                "amount": charge.amount_cents,
                "rate": charge.vat_rate_bp,
                "category": category,
                "reason": charge.reason,
            }
        )
        exemptions.setdefault((category, charge.vat_rate_bp), (None, None))
    bases = dict(groups)
    for allowance in allowances:
        bases[(allowance["category"], allowance["rate"])] -= allowance["amount"]
    for charge in charges:
        key = (charge["category"], charge["rate"])
        bases[key] = bases.get(key, 0) + charge["amount"]
    breakdown = []
    for (category, rate), base in sorted(bases.items(), key=lambda kv: (-kv[0][1], kv[0][0])):
        code, reason = exemptions.get((category, rate), (None, None))
        breakdown.append(
            {
                "category": category,
                "rate": rate,
                "base": base,
                "vat": round_half_up_div(base * rate, 10_000),
                "exemption_code": code,
                "exemption_reason": reason,
            }
        )
    total_allowances = sum(a["amount"] for a in allowances)
    total_charges = sum(c["amount"] for c in charges)
    total_excl = total_lines - total_allowances + total_charges
    total_vat = sum(b["vat"] for b in breakdown)
    if total_excl <= 0:
        raise InvalidInput("Le total de la facture doit être positif.")
    check_cents(total_excl + total_vat, "Total de la facture")
    totals = {
        "total_lines": total_lines,
        "total_allowances": total_allowances,
        "total_charges": total_charges,
        "total_excl": total_excl,
        "total_vat": total_vat,
        "total": total_excl + total_vat,
    }
    return Amounts(lines, allowances, charges, breakdown, totals)


def operation_of(lines: list[dict[str, Any]]) -> tuple[str, str]:
    """Nature of the operation and its BT-23 code (B1 goods, S1 services, M1 mixed)."""
    natures = {line["nature"] for line in lines}
    if natures == {"goods"}:
        return "goods", "B1"
    if natures == {"services"}:
        return "services", "S1"
    return "mixed", "M1"


def due_date(issue: date, days: int) -> date:
    if not 0 <= days <= 120:
        raise InvalidInput("Échéance : de 0 à 120 jours après la date de facture.")
    return issue + timedelta(days=days)
