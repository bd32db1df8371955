"""Property tests: ticket totals, VAT and settlements always agree to the cent."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.errors import InvalidInput
from app.sales.cart import Cart, CartLine, Discount, TicketTotals, compute_totals, validate_label
from app.sales.payments import Payment, PaymentMethod, settle
from app.values.money import format_cents
from app.values.vat import VAT_RATES_BP, vat_breakdown

LABELS = ["Baguette", "Comté AOP", "Café moulu", "Bière blonde", "Journal", "Œufs ×6"]


def percent_discounts() -> st.SearchStrategy[Discount]:
    return st.integers(1, 10_000).map(lambda n: Discount.percent_of(Decimal(n).scaleb(-2)))


def discounts_up_to(cents: int) -> st.SearchStrategy[Discount | None]:
    options: list[st.SearchStrategy[Discount | None]] = [st.none(), percent_discounts()]
    if cents > 0:
        options.append(st.integers(1, cents).map(Discount.amount))
    return st.one_of(options)


@st.composite
def cart_lines(draw: st.DrawFn) -> CartLine:
    weighed = draw(st.booleans())
    if weighed:
        quantity = Decimal(draw(st.integers(1, 50_000))).scaleb(-3)
    else:
        quantity = Decimal(draw(st.integers(1, 200)))
    line = CartLine(
        label=draw(st.sampled_from(LABELS)),
        unit_price_cents=draw(st.integers(0, 500_000)),
        quantity=quantity,
        vat_rate_bp=draw(st.sampled_from(VAT_RATES_BP)),
        weighed=weighed,
    )
    discount = draw(discounts_up_to(line.gross_cents))
    return CartLine(
        line.label,
        line.unit_price_cents,
        line.quantity,
        line.vat_rate_bp,
        discount,
        None,
        None,
        weighed,
    )


@st.composite
def tickets(draw: st.DrawFn) -> tuple[list[CartLine], Discount | None]:
    lines = draw(st.lists(cart_lines(), max_size=12))
    subtotal = sum(line.net_cents for line in lines)
    return lines, draw(discounts_up_to(subtotal))


def assert_consistent(totals: TicketTotals) -> None:
    assert sum(p.total_cents for p in totals.lines) == totals.total_cents
    assert sum(v.total_cents for v in totals.vat) == totals.total_cents
    assert totals.total_excl_cents + totals.total_vat_cents == totals.total_cents
    assert sum(v.vat_cents for v in totals.vat) == totals.total_vat_cents
    assert sum(v.base_cents for v in totals.vat) == totals.total_excl_cents
    assert sum(p.ticket_discount_cents for p in totals.lines) == totals.ticket_discount_cents
    for priced in totals.lines:
        assert priced.total_cents == (
            priced.gross_cents - priced.line_discount_cents - priced.ticket_discount_cents
        )
    for vat in totals.vat:
        assert vat.base_cents + vat.vat_cents == vat.total_cents
        rate_total = sum(p.total_cents for p in totals.lines if p.line.vat_rate_bp == vat.rate_bp)
        assert vat.total_cents == rate_total
    rates = [v.rate_bp for v in totals.vat]
    assert rates == sorted(set(rates), reverse=True)


@given(tickets())
def test_ticket_totals_agree_to_the_cent(ticket: tuple[list[CartLine], Discount | None]) -> None:
    lines, ticket_discount = ticket
    totals = compute_totals(lines, ticket_discount)
    assert_consistent(totals)
    assert totals.total_cents >= 0
    for priced in totals.lines:
        net = priced.gross_cents - priced.line_discount_cents
        assert 0 <= priced.ticket_discount_cents <= net
        assert priced.total_cents >= 0


@given(tickets())
def test_negated_totals_cancel_the_ticket(ticket: tuple[list[CartLine], Discount | None]) -> None:
    totals = compute_totals(*ticket)
    negated = totals.negated()
    assert_consistent(negated)
    assert sum(p.total_cents for p in negated.lines) == -totals.total_cents
    assert negated.total_cents == -totals.total_cents
    assert negated.total_vat_cents == -totals.total_vat_cents
    # A cancelling ticket priced from scratch must show exactly the opposite VAT.
    by_rate = {v.rate_bp: v.total_cents for v in negated.vat}
    assert vat_breakdown(by_rate) == negated.vat


@given(st.sampled_from(VAT_RATES_BP), st.integers(-(10**11) + 1, 10**11 - 1))
def test_vat_is_the_rounded_exact_vat(rate_bp: int, total: int) -> None:
    lines = vat_breakdown({rate_bp: total})
    if total == 0:
        assert lines == ()
        return
    (line,) = lines
    assert line.base_cents + line.vat_cents == total
    # |vat - total * rate / (1 + rate)| <= 1/2, in integers.
    assert 2 * abs(line.vat_cents * (10_000 + rate_bp) - total * rate_bp) <= 10_000 + rate_bp
    assert vat_breakdown({rate_bp: -total}) == (line.negated(),)


@given(st.lists(cart_lines(), max_size=8), st.data())
def test_cart_edits_keep_totals_valid(lines: list[CartLine], data: st.DataObject) -> None:
    cart = Cart()
    for line in lines:
        cart.add(line)
    for _ in range(6):
        before = (cart.lines, cart.ticket_discount, cart.totals())
        action = data.draw(st.sampled_from(["quantity", "discount", "ticket", "remove"]))
        index = data.draw(st.integers(-1, len(cart)))
        try:
            if action == "quantity":
                cart.set_quantity(index, data.draw(st.integers(-1, 20)))
            elif action == "discount":
                cart.set_line_discount(index, data.draw(discounts_up_to(2_000)))
            elif action == "ticket":
                cart.ticket_discount = data.draw(discounts_up_to(5_000))
            else:
                cart.remove(index)
        except InvalidInput:
            assert (cart.lines, cart.ticket_discount, cart.totals()) == before
        assert cart.totals() == compute_totals(cart.lines, cart.ticket_discount)
        assert_consistent(cart.totals())


NON_CASH = [m for m in PaymentMethod if m is not PaymentMethod.CASH]


@st.composite
def covering_payments(draw: st.DrawFn) -> tuple[int, list[Payment]]:
    """A positive total and payments that cover it, non-cash ones never exceeding it."""
    total = draw(st.integers(1, 10_000_000))
    payments: list[Payment] = []
    left = total
    for _ in range(draw(st.integers(0, 3))):
        if left == 0:
            break
        amount = draw(st.integers(1, left))
        payments.append(Payment(draw(st.sampled_from(NON_CASH)), amount))
        left -= amount
    cash = draw(st.lists(st.integers(1, 5_000_000), max_size=3))
    while sum(cash) < left:
        cash.append(left - sum(cash) + draw(st.integers(0, 5_000)))
    payments += [Payment(PaymentMethod.CASH, amount) for amount in cash]
    return total, draw(st.permutations(payments))


def assert_settled(total: int, tendered: list[Payment]) -> None:
    result = settle(total, tendered)
    assert result.paid_cents == total
    assert sum(p.amount_cents for p in result.payments) == total
    assert result.tendered == tuple(tendered)
    assert result.change_cents >= 0
    assert result.change_cents == sum(p.amount_cents for p in tendered) - total
    cash = sum(p.amount_cents for p in tendered if p.method is PaymentMethod.CASH)
    assert result.change_cents <= max(cash, 0)
    if total <= 0:
        assert result.change_cents == 0
    non_cash = [p for p in tendered if p.method is not PaymentMethod.CASH]
    assert [p for p in result.payments if p.method is not PaymentMethod.CASH] == non_cash
    assert all((p.amount_cents > 0) == (total > 0) for p in result.payments)


@given(covering_payments())
def test_settle_covering_payments(case: tuple[int, list[Payment]]) -> None:
    assert_settled(*case)


payments_strategy = st.builds(
    Payment,
    st.sampled_from(list(PaymentMethod)),
    st.integers(-1_000_000, 1_000_000).filter(bool),
)


@given(st.integers(-1_000_000, 1_000_000), st.lists(payments_strategy, max_size=5))
def test_settle_either_refuses_or_balances(total: int, tendered: list[Payment]) -> None:
    with contextlib.suppress(InvalidInput):
        assert_settled(total, tendered)


@given(st.integers(-(10**14), 10**14))
def test_format_cents_reads_back(cents: int) -> None:
    text = format_cents(cents)
    assert text.endswith(" €")
    digits = text.removesuffix(" €").replace("\u202f", "").replace(",", "")
    assert int(digits) == cents


@given(st.text(max_size=200))
def test_validate_label_is_idempotent_or_refuses(text: str) -> None:
    try:
        label = validate_label(text)
    except InvalidInput:
        return
    assert validate_label(label) == label
    assert 0 < len(label) <= 120
    label.encode("utf-8")


@pytest.mark.parametrize("qty", ["0,001", "99999"])
def test_quantity_bounds_are_accepted(qty: str) -> None:
    assert CartLine("Sel", 100, qty, 550, weighed=True).quantity == Decimal(qty.replace(",", "."))
