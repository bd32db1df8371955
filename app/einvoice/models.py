"""What invoicing keeps outside the ledger: drafts of invoices not issued yet, and the
self-billing mandates suppliers gave the shop."""

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


class SelfBillingMandate(Base):
    """A supplier's written mandate to the shop to draw up its invoices (self-billing,
    CGI art. 289-I-2). Not fiscal: it is the shop's record of a contract, whose end date
    is set when the contract ends. What an invoice needs of it (the supplier as it was,
    the reference and dates) is copied into the self-billed invoice's ledger record, which
    is what stays inalterable."""

    __tablename__ = "self_billing_mandate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    prefix: Mapped[str] = mapped_column(String(12), unique=True)
    start_date: Mapped[str] = mapped_column(String(10))
    end_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    name: Mapped[str] = mapped_column(String(120))
    siren: Mapped[str] = mapped_column(String(9))
    siret: Mapped[str] = mapped_column(String(14))
    vat_number: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(120))
    postcode: Mapped[str] = mapped_column(String(16))
    city: Mapped[str] = mapped_column(String(60))
    country: Mapped[str] = mapped_column(String(2))
    electronic_address: Mapped[str] = mapped_column(String(125))
    iban: Mapped[str] = mapped_column(String(34))
    created_at: Mapped[str] = mapped_column(String(27))
    operator: Mapped[str] = mapped_column(String(64))
