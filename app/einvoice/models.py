"""What invoicing keeps outside the ledger: drafts of invoices not issued yet."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.ledger.models import Base


class InvoiceDraftRow(Base):
    """An invoice being written, kept so that closing the editor loses nothing. Not fiscal:
    it becomes an invoice only when issued, and it is deleted in the same transaction."""

    __tablename__ = "invoice_draft"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[str] = mapped_column(String(27))
    updated_at: Mapped[str] = mapped_column(String(27))
    operator: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    label: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(String)
