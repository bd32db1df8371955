"""The ticket being rung up: lines, discounts and totals, all in integer cents.

Prices are VAT-inclusive, as on the shelf. A weighed item's unit price is per kilogram and
its quantity is in kilograms (to the gram); other items are sold by whole units.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from app.errors import InvalidInput
from app.values.money import (
    MAX_AMOUNT_CENTS,
    check_cents,
    format_cents,
    round_half_up_div,
    shown,
    to_decimal,
)
from app.values.text import MAX_LABEL_CHARS, validate_label
from app.values.vat import VatLine, check_rate_bp, vat_breakdown

__all__ = [
    "MAX_AMOUNT_CENTS",
    "MAX_LABEL_CHARS",
    "MAX_QUANTITY",
    "Cart",
    "CartLine",
    "Discount",
    "PricedLine",
    "TicketTotals",
    "compute_totals",
    "validate_label",
]

MAX_QUANTITY = Decimal("99999")

_GRAM = Decimal("0.001")
_PERCENT_STEP = Decimal("0.01")


@dataclass(frozen=True)
class Discount:
    """A discount: either a percentage (0 < p <= 100, two decimals at most) or an amount."""

    percent: Decimal | None = None
    amount_cents: int | None = None

    def __post_init__(self) -> None:
        if (self.percent is None) == (self.amount_cents is None):
            raise InvalidInput("Une remise est soit un pourcentage, soit un montant.")
        if self.percent is not None:
            percent = to_decimal(self.percent, "Remise")
            if not 0 < percent <= 100:
                raise InvalidInput("Une remise en pourcentage doit être comprise entre 0 et 100 %.")
            if percent != percent.quantize(_PERCENT_STEP):
                raise InvalidInput("Une remise en pourcentage a au plus deux décimales.")
            object.__setattr__(self, "percent", percent)
        elif check_cents(self.amount_cents, "Remise") <= 0:
            raise InvalidInput("Une remise doit être strictement positive.")

    @classmethod
    def percent_of(cls, percent: Decimal) -> Discount:
        return cls(percent=percent)

    @classmethod
    def amount(cls, cents: int) -> Discount:
        return cls(amount_cents=cents)

    def apply_to(self, gross_cents: int) -> int:
        """The discount in cents on gross_cents, never more than gross_cents."""
        gross = check_cents(gross_cents, "Montant remisé")
        if gross < 0:
            raise InvalidInput("Une remise s'applique à un montant positif.")
        if self.percent is not None:
            numerator, denominator = self.percent.as_integer_ratio()
            return round_half_up_div(gross * numerator, denominator * 100)
        assert self.amount_cents is not None
        return min(self.amount_cents, gross)


def _check_quantity(value: object, weighed: bool) -> Decimal:
    quantity = to_decimal(value, "Quantité")
    if quantity <= 0:
        raise InvalidInput("La quantité doit être strictement positive.")
    if quantity > MAX_QUANTITY:
        raise InvalidInput(f"La quantité ne doit pas dépasser {MAX_QUANTITY}.")
    if weighed:
        if quantity != quantity.quantize(_GRAM):
            raise InvalidInput("Un poids se saisit au gramme près (trois décimales au plus).")
        return quantity.quantize(_GRAM)
    if quantity != quantity.to_integral_value():
        raise InvalidInput(
            "Cet article se vend à l'unité : la quantité doit être un nombre entier."
        )
    return Decimal(int(quantity))


def _check_ean(value: object) -> str | None:
    if value is None:
        return None
    code = value.strip() if isinstance(value, str) else ""
    if not (code.isascii() and code.isdigit() and 8 <= len(code) <= 14):
        raise InvalidInput(f"Code-barres invalide : {shown(value)}.")
    return code


@dataclass(frozen=True)
class CartLine:
    """One line of a ticket, checked on creation; quantities are normalised (2 pieces, 0.347 kg)."""

    label: str
    unit_price_cents: int
    quantity: Decimal
    vat_rate_bp: int
    discount: Discount | None = None
    ean: str | None = None
    product_id: int | None = None
    weighed: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", validate_label(self.label))
        if check_cents(self.unit_price_cents, "Prix unitaire") < 0:
            raise InvalidInput("Le prix unitaire ne peut pas être négatif.")
        check_rate_bp(self.vat_rate_bp)
        if not isinstance(self.weighed, bool):
            raise InvalidInput("L'indication « article pesé » doit être oui ou non.")
        object.__setattr__(self, "quantity", _check_quantity(self.quantity, self.weighed))
        if self.discount is not None and not isinstance(self.discount, Discount):
            raise InvalidInput("Remise invalide.")
        object.__setattr__(self, "ean", _check_ean(self.ean))
        product_id = self.product_id
        if product_id is not None and (
            isinstance(product_id, bool) or not isinstance(product_id, int) or product_id <= 0
        ):
            raise InvalidInput(f"Identifiant d'article invalide : {shown(product_id)}.")
        gross = self.gross_cents
        if gross >= MAX_AMOUNT_CENTS:
            raise InvalidInput(f"Le montant de la ligne {shown(self.label)} est trop élevé.")
        amount = self.discount.amount_cents if self.discount is not None else None
        if amount is not None and amount > gross:
            raise InvalidInput(
                f"La remise ({format_cents(amount)}) dépasse le montant de la ligne "
                f"{shown(self.label)} ({format_cents(gross)})."
            )

    @property
    def gross_cents(self) -> int:
        """unit price x quantity, rounded to the cent."""
        numerator, denominator = self.quantity.as_integer_ratio()
        return round_half_up_div(self.unit_price_cents * numerator, denominator)

    @property
    def discount_cents(self) -> int:
        return 0 if self.discount is None else self.discount.apply_to(self.gross_cents)

    @property
    def net_cents(self) -> int:
        return self.gross_cents - self.discount_cents


@dataclass(frozen=True)
class PricedLine:
    """A line with its amounts; ticket_discount_cents is its share of the ticket discount."""

    line: CartLine
    gross_cents: int
    line_discount_cents: int
    ticket_discount_cents: int
    total_cents: int

    def negated(self) -> PricedLine:
        return PricedLine(
            self.line,
            -self.gross_cents,
            -self.line_discount_cents,
            -self.ticket_discount_cents,
            -self.total_cents,
        )


@dataclass(frozen=True)
class TicketTotals:
    """Totals of a ticket; line totals, VAT lines and total_cents agree to the cent."""

    lines: tuple[PricedLine, ...]
    vat: tuple[VatLine, ...]
    ticket_discount_cents: int
    total_cents: int
    total_excl_cents: int
    total_vat_cents: int

    def negated(self) -> TicketTotals:
        """The same totals with every amount negated, for a ticket that cancels this one."""
        return TicketTotals(
            lines=tuple(line.negated() for line in self.lines),
            vat=tuple(vat.negated() for vat in self.vat),
            ticket_discount_cents=-self.ticket_discount_cents,
            total_cents=-self.total_cents,
            total_excl_cents=-self.total_excl_cents,
            total_vat_cents=-self.total_vat_cents,
        )


def _spread(amount: int, weights: Sequence[int]) -> list[int]:
    """amount split in proportion to weights (>= 0) by largest remainder; shares sum to amount."""
    total = sum(weights)
    if amount == 0 or total == 0:
        return [0] * len(weights)
    shares: list[int] = []
    remainders: list[int] = []
    for weight in weights:
        share, remainder = divmod(amount * weight, total)
        shares.append(share)
        remainders.append(remainder)
    leftover = amount - sum(shares)
    # Ties go to the earlier line so that the same ticket always splits the same way.
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:leftover]:
        shares[i] += 1
    return shares


def compute_totals(
    lines: Iterable[CartLine], ticket_discount: Discount | None = None
) -> TicketTotals:
    """Price a ticket: line discounts, then the ticket discount spread over lines, then VAT."""
    lines = tuple(lines)
    if not all(isinstance(line, CartLine) for line in lines):
        raise InvalidInput("Ligne de ticket invalide.")
    if ticket_discount is not None and not isinstance(ticket_discount, Discount):
        raise InvalidInput("Remise sur le ticket invalide.")
    nets = [line.net_cents for line in lines]
    subtotal = sum(nets)
    if subtotal >= MAX_AMOUNT_CENTS:
        limit = format_cents(MAX_AMOUNT_CENTS - 1)
        raise InvalidInput(f"Le total du ticket est trop élevé (au plus {limit}).")
    ticket_cents = 0
    if ticket_discount is not None:
        amount = ticket_discount.amount_cents
        if amount is not None and amount > subtotal:
            raise InvalidInput(
                f"La remise sur le ticket ({format_cents(amount)}) dépasse le total des lignes "
                f"({format_cents(subtotal)})."
            )
        ticket_cents = ticket_discount.apply_to(subtotal)
    shares = _spread(ticket_cents, nets)
    priced = tuple(
        PricedLine(line, line.gross_cents, line.discount_cents, share, net - share)
        for line, net, share in zip(lines, nets, shares, strict=True)
    )
    by_rate: dict[int, int] = {}
    for item in priced:
        rate = item.line.vat_rate_bp
        by_rate[rate] = by_rate.get(rate, 0) + item.total_cents
    vat = vat_breakdown(by_rate)
    total = subtotal - ticket_cents
    total_vat = sum(line.vat_cents for line in vat)
    return TicketTotals(priced, vat, ticket_cents, total, total - total_vat, total_vat)


class Cart:
    """The ticket being rung up, for the till's GUI model.

    A change that would make the ticket invalid (total too high, ticket discount larger
    than the lines) is refused as a whole and leaves the cart as it was, so totals() never
    fails.
    """

    def __init__(self) -> None:
        self._lines: list[CartLine] = []
        self._ticket_discount: Discount | None = None
        self._totals = compute_totals(())

    @property
    def lines(self) -> tuple[CartLine, ...]:
        return tuple(self._lines)

    def __len__(self) -> int:
        return len(self._lines)

    @property
    def is_empty(self) -> bool:
        return not self._lines

    @property
    def ticket_discount(self) -> Discount | None:
        return self._ticket_discount

    @ticket_discount.setter
    def ticket_discount(self, discount: Discount | None) -> None:
        self._commit(self._lines, discount)

    def add(self, line: CartLine) -> int:
        """Append a line; returns its index."""
        self._commit([*self._lines, line], self._ticket_discount)
        return len(self._lines) - 1

    def replace(self, index: int, line: CartLine) -> None:
        lines = list(self._lines)
        lines[self._check_index(index)] = line
        self._commit(lines, self._ticket_discount)

    def set_quantity(self, index: int, quantity: Decimal | int | str) -> None:
        line = self._lines[self._check_index(index)]
        self.replace(index, dataclasses.replace(line, quantity=quantity))

    def set_line_discount(self, index: int, discount: Discount | None) -> None:
        line = self._lines[self._check_index(index)]
        self.replace(index, dataclasses.replace(line, discount=discount))

    def remove(self, index: int) -> None:
        lines = list(self._lines)
        del lines[self._check_index(index)]
        self._commit(lines, self._ticket_discount)

    def clear(self) -> None:
        """Start a new ticket: no lines, no ticket discount."""
        self._commit([], None)

    def totals(self) -> TicketTotals:
        return self._totals

    def _check_index(self, index: int) -> int:
        if isinstance(index, bool) or not isinstance(index, int):
            raise InvalidInput(f"Numéro de ligne invalide : {shown(index)}.")
        if not 0 <= index < len(self._lines):
            raise InvalidInput(f"La ligne n° {index + 1} n'existe pas.")
        return index

    def _commit(self, lines: Sequence[CartLine], ticket_discount: Discount | None) -> None:
        totals = compute_totals(lines, ticket_discount)
        self._lines = list(lines)
        self._ticket_discount = ticket_discount
        self._totals = totals
