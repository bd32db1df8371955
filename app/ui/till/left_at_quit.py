"""A ticket in progress when the application closes is parked, and offered back at the
next start: quitting (or switching to training) never loses a cart."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from app.errors import ComptoirError
from app.sales.parking import park, parked_tickets
from app.ui.widgets.confirm import ask_confirmation

if TYPE_CHECKING:
    from app.ui.till.till_screen import TillScreen

log = logging.getLogger(__name__)


def park_left_cart(till: TillScreen) -> bool:
    """Park the ticket on screen, if any; True when one was kept. Never raises: the
    window is closing, and a refusal is logged rather than shown to nobody."""
    cart = till.model.cart
    if cart.is_empty:
        return False
    operator = till.ctx.operator_name
    try:
        with till.ctx.ledger.transaction() as session:
            park(session, cart, operator=operator, at_quit=True)
    except ComptoirError as exc:
        log.warning("the cart left at quit could not be parked: %s", exc.message)
        return False
    except Exception:  # the window is closing: a failure is logged, never raised into Qt
        log.exception("the cart left at quit could not be parked")
        return False
    till.model.clear()
    return True


def offer_left_cart(till: TillScreen) -> None:
    """At start, with an empty ticket: offer back the cart parked by the last quit."""
    if not till.model.cart.is_empty:
        return
    left = [p for p in till.ctx.read(parked_tickets) if p.left_at_quit]
    if not left:
        return
    newest = left[-1]
    others = len(left) - 1
    if others == 0:
        more = ""
    elif others == 1:
        more = "\n\nUn autre ticket laissé à la fermeture attend dans « Reprendre »."
    else:
        more = f"\n\n{others} autres tickets laissés à la fermeture attendent dans « Reprendre »."
    ask_confirmation(
        till,
        "Ticket en attente",
        f"Un ticket était en cours à la fermeture ({newest.label.split(' : ', 1)[-1]}, "
        f"par {newest.operator}). Le reprendre maintenant ?{more}",
        yes="Reprendre le ticket",
        no="Plus tard",
        then=lambda: till.resume_parked(newest.id),
    )
