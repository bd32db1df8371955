"""Exchange with a plateforme agréée (PA, ex-PDP) through the AFNOR XP Z12-013 Flow API.

``client`` talks to a platform over HTTP; ``outbox`` and ``worker`` send the issued
invoices reliably. ``cdar`` reads and writes the lifecycle status messages (CDAR D22B)
exchanged about an invoice. ``sandbox`` is a local platform speaking the same API on
127.0.0.1, for demos and tests, that can be told to fail, stall, drop answers or reject.
"""
