"""A card payment taken on the terminal prints its authorisation number on the receipt."""

from __future__ import annotations

from app.documents.receipt import receipt_text
from app.sales.payments import Payment, PaymentMethod
from app.sales.service import get_ticket, record_sale
from tests.documents import SHOP, record_shop
from tests.helpers import cart_of


def test_the_terminal_reference_is_on_the_receipt(ledger) -> None:
    record_shop(ledger)
    with ledger.transaction() as session:
        recorded = record_sale(
            session,
            cart_of(("Vin", 1150, 1, 2000)),
            [Payment(PaymentMethod.CARD, 1000, "100001"), Payment(PaymentMethod.CASH, 200)],
            "test",
        )
        ticket = get_ticket(session, recorded.number)
    for width in (48, 32):
        lines = receipt_text(ticket, SHOP, width).splitlines()
        card = next(i for i, line in enumerate(lines) if "Carte bancaire" in line)
        assert lines[card + 1].strip() == "Autorisation n° 100001"
    assert "Autorisation" not in receipt_text(ticket, SHOP).split("Espèces")[1]
