"""Payments, change and refunds; French amount display."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.errors import InvalidInput
from app.sales.payments import Payment, PaymentMethod, Settlement, format_cents, settle
from app.values.money import MAX_AMOUNT_CENTS

CASH, CARD, CHEQUE, VOUCHER = (
    PaymentMethod.CASH,
    PaymentMethod.CARD,
    PaymentMethod.CHEQUE,
    PaymentMethod.VOUCHER,
)
NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "0,00 €"),
        (5, "0,05 €"),
        (320, "3,20 €"),
        (-320, "-3,20 €"),
        (99_999, "999,99 €"),
        (123_450, f"1{NNBSP}234,50 €"),
        (123_456_789_012, f"1{NNBSP}234{NNBSP}567{NNBSP}890,12 €"),
    ],
)
def test_format_cents(cents: int, text: str) -> None:
    assert format_cents(cents) == text


@pytest.mark.parametrize("value", [1.5, Decimal(1), "100", True, None])
def test_format_cents_refuses_non_cents(value: object) -> None:
    with pytest.raises(InvalidInput):
        format_cents(value)  # type: ignore[arg-type]


def test_method_labels_and_values() -> None:
    assert [m.value for m in PaymentMethod] == ["cash", "card", "cheque", "voucher"]
    assert [m.label for m in PaymentMethod] == [
        "Espèces",
        "Carte bancaire",
        "Chèque",
        "Bon d'achat",
    ]


def test_payment_converts_method_strings() -> None:
    payment = Payment("card", 500)  # type: ignore[arg-type]
    assert payment.method is CARD
    assert Payment(CASH, -500).amount_cents == -500


@pytest.mark.parametrize(
    ("method", "amount", "message"),
    [
        ("bitcoin", 100, "Moyen de paiement inconnu"),
        ("CASH", 100, "Moyen de paiement inconnu"),
        (None, 100, "Moyen de paiement inconnu"),
        ([], 100, "Moyen de paiement inconnu"),
        (CASH, 0, "nul"),
        (CASH, 1.5, "entier de centimes"),
        (CASH, Decimal(100), "entier de centimes"),
        (CASH, True, "entier de centimes"),
        (CASH, MAX_AMOUNT_CENTS, "trop élevé"),
        (CASH, -MAX_AMOUNT_CENTS, "trop élevé"),
    ],
)
def test_bad_payments_are_refused(method: object, amount: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Payment(method, amount)  # type: ignore[arg-type]


def test_exact_card_payment() -> None:
    card = Payment(CARD, 1234)
    assert settle(1234, [card]) == Settlement((card,), (card,), 0, 1234)


def test_cash_change_is_taken_from_cash() -> None:
    tendered = (Payment(CARD, 500), Payment(CASH, 2000))
    result = settle(1000, tendered)
    assert result.change_cents == 1500
    assert result.paid_cents == 1000
    assert result.tendered == tendered
    assert result.payments == (Payment(CARD, 500), Payment(CASH, 500))


def test_change_comes_from_the_last_cash_payments_first() -> None:
    tendered = [Payment(CASH, 1000), Payment(CHEQUE, 300), Payment(CASH, 100)]
    result = settle(1050, tendered)
    assert result.change_cents == 350
    # The last 1,00 € coin is entirely given back, then 2,50 € from the 10 € note.
    assert result.payments == (Payment(CASH, 750), Payment(CHEQUE, 300))


def test_same_method_twice_is_kept_as_given() -> None:
    tendered = (Payment(CARD, 300), Payment(CARD, 700))
    assert settle(1000, tendered).payments == tendered


def test_insufficient_payment() -> None:
    with pytest.raises(InvalidInput) as error:
        settle(1000, [Payment(CARD, 500), Payment(CASH, 180)])
    assert str(error.value) == "Paiement insuffisant : il manque 3,20 €."
    with pytest.raises(InvalidInput, match="il manque 10,00 €"):
        settle(1000, [])


@pytest.mark.parametrize(
    "tendered",
    [
        [Payment(CARD, 1001)],
        [Payment(VOUCHER, 2000)],
        [Payment(CHEQUE, 600), Payment(CARD, 600), Payment(CASH, 100)],
    ],
)
def test_only_cash_gives_change(tendered: list[Payment]) -> None:
    with pytest.raises(InvalidInput, match="Seules les espèces peuvent rendre la monnaie"):
        settle(1000, tendered)


def test_sale_refuses_negative_payments() -> None:
    with pytest.raises(InvalidInput, match="positifs"):
        settle(1000, [Payment(CASH, 1500), Payment(CARD, -500)])


def test_refund() -> None:
    tendered = (Payment(CARD, -700), Payment(CASH, -300))
    assert settle(-1000, tendered) == Settlement(tendered, tendered, 0, -1000)


@pytest.mark.parametrize(
    "tendered",
    [[], [Payment(CASH, -1200)], [Payment(CASH, -900)], [Payment(CASH, 1000)]],
)
def test_refund_must_be_exact_and_negative(tendered: list[Payment]) -> None:
    with pytest.raises(InvalidInput):
        settle(-1000, tendered)


def test_zero_ticket_needs_no_payment() -> None:
    assert settle(0, []) == Settlement((), (), 0, 0)
    with pytest.raises(InvalidInput, match="aucun paiement"):
        settle(0, [Payment(CASH, 100)])


@pytest.mark.parametrize("total", [10.0, Decimal(10), "10", True, MAX_AMOUNT_CENTS])
def test_settle_refuses_bad_totals(total: object) -> None:
    with pytest.raises(InvalidInput):
        settle(total, [Payment(CASH, 10)])  # type: ignore[arg-type]


def test_settle_refuses_non_payments() -> None:
    with pytest.raises(InvalidInput):
        settle(1000, [("cash", 1000)])  # type: ignore[list-item]
