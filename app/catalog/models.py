"""Catalog tables. Not fiscal: a product may change; a ticket keeps what was sold."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.ledger.models import Base


class Category(Base):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    color: Mapped[str] = mapped_column(String(9), default="#5b8def")


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (Index("ix_product_name", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    ean: Mapped[str | None] = mapped_column(String(14), unique=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"))
    price_cents: Mapped[int] = mapped_column(Integer)  # VAT included; per kg when weighed
    vat_rate_bp: Mapped[int] = mapped_column(Integer)
    weighed: Mapped[bool] = mapped_column(default=False)
    open_price: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    # goods | services | not_subject | margin (app/catalog/nature.py); None: by VAT rate
    nature: Mapped[str | None] = mapped_column(String(16), default=None)
    # A picture for the till's tile: a file name in the data folder (app/catalog/images.py)
    image: Mapped[str | None] = mapped_column(String(64), default=None)
