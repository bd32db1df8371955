"""French VAT rates and the per-rate breakdown of VAT-inclusive totals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from app.errors import InvalidInput
from app.values.money import check_cents, round_half_up_div, shown, to_decimal

VAT_RATES_BP: tuple[int, ...] = (2000, 1000, 550, 210, 0)
"""Rates in basis points: 20 %, 10 %, 5,5 %, 2,1 %, 0 %."""

_BP_PER_UNIT = 10_000


def _unknown_rate(value: object) -> InvalidInput:
    known = ", ".join(format_rate(bp) for bp in VAT_RATES_BP)
    return InvalidInput(f"Taux de TVA inconnu : {shown(value)}. Taux possibles : {known}.")


def parse_rate(value: object) -> int:
    """A rate in basis points from basis points (int) or a percentage ("5,5", Decimal("20"))."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value in VAT_RATES_BP:
            return value
        raise _unknown_rate(value)
    if not isinstance(value, str | Decimal):
        raise _unknown_rate(value)
    text = value.strip().removesuffix("%") if isinstance(value, str) else value
    try:
        percent = to_decimal(text, "Taux de TVA")
    except InvalidInput:
        raise _unknown_rate(value) from None
    if 0 <= percent <= 100:
        bp = percent * 100
        if bp == bp.to_integral_value() and int(bp) in VAT_RATES_BP:
            return int(bp)
    raise _unknown_rate(value)


def check_rate_bp(value: object) -> int:
    """value itself, if it is one of VAT_RATES_BP as an int."""
    if isinstance(value, bool) or not isinstance(value, int) or value not in VAT_RATES_BP:
        raise _unknown_rate(value)
    return value


def format_rate(bp: int) -> str:
    """French display of a rate in basis points: "20 %", "5,5 %", "2,1 %"."""
    if isinstance(bp, bool) or not isinstance(bp, int) or not 0 <= bp < _BP_PER_UNIT:
        raise InvalidInput(f"Taux de TVA invalide : {shown(bp)}.")
    return f"{rate_number(bp)} %"


def rate_number(bp: int) -> str:
    """A rate in basis points as a bare French number of percent: "20", "5,5", "2,1" (the
    cells of a CSV file, where the column says it is a percentage)."""
    whole, fraction = divmod(bp, 100)
    if fraction == 0:
        return str(whole)
    return f"{whole},{f'{fraction:02d}'.rstrip('0')}"


@dataclass(frozen=True)
class VatLine:
    """VAT of one rate on a ticket: base + vat == total, all VAT-inclusive cents."""

    rate_bp: int
    base_cents: int
    vat_cents: int
    total_cents: int

    def negated(self) -> VatLine:
        return VatLine(self.rate_bp, -self.base_cents, -self.vat_cents, -self.total_cents)


def vat_of(total_cents: int, rate_bp: int) -> int:
    """The VAT contained in a VAT-inclusive amount, rounded half away from zero."""
    return round_half_up_div(total_cents * rate_bp, _BP_PER_UNIT + rate_bp)


def vat_breakdown(totals_by_rate: Mapping[int, int]) -> tuple[VatLine, ...]:
    """One VatLine per rate with a non-zero total, highest rate first.

    VAT is computed once on each rate's sum, not per line, so that the ticket, the day's
    closure and the invoice all derive the same VAT from the same totals.
    """
    result = []
    for rate, total in totals_by_rate.items():
        rate_bp = check_rate_bp(rate)
        total_cents = check_cents(total, "Total par taux de TVA")
        if total_cents == 0:
            continue
        vat = vat_of(total_cents, rate_bp)
        result.append(VatLine(rate_bp, total_cents - vat, vat, total_cents))
    return tuple(sorted(result, key=lambda line: line.rate_bp, reverse=True))
