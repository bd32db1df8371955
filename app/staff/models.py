"""Operators who log in at the till. PINs are stored as salted scrypt hashes."""

from __future__ import annotations

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.ledger.models import Base


class Operator(Base):
    __tablename__ = "operator"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # cashier | manager | accountant
    pin_salt: Mapped[bytes] = mapped_column(LargeBinary)
    pin_hash: Mapped[bytes] = mapped_column(LargeBinary)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[str | None] = mapped_column(String(27))
    active: Mapped[bool] = mapped_column(default=True)


class ParkedTicket(Base):
    """A cart put aside at the till, to be resumed; not fiscal until it is paid."""

    __tablename__ = "parked_ticket"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[str] = mapped_column(String(27))
    operator: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(120))
    payload: Mapped[str] = mapped_column(String)
