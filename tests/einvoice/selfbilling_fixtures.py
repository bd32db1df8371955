"""A supplier's self-billing mandate and a draft to self-bill under it, shared by tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.selfbilling.mandates import Mandate

SUPPLIER = Mandate(
    reference="MAND-2026-01",
    prefix="AFVERGER",
    start_date=date(2026, 1, 1),
    name="Vergers du Lyonnais",
    siret="73282932000074",
    vat_number="FR44732829320",
    address="3 chemin des Pommiers",
    postcode="69390",
    city="Vourles",
    iban="FR7630006000011234567890189",
)


def self_billed_draft(qty: str = "40", price: int = 180, rate: int = 550) -> InvoiceDraft:
    """Apples bought from the orchard, priced excl. VAT."""
    line = InvoiceLineInput("Pommes Golden (kg)", Decimal(qty), price, rate, unit="KGM")
    return InvoiceDraft(customer_id=0, lines=(line,), due_days=30)
