"""Amounts in integer cents and numbers typed at the till: checks, rounding, French display."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from app.errors import InvalidInput

MAX_AMOUNT_CENTS = 10**11
"""Any amount whose absolute value reaches this (one billion euros) is refused."""

THOUSANDS_SEPARATOR = "\u202f"
EURO_SUFFIX = " €"

# ASCII digits only: Decimal() would also take "NaN", "1e9", "1_0" and Arabic-Indic digits.
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)")
_SHOWN_MAX_CHARS = 24


def round_half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to an integer, halves away from zero (ROUND_HALF_UP)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def check_cents(value: object, what: str) -> int:
    """value as a number of cents below MAX_AMOUNT_CENTS; `what` names it in the message."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{what} : le montant doit être un nombre entier de centimes.")
    if abs(value) >= MAX_AMOUNT_CENTS:
        limit = format_cents(MAX_AMOUNT_CENTS - 1)
        raise InvalidInput(f"{what} : montant trop élevé (au plus {limit}).")
    return value


def to_decimal(value: object, what: str) -> Decimal:
    """A finite Decimal from a Decimal, an int or a typed string ("0,347"); floats are refused."""
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, str) and _NUMBER_RE.fullmatch(value.strip()):
        number = Decimal(value.strip().replace(",", "."))
    else:
        raise InvalidInput(f"{what} : {shown(value)} n'est pas un nombre valide.")
    if not number.is_finite():
        raise InvalidInput(f"{what} : {shown(value)} n'est pas un nombre valide.")
    return number


def format_cents(cents: int) -> str:
    """French display of an amount: "1 234,50 €" (narrow no-break space between thousands)."""
    return _french_decimal(cents, grouped=True) + EURO_SUFFIX


@lru_cache(maxsize=1 << 16, typed=True)  # exports format millions of repeated amounts
def plain_cents(cents: int) -> str:
    """An amount as a bare French decimal, "-1234,50": no thousands separator and no
    currency sign, so that a spreadsheet reads it as a number (CSV files, archives, FEC)."""
    return _french_decimal(cents, grouped=False)


def group_thousands(number: int) -> str:
    """A whole number with French digit grouping: "1 234 567" (narrow no-break spaces)."""
    return f"{number:,}".replace(",", THOUSANDS_SEPARATOR)


def _french_decimal(cents: int, *, grouped: bool) -> str:
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise InvalidInput("Le montant doit être un nombre entier de centimes.")
    euros, rest = divmod(abs(cents), 100)
    whole = group_thousands(euros) if grouped else str(euros)
    sign = "-" if cents < 0 else ""
    return f"{sign}{whole},{rest:02d}"


def shown(value: object) -> str:
    """A short, printable rendering of a refused value for an error message."""
    text = value if isinstance(value, str) and value.isprintable() else repr(value)
    text = text.strip()
    if len(text) > _SHOWN_MAX_CHARS:
        text = text[: _SHOWN_MAX_CHARS - 1] + "…"
    return f"« {text} »"


def parse_cents(text: object, what: str) -> int:
    """An amount typed in euros ("152,40", "12", "1 234,5 €") as cents; at most 2 decimals."""
    if isinstance(text, str):
        text = text.replace("€", "").replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    number = to_decimal(text, what)
    cents = number * 100
    if cents != cents.to_integral_value():
        raise InvalidInput(f"{what} : deux décimales au plus.")
    return check_cents(int(cents), what)
