"""Parked tickets: a cart put aside and resumed later (not fiscal until paid)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.ledger import canonical
from app.ledger.store import ledger_of
from app.sales.cart import Cart, CartLine, Discount
from app.staff.models import ParkedTicket
from app.values.money import format_cents

LEFT_AT_QUIT = "Laissé à la fermeture"  # the label's start of a cart parked by quitting


@dataclass(frozen=True)
class Parked:
    id: int
    created_at: str
    operator: str
    label: str

    @property
    def left_at_quit(self) -> bool:
        return self.label.startswith(LEFT_AT_QUIT)


def _discount(d: Discount | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {"percent": str(d.percent)} if d.percent is not None else {"amount": d.amount_cents}


def _undiscount(data: dict[str, Any] | None) -> Discount | None:
    if data is None:
        return None
    if "percent" in data:
        return Discount.percent_of(Decimal(data["percent"]))
    return Discount.amount(data["amount"])


def cart_payload(cart: Cart) -> dict[str, Any]:
    """A cart as plain JSON values, to be rebuilt by ``cart_from_payload``."""
    return {
        "lines": [
            {
                "label": line.label,
                "unit_price": line.unit_price_cents,
                "qty": str(line.quantity),
                "rate": line.vat_rate_bp,
                "discount": _discount(line.discount),
                "ean": line.ean,
                "product_id": line.product_id,
                "weighed": line.weighed,
            }
            for line in cart.lines
        ],
        "ticket_discount": _discount(cart.ticket_discount),
    }


def cart_from_payload(data: dict[str, Any]) -> Cart:
    cart = Cart()
    for line in data["lines"]:
        cart.add(
            CartLine(
                line["label"],
                line["unit_price"],
                Decimal(line["qty"]),
                line["rate"],
                discount=_undiscount(line["discount"]),
                ean=line["ean"],
                product_id=line["product_id"],
                weighed=line["weighed"],
            )
        )
    cart.ticket_discount = _undiscount(data["ticket_discount"])
    return cart


def park(session: Session, cart: Cart, *, operator: str, at_quit: bool = False) -> Parked:
    """Put ``cart`` aside; ``at_quit``: the application is closing with it on screen."""
    if cart.is_empty:
        raise InvalidInput("Le ticket est vide : rien à mettre en attente.")
    payload = cart_payload(cart)
    now = canonical.format_ts(ledger_of(session).clock())
    count = len(cart.lines)
    label = f"{count} article{'s' if count > 1 else ''}, {format_cents(cart.totals().total_cents)}"
    if at_quit:
        label = f"{LEFT_AT_QUIT} : {label}"
    row = ParkedTicket(created_at=now, operator=operator, label=label, payload=json.dumps(payload))
    session.add(row)
    session.flush()
    return Parked(row.id, row.created_at, row.operator, row.label)


def parked_tickets(session: Session) -> list[Parked]:
    return [
        Parked(r.id, r.created_at, r.operator, r.label)
        for r in session.scalars(select(ParkedTicket).order_by(ParkedTicket.id))
    ]


def resume(session: Session, parked_id: int) -> Cart:
    """Give the cart back and forget the parked copy."""
    row = session.get(ParkedTicket, parked_id)
    if row is None:
        raise InvalidInput("Ce ticket en attente n'existe plus.")
    cart = cart_from_payload(json.loads(row.payload))
    session.delete(row)
    return cart
