"""Ringing up a sale: cart lines, discounts, VAT and payments.

Money is always an int of cents (VAT-inclusive unless a name says `excl`), quantities are
Decimal, rounding is half-up to the cent, and floats are refused everywhere.
"""

from __future__ import annotations

from app.sales.cart import (
    MAX_AMOUNT_CENTS,
    Cart,
    CartLine,
    Discount,
    PricedLine,
    TicketTotals,
    compute_totals,
    validate_label,
)
from app.sales.payments import Payment, PaymentMethod, Settlement, settle
from app.values.money import format_cents
from app.values.vat import VAT_RATES_BP, VatLine, format_rate, parse_rate, vat_breakdown

__all__ = [
    "MAX_AMOUNT_CENTS",
    "VAT_RATES_BP",
    "Cart",
    "CartLine",
    "Discount",
    "Payment",
    "PaymentMethod",
    "PricedLine",
    "Settlement",
    "TicketTotals",
    "VatLine",
    "compute_totals",
    "format_cents",
    "format_rate",
    "parse_rate",
    "settle",
    "validate_label",
    "vat_breakdown",
]
