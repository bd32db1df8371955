"""Child process of test_card_crash: takes a card payment on the terminal simulator, then
dies by SIGKILL before the ticket is recorded.

Usage: python card_crash_child.py LEDGER_PATH PORT STAGE
STAGE "answer-kept": the terminal's approval is journaled, then the kill;
STAGE "answer-lost": the kill comes as soon as the terminal has answered.
"""

from __future__ import annotations

import os
import signal
import sys
from decimal import Decimal

from app.ledger.store import Ledger
from app.sales.cart import Cart, CartLine
from app.sales.payments import Payment, PaymentMethod
from app.sales.terminal import pending
from app.sales.terminal.protocol import Exchange, TerminalConfig

OPERATOR = "crash-test"


def main(path: str, port: int, stage: str) -> None:
    cart = Cart()
    cart.add(CartLine("Baguette", 130, Decimal(2), 550))
    cart.add(CartLine("Café", 1000, Decimal(1), 2000))
    cash = Payment(PaymentMethod.CASH, 260)
    with Ledger.open(path, create=False, operator=OPERATOR) as ledger:
        with ledger.transaction() as session:
            attempt = pending.begin(
                session,
                sale_key="sale-1",
                amount_cents=1000,
                operator=OPERATOR,
                cart=cart,
                payments=[cash],
            )
        answer = Exchange(TerminalConfig("127.0.0.1", port)).pay(attempt.amount_cents)
        print(answer.authorisation, flush=True)
        if stage == "answer-kept":
            with ledger.transaction() as session:
                pending.record_answer(session, attempt.id, answer)
        os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
