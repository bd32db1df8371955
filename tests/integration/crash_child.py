"""Child process of test_crash: rings sales on a ledger until it is killed.

Usage: python crash_child.py LEDGER_PATH

Each ticket number is printed only once its transaction has committed, so every number
the parent reads must still be in the ledger wherever the kill lands.
"""

from __future__ import annotations

import sys
from decimal import Decimal

from app.errors import ClosureRequired
from app.ledger.closures import close_pending
from app.ledger.store import Ledger
from app.sales.cart import Cart, CartLine
from app.sales.payments import Payment, PaymentMethod
from app.sales.service import record_sale

OPERATOR = "crash-test"
METHODS = (PaymentMethod.CARD, PaymentMethod.CASH, PaymentMethod.CHEQUE)


def _cart(i: int) -> Cart:
    cart = Cart()
    cart.add(CartLine("Baguette", 130, Decimal(1 + i % 3), 550))
    if i % 2:
        cart.add(CartLine("Café", 180, Decimal(1), 1000))
    return cart


def main(path: str) -> None:
    with Ledger.open(path, create=False, operator=OPERATOR) as ledger:
        i = 0
        while True:
            i += 1
            cart = _cart(i)
            payment = Payment(METHODS[i % len(METHODS)], cart.totals().total_cents)
            try:
                with ledger.transaction() as session:
                    recorded = record_sale(session, cart, [payment], OPERATOR)
            except ClosureRequired:
                # The real clock passed midnight, shop time: close the day, then go on.
                with ledger.transaction() as session:
                    close_pending(session, operator=OPERATOR)
                continue
            print(recorded.number, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
