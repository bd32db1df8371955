"""E-reporting (DGFiP Flux 10): the sales the e-invoicing network does not carry, per
period of the shop's VAT regime, held to the official rules, sent and journaled.

- 10.3: B2C sales (tickets, invoices to private persons) per day, category (TLB1 goods,
  TPS1 services, TNT1 not subject to French VAT, TMA1 margin scheme) and VAT rate; a
  ticket counts once per category whatever its number of rates;
- 10.1: invoices to buyers outside France, one by one, in the same transactions report;
- 10.4: what was received for B2C services whose VAT is due on payment (no option for
  VAT on debits), per day and rate;
- 10.2: what was received, invoice by invoice, for the invoices of 10.1 whose VAT is due
  on payment, in the same payments report.

Periods (``periods_between``): réel normal, transactions per ten days and payments per
month; réel simplifié, monthly; franchise en base, every two months. The first report of
a period is IN; RE replaces the whole period. Every report sent is an EREPORTING event.
Only closed days are reported, so a report never changes once sent.

The package's rooms: ``periods`` cuts time as the shop's regime asks, ``sales`` sums what
the ledger sold as Flux 10 wants it, ``sent`` keeps what was sent and what became of it,
``report`` builds, checks and sends a period's report.
"""
