"""The journal of card transactions: one row per amount sent to the terminal, written
before it is sent. Not fiscal (the ticket that records the payment is); it is what lets
the till find, after a crash, a card payment the ledger does not know of yet."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.ledger.models import Base


class CardTransaction(Base):
    __tablename__ = "card_transaction"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sale_key: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # debit | credit
    amount_cents: Mapped[int] = mapped_column(Integer)
    # sent -> approved | refused | unknown; approved -> recorded | refunded
    state: Mapped[str] = mapped_column(String(12), index=True)
    authorisation: Mapped[str] = mapped_column(String(32), default="")
    card: Mapped[str] = mapped_column(String(32), default="")
    reason: Mapped[str] = mapped_column(String(300), default="")
    operator: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(27))
    updated_at: Mapped[str] = mapped_column(String(27))
    ticket_number: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(String, default="{}")  # the cart, to record it later
