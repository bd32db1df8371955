"""Sane limits for one ticket line: above them a line is possible but unusual, so the
till asks the cashier to confirm it (99,999 kg of apples is a typing slip, not a sale).

The hard limits (what can never be recorded) live in cart.py; these only flag a line.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.ledger.canonical import format_decimal
from app.sales.cart import CartLine
from app.values.money import format_cents


@dataclass(frozen=True)
class LineLimits:
    """Above any of these, a line needs the cashier's confirmation."""

    max_weight_kg: Decimal = Decimal(20)
    max_units: Decimal = Decimal(100)
    max_line_cents: int = 100_000  # 1 000,00 €


DEFAULT_LIMITS = LineLimits()


def _quantity_text(line: CartLine) -> str:
    text = format_decimal(line.quantity).replace(".", ",")
    return f"{text} kg" if line.weighed else f"{text} ×"


def unusual_line(line: CartLine, limits: LineLimits = DEFAULT_LIMITS) -> str | None:
    """A French sentence saying why ``line`` is unusual, or None when it is ordinary."""
    reasons: list[str] = []
    if line.weighed and line.quantity > limits.max_weight_kg:
        limit = format_decimal(limits.max_weight_kg)
        reasons.append(f"poids supérieur à {limit} kg")
    if not line.weighed and line.quantity > limits.max_units:
        reasons.append(f"plus de {format_decimal(limits.max_units)} articles")
    if line.net_cents > limits.max_line_cents:
        reasons.append(f"montant supérieur à {format_cents(limits.max_line_cents)}")
    if not reasons:
        return None
    return (
        f"{_quantity_text(line)} {line.label} = {format_cents(line.net_cents)} : "
        f"{', '.join(reasons)}."
    )
