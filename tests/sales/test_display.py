"""What the customer display shows, and its 2×20 pole lines."""

from __future__ import annotations

from decimal import Decimal

from app.sales.cart import Cart, CartLine
from app.sales.display import idle_view, paid_view, pole_lines, sale_view


def test_pole_lines_are_twenty_characters() -> None:
    cart = Cart()
    cart.add(CartLine("Baguette tradition aux graines", 130, Decimal(2), 550))
    view = sale_view(cart, "Épicerie Martin")
    top, bottom = pole_lines(view)
    assert len(top) == len(bottom) == 20
    assert top.startswith("Baguette tra") and top.endswith("2,60 €")
    assert bottom == "TOTAL         2,60 €"
    assert pole_lines(idle_view("Épicerie Martin")) == (
        "      Merci !       ",
        "  Épicerie Martin   ",
    )
    assert pole_lines(idle_view("X", training=True))[0].strip() == "FORMATION"
    assert pole_lines(paid_view(1280, 220, "X")) == ("Rendu         2,20 €", "      Merci !       ")
