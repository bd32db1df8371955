"""Property tests: tickets, closures and grand totals always agree to the cent."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.ledger.closures import close_day, close_pending
from app.ledger.store import Ledger
from app.ledger.verify.engine import verify_ledger
from app.sales.cart import Cart, CartLine, Discount
from app.sales.payments import Payment, PaymentMethod
from app.sales.service import record_sale
from app.values.vat import VAT_RATES_BP
from tests.conftest import FakeClock

lines = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=200_000),
        st.integers(min_value=1, max_value=20),
        st.sampled_from(VAT_RATES_BP),
        st.one_of(st.none(), st.integers(min_value=1, max_value=50)),
    ),
    min_size=1,
    max_size=6,
)
days = st.lists(st.lists(lines, min_size=0, max_size=4), min_size=1, max_size=4)


def _cart(spec) -> Cart:
    cart = Cart()
    for price, qty, rate, percent in spec:
        discount = Discount.percent_of(Decimal(percent)) if percent else None
        cart.add(CartLine("Article", price, Decimal(qty), rate, discount=discount))
    return cart


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(days=days)
def test_closures_sum_the_tickets_and_perpetual_total_runs(tmp_path_factory, days) -> None:
    clock = FakeClock()
    path = tmp_path_factory.mktemp("prop") / "ledger.sqlite"
    running = 0
    start = date(2026, 3, 2)
    with Ledger.open(path, clock=clock) as ledger:
        for offset, tickets in enumerate(days):
            day = start + timedelta(days=offset)
            clock.set_local(day, time(9, 0))
            with ledger.transaction() as session:
                close_pending(session, operator="Gérant")
            expected = 0
            for spec in tickets:
                clock.advance(minutes=1)
                cart = _cart(spec)
                totals = cart.totals()
                assert sum(v.base_cents + v.vat_cents for v in totals.vat) == totals.total_cents
                with ledger.transaction() as session:
                    record_sale(
                        session,
                        cart,
                        [Payment(PaymentMethod.CARD, totals.total_cents)],
                        "Alice",
                    )
                expected += totals.total_cents
            clock.set_local(day, time(20, 0))
            with ledger.transaction() as session:
                body = close_day(session, day, operator="Gérant").body
            running += expected
            assert body["total"] == expected
            assert sum(v["base"] + v["vat"] for v in body["vat"]) == expected
            assert body["perpetual_total"] == running
    assert verify_ledger(path).ok
