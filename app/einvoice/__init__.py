"""Electronic invoicing: Factur-X / UBL invoices, their validation and exchange."""
