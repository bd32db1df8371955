"""Self-billing: invoices the shop draws up as the buyer, in a supplier's name and on its
behalf, under the supplier's mandate (UNTDID 1001 type 389; credit note 261)."""
