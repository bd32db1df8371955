"""Small builders shared by tests."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.ledger.journal import Recorded
from app.ledger.store import Ledger
from app.sales.cart import Cart, CartLine
from app.sales.payments import Payment, PaymentMethod
from app.sales.service import record_sale


def cart_of(*lines: tuple[str, int, str | int, int]) -> Cart:
    """cart_of(("Pain", 130, 2, 550), ...): label, unit price (cents), quantity, VAT bp."""
    cart = Cart()
    for label, price, qty, rate in lines:
        weighed = "." in str(qty)
        cart.add(CartLine(label, price, Decimal(str(qty)), rate, weighed=weighed))
    return cart


def ring(
    ledger: Ledger,
    *lines: tuple[str, int, str | int, int],
    method: PaymentMethod = PaymentMethod.CARD,
    operator: str = "Alice",
) -> Recorded:
    """Record a sale paid exactly with one method."""
    cart = cart_of(*(lines or (("Baguette", 130, 2, 550),)))
    total = cart.totals().total_cents
    with ledger.transaction() as session:
        return record_sale(session, cart, [Payment(method, total)], operator)


def shop_today() -> date:
    """The shop's day now: the ledger dates its records in Paris time, not the machine's."""
    return datetime.now(ZoneInfo("Europe/Paris")).date()
