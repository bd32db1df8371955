"""Cart lines, discounts, VAT and ticket totals: rules, bad inputs and known results."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.errors import InvalidInput
from app.sales.cart import (
    MAX_AMOUNT_CENTS,
    MAX_LABEL_CHARS,
    Cart,
    CartLine,
    Discount,
    compute_totals,
    validate_label,
)
from app.values.vat import VAT_RATES_BP, VatLine, format_rate, parse_rate, vat_breakdown


def line(label: str = "Baguette", price: int = 120, qty: object = 1, rate: int = 550, **kw):
    return CartLine(label, price, qty, rate, **kw)  # type: ignore[arg-type]


# --- VAT rates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2000, 2000),
        (0, 0),
        ("20", 2000),
        ("10", 1000),
        ("5.5", 550),
        ("5,5", 550),
        (" 5,50 % ", 550),
        (Decimal("2.1"), 210),
        ("0", 0),
        (Decimal("20.00"), 2000),
    ],
)
def test_parse_rate_accepts_basis_points_and_percentages(value: object, expected: int) -> None:
    assert parse_rate(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        7,
        20,
        550.0,
        5.5,
        True,
        False,
        None,
        "7",
        "19,6",
        "abc",
        "",
        "5,5,5",
        "NaN",
        "1e3",
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("5.55"),
        "-20",
        b"20",
        [2000],
    ],
)
def test_parse_rate_refuses_anything_else(value: object) -> None:
    with pytest.raises(InvalidInput, match="Taux de TVA inconnu"):
        parse_rate(value)


def test_format_rate_in_french() -> None:
    assert [format_rate(bp) for bp in VAT_RATES_BP] == ["20 %", "10 %", "5,5 %", "2,1 %", "0 %"]
    assert format_rate(1960) == "19,6 %"
    with pytest.raises(InvalidInput):
        format_rate(-1)


def test_vat_breakdown_per_rate_sum_sorted_and_zero_omitted() -> None:
    lines = vat_breakdown({550: 537, 2000: 1200, 1000: 0, 0: 300})
    assert lines == (
        VatLine(2000, 1000, 200, 1200),
        VatLine(550, 509, 28, 537),
        VatLine(0, 300, 0, 300),
    )


def test_vat_breakdown_rounds_half_away_from_zero_for_refunds() -> None:
    # 21 cents at 5.5 %: 21 * 550 / 10550 = 1.0947… -> 1; at 20 %: 3 * 2000 / 12000 = 0.5 -> 1.
    assert vat_breakdown({2000: 3}) == (VatLine(2000, 2, 1, 3),)
    assert vat_breakdown({2000: -3}) == (VatLine(2000, -2, -1, -3),)
    assert vat_breakdown({550: -537}) == (VatLine(550, -509, -28, -537),)


@pytest.mark.parametrize("totals", [{7: 100}, {2000: 1.5}, {2000: MAX_AMOUNT_CENTS}, {True: 1}])
def test_vat_breakdown_refuses_bad_input(totals: dict) -> None:
    with pytest.raises(InvalidInput):
        vat_breakdown(totals)


# --- labels ----------------------------------------------------------------------------


def test_label_is_stripped_and_normalised() -> None:
    assert validate_label("  Pain de mie\n") == "Pain de mie"
    assert validate_label("Cre\u0300me") == "Cr\u00e8me"
    assert validate_label("x" * MAX_LABEL_CHARS) == "x" * MAX_LABEL_CHARS


@pytest.mark.parametrize(
    ("label", "message"),
    [
        (b"Pain", "doit être un texte"),
        (None, "doit être un texte"),
        (42, "doit être un texte"),
        ("", "vide"),
        ("   \t ", "vide"),
        ("x" * (MAX_LABEL_CHARS + 1), "120 caractères"),
        ("x" * 10_240, "120 caractères"),
        ("Pain\ud800", "caractères invalides"),
        ("Pain\tcomplet", "caractères de contrôle"),
        ("Pain\ncomplet", "caractères de contrôle"),
        ("Pain\x00", "caractères de contrôle"),
        ("Pain\x1b[31m", "caractères de contrôle"),
        ("Pain\x85complet", "caractères de contrôle"),
    ],
)
def test_bad_labels_are_refused(label: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_label(label)
    with pytest.raises(InvalidInput):
        line(label=label)  # type: ignore[arg-type]


# --- lines -----------------------------------------------------------------------------


def test_quantities_are_converted_and_normalised() -> None:
    assert line(qty=3).quantity == Decimal(3)
    assert str(line(qty="2").quantity) == "2"
    assert str(line(qty=Decimal("2.000")).quantity) == "2"
    assert str(line(qty="0,347", weighed=True).quantity) == "0.347"
    assert str(line(qty=Decimal("1.5"), weighed=True).quantity) == "1.500"


@pytest.mark.parametrize(
    ("qty", "weighed", "message"),
    [
        (0, False, "strictement positive"),
        (Decimal("0.000"), True, "strictement positive"),
        (-1, False, "strictement positive"),
        ("-0,5", True, "strictement positive"),
        (Decimal("1.5"), False, "nombre entier"),
        ("1,5", False, "nombre entier"),
        (Decimal("0.3475"), True, "gramme"),
        (Decimal("1E-999999999"), True, "gramme"),
        (Decimal("100000"), False, "dépasser"),
        (Decimal("1E+999999999"), False, "dépasser"),
        (1.0, False, "nombre valide"),
        (0.347, True, "nombre valide"),
        (True, False, "nombre valide"),
        (None, False, "nombre valide"),
        ("deux", False, "nombre valide"),
        ("1e2", False, "nombre valide"),
        (Decimal("NaN"), False, "nombre valide"),
        (Decimal("-Infinity"), False, "nombre valide"),
    ],
)
def test_bad_quantities_are_refused(qty: object, weighed: bool, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        line(qty=qty, weighed=weighed)


@pytest.mark.parametrize(
    "price", [-1, 1.99, Decimal("1.99"), "199", True, None, MAX_AMOUNT_CENTS, -MAX_AMOUNT_CENTS]
)
def test_bad_unit_prices_are_refused(price: object) -> None:
    with pytest.raises(InvalidInput):
        line(price=price)  # type: ignore[arg-type]


@pytest.mark.parametrize("rate", [7, 1960, "20", Decimal("20"), 20.0, None, True])
def test_line_rate_must_be_known_basis_points(rate: object) -> None:
    with pytest.raises(InvalidInput, match="Taux de TVA inconnu"):
        line(rate=rate)  # type: ignore[arg-type]


def test_other_line_fields_are_checked() -> None:
    assert line(ean=" 3017620422003 ").ean == "3017620422003"
    assert line(product_id=7).product_id == 7
    for ean in ["", "123", "30176204220A3", "1" * 15, 3017620422003]:
        with pytest.raises(InvalidInput, match="Code-barres"):
            line(ean=ean)
    for product_id in [0, -1, True, "7", 7.0]:
        with pytest.raises(InvalidInput, match="Identifiant"):
            line(product_id=product_id)
    with pytest.raises(InvalidInput):
        line(weighed=1)
    with pytest.raises(InvalidInput):
        line(discount=Decimal(10))


def test_line_total_too_high_is_refused() -> None:
    assert line(price=MAX_AMOUNT_CENTS - 1).gross_cents == MAX_AMOUNT_CENTS - 1
    with pytest.raises(InvalidInput, match="trop élevé"):
        line(price=10**9, qty=100)


def test_free_item_is_allowed() -> None:
    free = line(price=0, discount=Discount.percent_of(Decimal(50)))
    assert (free.gross_cents, free.discount_cents, free.net_cents) == (0, 0, 0)


def test_weighed_item_known_result() -> None:
    comte = line("Comté AOP", price=1290, qty=Decimal("0.347"), weighed=True)
    # 0.347 kg x 12,90 €/kg = 4,4763 € -> 4,48 €
    assert comte.gross_cents == 448


def test_gross_rounds_half_up() -> None:
    # 0.125 kg x 1,00 €/kg = 12.5 cents -> 13
    assert line(price=100, qty=Decimal("0.125"), weighed=True).gross_cents == 13


# --- discounts -------------------------------------------------------------------------


def test_discount_constructors_and_apply_to() -> None:
    assert Discount.percent_of(Decimal(10)).apply_to(597) == 60  # 59.7 -> 60
    assert Discount.percent_of(Decimal("12.5")).apply_to(100) == 13  # 12.5 -> 13
    assert Discount.percent_of("12,5").percent == Decimal("12.5")
    assert Discount.percent_of(100).apply_to(597) == 597
    assert Discount.amount(200).apply_to(597) == 200
    assert Discount.amount(800).apply_to(597) == 597
    assert Discount.amount(200).apply_to(0) == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"percent": Decimal(10), "amount_cents": 100},
        {"percent": Decimal(0)},
        {"percent": Decimal(-5)},
        {"percent": Decimal("100.01")},
        {"percent": Decimal("12.345")},
        {"percent": 10.0},
        {"percent": Decimal("NaN")},
        {"amount_cents": 0},
        {"amount_cents": -100},
        {"amount_cents": 1.5},
        {"amount_cents": MAX_AMOUNT_CENTS},
    ],
)
def test_bad_discounts_are_refused(kwargs: dict) -> None:
    with pytest.raises(InvalidInput):
        Discount(**kwargs)


def test_discount_apply_to_refuses_bad_amounts() -> None:
    for gross in [-1, 1.5, MAX_AMOUNT_CENTS]:
        with pytest.raises(InvalidInput):
            Discount.amount(100).apply_to(gross)  # type: ignore[arg-type]


def test_line_amount_discount_larger_than_line_is_refused() -> None:
    with pytest.raises(InvalidInput, match="dépasse le montant de la ligne"):
        line(price=120, discount=Discount.amount(121))
    assert line(price=120, discount=Discount.amount(120)).net_cents == 0


# --- totals ----------------------------------------------------------------------------


def test_known_ticket_three_items_at_5_5_with_ten_percent_off() -> None:
    cart = Cart()
    cart.add(line("Croissant", price=199, qty=3, rate=550))
    cart.ticket_discount = Discount.percent_of(Decimal(10))
    totals = cart.totals()
    # 5,97 € - 0,60 € = 5,37 €; VAT 537 x 5.5 / 105.5 = 27.995 -> 0,28 €
    assert totals.ticket_discount_cents == 60
    assert totals.total_cents == 537
    assert totals.vat == (VatLine(550, 509, 28, 537),)
    assert (totals.total_excl_cents, totals.total_vat_cents) == (509, 28)
    (priced,) = totals.lines
    assert (priced.gross_cents, priced.line_discount_cents) == (597, 0)
    assert (priced.ticket_discount_cents, priced.total_cents) == (60, 537)


def test_known_ticket_mixed_rates_and_discounts() -> None:
    totals = compute_totals(
        [
            line("Vin", price=1000, qty=1, rate=2000),
            line("Pain", price=500, qty=1, rate=550, discount=Discount.amount(100)),
            line("Livre", price=1001, qty=1, rate=550),
        ],
        Discount.amount(100),
    )
    # nets 1000, 400, 1001 (sum 2401); shares of 100: 41.649, 16.659, 41.691 -> 41 16 41
    # + 2 leftover cents to the largest remainders (Livre .691, Pain .659).
    assert [p.ticket_discount_cents for p in totals.lines] == [41, 17, 42]
    assert [p.total_cents for p in totals.lines] == [959, 383, 959]
    assert totals.total_cents == 2301
    assert totals.vat == (VatLine(2000, 799, 160, 959), VatLine(550, 1272, 70, 1342))
    assert totals.total_vat_cents == 230
    assert totals.total_excl_cents == 2071


def test_ticket_discount_share_ties_go_to_earlier_lines() -> None:
    lines = [line(price=100), line(price=100), line(price=100)]
    totals = compute_totals(lines, Discount.amount(2))
    assert [p.ticket_discount_cents for p in totals.lines] == [1, 1, 0]


def test_empty_cart_totals_are_zero() -> None:
    cart = Cart()
    assert cart.is_empty
    totals = cart.totals()
    assert totals.lines == () and totals.vat == ()
    assert (totals.ticket_discount_cents, totals.total_cents) == (0, 0)
    assert (totals.total_excl_cents, totals.total_vat_cents) == (0, 0)
    cart.ticket_discount = Discount.percent_of(Decimal(20))
    assert cart.totals().total_cents == 0


def test_ticket_amount_discount_larger_than_lines_is_refused() -> None:
    with pytest.raises(InvalidInput, match="dépasse le total des lignes"):
        compute_totals([line(price=120)], Discount.amount(121))
    assert compute_totals([line(price=120)], Discount.amount(120)).total_cents == 0


def test_ticket_total_too_high_is_refused() -> None:
    big = line(price=MAX_AMOUNT_CENTS // 2)
    almost = line(price=MAX_AMOUNT_CENTS // 2 - 1)
    assert compute_totals([big, almost]).total_cents == MAX_AMOUNT_CENTS - 1
    with pytest.raises(InvalidInput, match="total du ticket est trop élevé"):
        compute_totals([big, big])


def test_compute_totals_refuses_non_lines() -> None:
    with pytest.raises(InvalidInput):
        compute_totals(["Pain"])  # type: ignore[list-item]
    with pytest.raises(InvalidInput):
        compute_totals([line()], Decimal(10))  # type: ignore[arg-type]


def test_negated_totals() -> None:
    totals = compute_totals(
        [line(price=199, qty=3), line(price=1290, qty="0,347", weighed=True, rate=2000)],
        Discount.percent_of(Decimal(10)),
    )
    negated = totals.negated()
    assert negated.total_cents == -totals.total_cents
    assert negated.total_vat_cents == -totals.total_vat_cents
    assert negated.total_excl_cents == -totals.total_excl_cents
    assert negated.ticket_discount_cents == -totals.ticket_discount_cents
    assert [v.negated() for v in negated.vat] == list(totals.vat)
    assert [p.negated() for p in negated.lines] == list(totals.lines)
    assert negated.negated() == totals


# --- cart editing ----------------------------------------------------------------------


def test_cart_editing() -> None:
    cart = Cart()
    assert cart.add(line("Pain", price=120)) == 0
    assert cart.add(line("Lait", price=95, rate=2000)) == 1
    assert len(cart) == 2 and not cart.is_empty
    assert isinstance(cart.lines, tuple)
    cart.set_quantity(0, 3)
    assert cart.lines[0].quantity == 3
    cart.set_line_discount(0, Discount.amount(60))
    assert cart.totals().total_cents == 300 + 95
    cart.replace(1, line("Beurre", price=250, rate=550))
    assert cart.lines[1].label == "Beurre"
    cart.ticket_discount = Discount.percent_of(Decimal(50))
    assert cart.totals().total_cents == 275
    cart.set_line_discount(0, None)
    assert cart.totals().total_cents == 305
    cart.remove(0)
    assert [x.label for x in cart.lines] == ["Beurre"]
    cart.clear()
    assert cart.is_empty and cart.ticket_discount is None
    assert cart.totals().total_cents == 0


def test_refused_changes_leave_the_cart_unchanged() -> None:
    cart = Cart()
    cart.add(line("Pain", price=500))
    cart.add(line("Lait", price=100))
    cart.ticket_discount = Discount.amount(400)
    before = (cart.lines, cart.ticket_discount, cart.totals())
    attempts = [
        lambda: cart.remove(0),  # ticket discount would exceed the remaining 1,00 €
        lambda: cart.set_quantity(0, Decimal("1.5")),
        lambda: cart.set_quantity(1, 0),
        lambda: cart.set_line_discount(0, Discount.amount(501)),
        lambda: cart.add(line(price=MAX_AMOUNT_CENTS - 1)),
        lambda: cart.add("Pain"),  # type: ignore[arg-type]
        lambda: cart.replace(0, None),  # type: ignore[arg-type]
        lambda: setattr(cart, "ticket_discount", Discount.amount(601)),
        lambda: cart.remove(2),
        lambda: cart.remove(-1),
        lambda: cart.set_quantity(True, 2),  # type: ignore[arg-type]
        lambda: cart.set_quantity(5, 2),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidInput):
            attempt()
        assert (cart.lines, cart.ticket_discount, cart.totals()) == before
