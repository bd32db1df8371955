"""Customer table (not fiscal: an invoice keeps a copy of the customer as it was)."""

from __future__ import annotations

from sqlalchemy import Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from app.ledger.models import Base


class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # company | person
    name: Mapped[str] = mapped_column(String(120))
    siren: Mapped[str] = mapped_column(String(9), default="")
    siret: Mapped[str] = mapped_column(String(14), default="")
    vat_number: Mapped[str] = mapped_column(String(20), default="")
    electronic_address: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(120), default="")
    address: Mapped[str] = mapped_column(String(120), default="")
    postcode: Mapped[str] = mapped_column(String(16), default="")
    city: Mapped[str] = mapped_column(String(60), default="")
    country: Mapped[str] = mapped_column(String(2), default="FR")
    delivery_address: Mapped[str] = mapped_column(String(120), default="")
    delivery_postcode: Mapped[str] = mapped_column(String(16), default="")
    delivery_city: Mapped[str] = mapped_column(String(60), default="")
    delivery_country: Mapped[str] = mapped_column(String(2), default="")
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    active: Mapped[bool] = mapped_column(default=True)
    # A public-sector buyer (State, local authority, hospital…): its invoices are deposited
    # on Chorus Pro instead of the shop's plateforme agréée.
    public_sector: Mapped[bool] = mapped_column(default=False, server_default=false())
    # What the e-invoicing directory (annuaire) said of the customer's SIREN/SIRET when
    # last asked: "listed", "unlisted", or "" (never asked), its routing code, and when.
    directory_status: Mapped[str] = mapped_column(String(8), default="", server_default="")
    routing_code: Mapped[str] = mapped_column(String(100), default="", server_default="")
    directory_checked_at: Mapped[str] = mapped_column(String(27), default="", server_default="")
