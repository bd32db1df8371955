"""What the customer sees: the lines being rung up, the total, the change, and « Merci »
with the shop's name between sales. One plain value feeds the second-screen window and the
2×20 pole display alike."""

from __future__ import annotations

from dataclasses import dataclass

from app.sales.cart import Cart
from app.values.money import format_cents

POLE_WIDTH = 20
IDLE, SALE, PAID = "idle", "sale", "paid"
MAX_SHOWN_LINES = 12  # the latest lines; the total always counts them all


@dataclass(frozen=True)
class ShownLine:
    label: str
    quantity: str
    amount_cents: int


@dataclass(frozen=True)
class CustomerView:
    state: str
    shop_name: str
    lines: tuple[ShownLine, ...] = ()
    total_cents: int = 0
    change_cents: int = 0
    training: bool = False

    @property
    def last_line(self) -> ShownLine | None:
        return self.lines[-1] if self.lines else None


def idle_view(shop_name: str, *, training: bool = False) -> CustomerView:
    return CustomerView(IDLE, shop_name, training=training)


def sale_view(cart: Cart, shop_name: str, *, training: bool = False) -> CustomerView:
    if cart.is_empty:
        return idle_view(shop_name, training=training)
    totals = cart.totals()
    lines = tuple(
        ShownLine(
            priced.line.label,
            format(priced.line.quantity.normalize(), "f").replace(".", ","),
            priced.total_cents,
        )
        for priced in totals.lines
    )
    return CustomerView(
        SALE, shop_name, lines[-MAX_SHOWN_LINES:], totals.total_cents, training=training
    )


def paid_view(
    total_cents: int, change_cents: int, shop_name: str, *, training: bool = False
) -> CustomerView:
    return CustomerView(
        PAID, shop_name, total_cents=total_cents, change_cents=change_cents, training=training
    )


def _fit(left: str, right: str = "") -> str:
    """left and right on one 20-character line, left cut short when both do not fit."""
    room = POLE_WIDTH - len(right) - (1 if right else 0)
    left = left[: max(room, 0)]
    return (left + " " * (POLE_WIDTH - len(left) - len(right)) + right)[:POLE_WIDTH]


def _amount(cents: int) -> str:
    # The pole's narrow width: plain spaces, and "EUR" is longer than the "€" it shows.
    return format_cents(cents).replace("\u202f", " ").replace("\u00a0", " ")


def pole_lines(view: CustomerView) -> tuple[str, str]:
    """The two 20-character lines of a pole display."""
    if view.state == IDLE:
        top = "FORMATION" if view.training else "Merci !"
        return top.center(POLE_WIDTH), view.shop_name[:POLE_WIDTH].center(POLE_WIDTH)
    if view.state == PAID:
        if view.change_cents:
            return _fit("Rendu", _amount(view.change_cents)), "Merci !".center(POLE_WIDTH)
        return _fit("Payé", _amount(view.total_cents)), "Merci !".center(POLE_WIDTH)
    last = view.last_line
    top = _fit(last.label, _amount(last.amount_cents)) if last else ""
    return top.ljust(POLE_WIDTH), _fit("TOTAL", _amount(view.total_cents))
