"""Issued invoice bodies (as recorded in the ledger) for the Factur-X tests.

Each scenario returns ``(envelope, body)``. Amounts are computed here, independently of
``app.einvoice.invoices``, with the EN 16931 arithmetic the schematrons check: line nets,
document allowances and charges per VAT category, VAT once per category and rate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

from stdnum import luhn

from app.values.money import round_half_up_div

Body = dict[str, Any]
Scenario = tuple[dict[str, Any], Body]


def company(name: str, siren: str, address: str, **fields: str) -> dict[str, Any]:
    """A French company in Lyon with a consistent SIRET (head office) and VAT number."""
    head_office = siren + "0001"
    vat_key = (12 + 3 * (int(siren) % 97)) % 97
    return {
        "kind": "company", "name": name, "siren": siren, "vat_number": f"FR{vat_key:02d}{siren}",
        "siret": head_office + luhn.calc_check_digit(head_office), "address": address,
        "postcode": "69002", "city": "Lyon", "country": "FR", "electronic_address": siren,
        "email": "", **fields,
    }  # fmt: skip


SELLER = company("Épicerie Fine du Marché", "842159378", "12 rue des Halles")
SELLER.update(legal_form="SARL au capital de 8 000 €", phone="04 78 00 00 00")
COMPANY = company(
    "Restaurant Le Bouchon SAS", "901873646", "3 place Bellecour\nBâtiment B",
    email="compta@lebouchon.example",
)  # fmt: skip
ARTISAN = company(
    "Atelier Martin EURL", "412536781", "8 rue Mercière", electronic_address="412536781_FACTURES"
)
EU_COMPANY = {
    "kind": "company", "name": "Feinkost Müller GmbH", "siren": "", "siret": "",
    "vat_number": "DE811907980", "address": "Marktstraße 5", "postcode": "80331",
    "city": "München", "country": "DE", "electronic_address": "",
    "email": "einkauf@feinkost-mueller.example",
}  # fmt: skip
PERSON = {
    "kind": "person", "name": "Claire Dubois", "siren": "", "siret": "", "vat_number": "",
    "address": "41 quai Saint-Vincent", "postcode": "69001", "city": "Lyon", "country": "FR",
    "electronic_address": "", "email": "claire.dubois@example.org",
}  # fmt: skip
NOTES = {
    "PMT": "En cas de retard de paiement, indemnité forfaitaire pour frais de recouvrement "
    ": 40 € (art. L441-10 du Code de commerce).",
    "PMD": "Pénalités de retard : trois fois le taux d'intérêt légal, exigibles dès le "
    "lendemain de la date d'échéance.",
    "AAB": "Pas d'escompte pour paiement anticipé.",
}
IBAN = "FR7630006000011234567890189"
EXEMPT_E = ("VATEX-FR-CGI261-4", "Exonération de TVA, article 261-4-4° du CGI")
EXEMPT_K = ("VATEX-EU-IC", "Exonération de TVA, article 262 ter I du CGI")
EXEMPT_AE = ("VATEX-EU-AE", "Autoliquidation, article 283-2 du CGI")
_FOUR = Decimal("0.0001")


def line(
    label: str,
    qty: str,
    unit_price: int,
    rate: int = 2000,
    *,
    unit: str = "C62",
    category: str = "S",
    discount_pct: int = 0,
    nature: str = "goods",
    exemption: tuple[str, str] | None = None,
    incl_vat: bool = False,
) -> dict[str, Any]:
    """One priced line; with ``incl_vat`` the unit price is VAT-inclusive (till prices)."""
    gross = int((Decimal(qty) * unit_price).quantize(1, ROUND_HALF_UP))
    discount = round_half_up_div(gross * discount_pct, 100)
    unit_excl = Decimal(unit_price)
    if incl_vat:
        unit_excl = Decimal(unit_price) * 10_000 / (10_000 + rate)
        net = round_half_up_div((gross - discount) * 10_000, 10_000 + rate)
        gross = round_half_up_div(gross * 10_000, 10_000 + rate)
        discount = gross - net
    return {
        "label": label,
        "qty": qty,
        "unit": unit,
        "unit_price": unit_price,
        "net_price": format((unit_excl / 100).quantize(_FOUR, ROUND_HALF_UP), "f"),
        "rate": rate,
        "category": category,
        "exemption_code": exemption[0] if exemption else None,
        "exemption_reason": exemption[1] if exemption else None,
        "gross": gross,
        "discount": discount,
        "net": gross - discount,
        "nature": nature,
    }


service = partial(line, nature="services")
exempt = partial(line, rate=0, category="E", nature="services", exemption=EXEMPT_E)
intra_community = partial(line, rate=0, category="K", exemption=EXEMPT_K)
reverse_charge = partial(line, rate=0, category="AE", nature="services", exemption=EXEMPT_AE)


def _operation(lines: list[dict[str, Any]]) -> tuple[str, str]:
    natures = {item["nature"] for item in lines}
    if natures == {"goods"}:
        return "goods", "B1"
    return ("services", "S1") if natures == {"services"} else ("mixed", "M1")


def build_body(
    lines: list[dict[str, Any]],
    *,
    number: str,
    buyer: dict[str, Any],
    issue_date: str = "2026-11-22",
    due_date: str = "2026-12-22",
    allowance_pct: int = 0,
    charges: tuple[tuple[str, int, int], ...] = (),
    delivery: dict[str, Any] | None = None,
    vat_on_debits: bool = False,
    prices_include_vat: bool = False,
    paid: int = 0,
    bar: str = "B2B",
    terms: str = "Paiement à 30 jours, par virement",
    means: str = "30",
    free_note: str = "",
) -> Body:
    """A complete, internally consistent invoice body."""
    groups: dict[tuple[str, int], int] = defaultdict(int)
    exemptions: dict[tuple[str, int], tuple[str | None, str | None]] = {}
    for item in lines:
        key = (item["category"], item["rate"])
        groups[key] += item["net"]
        exemptions.setdefault(key, (item["exemption_code"], item["exemption_reason"]))
    bases = dict(groups)
    allowances = []
    for (category, rate), base in sorted(groups.items()):
        amount = round_half_up_div(base * allowance_pct, 100)
        if amount:
            allowances.append({
                "amount": amount, "base": base, "percent": str(allowance_pct), "rate": rate,
                "category": category, "reason": "Remise",
            })  # fmt: skip
            bases[(category, rate)] -= amount
    charge_rows = []
    for reason, amount, rate in charges:
        charge_rows.append({"amount": amount, "rate": rate, "category": "S", "reason": reason})
        bases[("S", rate)] = bases.get(("S", rate), 0) + amount
    breakdown = []
    for (category, rate), base in sorted(bases.items(), key=lambda kv: (-kv[0][1], kv[0][0])):
        code, reason = exemptions.get((category, rate), (None, None))
        breakdown.append({
            "category": category, "rate": rate, "base": base,
            "vat": round_half_up_div(base * rate, 10_000),
            "exemption_code": code, "exemption_reason": reason,
        })  # fmt: skip
    per_rate: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in breakdown:
        per_rate[row["rate"]][0] += row["base"]
        per_rate[row["rate"]][1] += row["vat"]
    total_lines = sum(item["net"] for item in lines)
    total_allowances = sum(a["amount"] for a in allowances)
    total_charges = sum(c["amount"] for c in charge_rows)
    total_excl = total_lines - total_allowances + total_charges
    total_vat = sum(row["vat"] for row in breakdown)
    total = total_excl + total_vat
    operation, process = _operation(lines)
    return {
        "doc": "invoice", "number": number, "type_code": "380",
        "issue_date": issue_date, "due_date": due_date, "currency": "EUR",
        "seller": dict(SELLER), "buyer": dict(buyer), "delivery": delivery,
        "operation": operation, "business_process": process,
        "vat_on_debits": vat_on_debits, "prices_include_vat": prices_include_vat,
        "lines": lines, "allowances": allowances, "charges": charge_rows,
        "vat_breakdown": breakdown,
        "vat": [{"rate": r, "base": b, "vat": v, "total": b + v}
                for r, (b, v) in sorted(per_rate.items(), reverse=True)],
        "total_lines": total_lines, "total_allowances": total_allowances,
        "total_charges": total_charges, "total_excl": total_excl, "total_vat": total_vat,
        "total": total, "paid": paid, "due": total - paid,
        "payment_terms": terms, "payment_means": {"code": means, "iban": IBAN},
        "notes": {**NOTES, "BAR": bar, "free": free_note},
        "preceding": None, "from_ticket": None, "reason": None,
    }  # fmt: skip


def envelope_of(body: Body, seq: int = 42) -> dict[str, Any]:
    credit = body["doc"] == "credit_note"
    return {
        "v": 1, "seq": seq, "type": "CREDIT_NOTE" if credit else "INVOICE",
        "number": int(body["number"].rsplit("-", 1)[1]),
        "ts": f"{body['issue_date']}T10:15:00.000000Z", "date": body["issue_date"],
        "till": "CAISSE-1", "operator": "Alice", "ref": None, "period": None, "body": body,
    }  # fmt: skip


def _scenario(body: Body) -> Scenario:
    return envelope_of(body), body


def multi_rate_goods() -> Scenario:
    delivery = {"name": "Restaurant Le Bouchon — cuisine", "address": "17 rue de la Charité"}
    delivery.update(postcode="69002", city="Lyon", country="FR")
    return _scenario(
        build_body(
            [
                line("Huile d'olive vierge extra 75 cl", "6", 1450, 2000),
                line("Comté AOP 24 mois", "2.350", 3290, 550, unit="KGM"),
                line("Café grains bio 1 kg", "3", 2490, 550),
                line("Tablette chocolat noir 70 %", "12", 390, 550),
                line("Vin rouge Côtes-du-Rhône 75 cl", "12", 1150, 2000),
                line("Terrine de campagne (à emporter)", "4", 780, 1000),
            ],
            number="F2026-000123",
            buyer=COMPANY,
            delivery=delivery,
            free_note="Livraison le matin avant 10 h.",
        )
    )


def services_vat_on_debits() -> Scenario:
    return _scenario(
        build_body(
            [
                service("Atelier dégustation (animation)", "3", 6500, unit="HUR"),
                service("Conseil aménagement de cave", "1.5", 48000, unit="DAY"),
            ],
            number="F2026-000124",
            buyer=COMPANY,
            vat_on_debits=True,
        )
    )


def mixed() -> Scenario:
    return _scenario(
        build_body(
            [
                line("Coffret cadeau garni", "10", 3990, 550),
                service("Composition et emballage des coffrets", "2", 4500, unit="HUR"),
            ],
            number="F2026-000125",
            buyer=COMPANY,
            due_date="2026-12-07",
            terms="Paiement à 15 jours, par virement",
        )
    )


def discounts_and_charges() -> Scenario:
    return _scenario(
        build_body(
            [
                line("Miel de lavande 500 g", "24", 890, 550, discount_pct=10),
                line("Vinaigre balsamique 25 cl", "10", 1275, 2000, discount_pct=5),
                line("Sel de Guérande 1 kg", "5", 420, 550),
            ],
            number="F2026-000126",
            buyer=COMPANY,
            allowance_pct=3,
            charges=(("Frais de livraison", 1500, 2000), ("Emballage isotherme", 350, 2000)),
        )
    )


def exempt_training_course() -> Scenario:
    return _scenario(
        build_body(
            [
                exempt("Formation « accords mets et vins » (1 journée)", "1", 18000, unit="DAY"),
                exempt("Support de cours imprimé", "1", 1500),
            ],
            number="F2026-000127",
            buyer=PERSON,
            bar="B2C",
            terms="Paiement à réception",
            due_date="2026-11-22",
        )
    )


def intra_eu() -> Scenario:
    body = build_body(
        [
            intra_community("Huile d'olive vierge extra 75 cl", "48", 1450),
            intra_community("Moutarde à l'ancienne 210 g", "60", 320),
            reverse_charge("Formation produits (visioconférence)", "2", 9000, unit="HUR"),
        ],
        number="F2026-000128",
        buyer=EU_COMPANY,
        bar="B2BINT",
        terms="Paiement à 30 jours, par virement SEPA",
        means="58",
    )
    return _scenario(body)


def _credit(invoice: Body, number: str, lines: list[dict[str, Any]], reason: str) -> Body:
    body = build_body(
        lines,
        number=number,
        buyer=invoice["buyer"],
        issue_date="2026-11-25",
        due_date="2026-11-25",
        delivery=invoice["delivery"],
        terms="Remboursement par virement sous 8 jours",
    )
    body.update(doc="credit_note", type_code="381", reason=reason)
    body["preceding"] = {"number": invoice["number"], "date": invoice["issue_date"]}
    return body


def credit_full() -> Scenario:
    _, invoice = multi_rate_goods()
    return _scenario(
        _credit(invoice, "AV2026-000004", invoice["lines"], "Annulation de la commande")
    )


def credit_partial() -> Scenario:
    _, invoice = multi_rate_goods()
    first = invoice["lines"][0]
    back = [line(first["label"], "2", first["unit_price"], first["rate"])]
    return _scenario(_credit(invoice, "AV2026-000005", back, "Deux bouteilles cassées"))


def from_ticket() -> Scenario:
    body = build_body(
        [
            line("Panier garni « Terroir »", "1", 4590, 550, incl_vat=True),
            line("Bouteille de cidre brut", "3", 690, 2000, incl_vat=True, discount_pct=10),
            line("Tarte aux pralines", "1", 1850, 550, incl_vat=True),
        ],
        number="F2026-000129",
        buyer=ARTISAN,
        prices_include_vat=True,
        due_date="2026-11-22",
        terms="Payée au comptant",
        means="10",
    )
    body["paid"], body["due"] = body["total"], 0
    body["from_ticket"] = {"seq": 37, "number": 318}
    return _scenario(body)


def public_buyer() -> Scenario:
    """A public-sector buyer on Chorus Pro: its service code (BT-10) and the engagement
    number of the order (BT-13)."""
    body = build_body(
        [line("Fournitures de bureau", "10", 450, 2000)],
        number="F2026-000130",
        buyer=COMPANY,
    )
    body["service_code"] = "SERV-ACHATS-01"
    body["purchase_order"] = "EJ-2026-004512"
    return _scenario(body)


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    scenario.__name__: scenario
    for scenario in (
        multi_rate_goods, services_vat_on_debits, mixed, discounts_and_charges,
        exempt_training_course, intra_eu, credit_full, credit_partial, from_ticket,
        public_buyer,
    )
}  # fmt: skip
