"""A refund paid back by card says so on its receipt, and in the ledger."""

from __future__ import annotations

import re

from app.documents.receipt import receipt_text, render_receipt_pdf
from app.sales.payments import PaymentMethod
from app.sales.service import get_ticket, refund_lines
from tests.documents import SHOP, pdf_text, record_shop
from tests.helpers import ring


def test_a_refund_by_card_prints_the_card(ledger) -> None:
    record_shop(ledger)
    sale = ring(ledger, ("Pain", 130, 3, 550), method=PaymentMethod.CASH)
    with ledger.transaction() as session:
        refund = refund_lines(
            session,
            sale.number,
            [(0, 2)],
            method=PaymentMethod.CARD,
            operator="Gérant",
            reason="Pain rassis",
        )
    assert refund.body["payments"] == [{"method": "card", "amount": -260}]
    with ledger.reader() as session:
        ticket = get_ticket(session, refund.number)
    text = pdf_text(render_receipt_pdf(ticket, SHOP))
    assert re.search(r"Remboursé\s+Carte bancaire\s+-2,60 €", text), text
    assert "Espèces" not in text
    plain = receipt_text(ticket, SHOP)
    assert "Carte bancaire" in plain and "Monnaie rendue" not in plain
