"""What the till keeps aside for its operators: parked tickets."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.ledger.models import Base


class ParkedTicket(Base):
    """A cart put aside at the till, to be resumed; not fiscal until it is paid."""

    __tablename__ = "parked_ticket"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[str] = mapped_column(String(27))
    operator: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(120))
    payload: Mapped[str] = mapped_column(String)
