"""The plain variants of money and rate display, as CSV files, archives and the FEC write
them: the same number as on screen, without grouping nor unit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.values.money import (
    THOUSANDS_SEPARATOR,
    format_cents,
    group_thousands,
    parse_cents,
    plain_cents,
)
from app.values.vat import VAT_RATES_BP, format_rate, rate_number


def test_plain_cents_is_a_bare_french_decimal() -> None:
    assert plain_cents(123450) == "1234,50"
    assert plain_cents(-5) == "-0,05"
    assert plain_cents(0) == "0,00"


@given(st.integers(-(10**11) + 1, 10**11 - 1))
def test_plain_cents_is_format_cents_without_grouping_nor_sign(cents: int) -> None:
    text = plain_cents(cents)
    assert text == format_cents(cents).removesuffix(" €").replace(THOUSANDS_SEPARATOR, "")
    assert parse_cents(text, "Montant") == cents


def test_rate_number_is_format_rate_without_percent() -> None:
    assert [rate_number(bp) for bp in VAT_RATES_BP] == ["20", "10", "5,5", "2,1", "0"]
    for bp in (*VAT_RATES_BP, 1960, 1, 1010):
        assert format_rate(bp) == f"{rate_number(bp)} %"


def test_counts_are_grouped_like_amounts() -> None:
    assert group_thousands(1_000_000) == "1\u202f000\u202f000"
    assert group_thousands(999) == "999"
    assert format_cents(123_456_789).startswith(group_thousands(1_234_567) + ",")
