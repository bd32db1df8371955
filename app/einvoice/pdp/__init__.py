"""Exchange with a plateforme agréée (PA, ex-PDP) through the AFNOR XP Z12-013 Flow API.

``client`` talks to a platform over HTTP (``flows``: what the Flow API exchanges;
``platform_http``: the failures and tokens every platform client shares); ``outbox``
queues the issued invoices, ``delivery`` and ``worker`` send them reliably,
``outbox_status`` says where they stand; ``acks`` reads the platform's acknowledgement
of each deposit (Ok, or Error with the rules broken); ``directory`` asks the Directory
Service (annuaire) where a buyer receives its invoices, and holds back those of a buyer
it does not list. ``cdar``
reads and writes the lifecycle status messages (CDAR D22B) exchanged about an invoice;
``statuses`` queues the ones the shop gives. ``ereporting`` builds the DGFiP Flux 10
reports (``flux10`` writes the file) per period of the shop's VAT regime, and
``autoreport`` sends the periods a closure completes. Every message is checked with the
official rules first (``app.einvoice.official``). ``sandbox`` is a local platform
speaking the same API on 127.0.0.1 (and serving a directory), for demos and tests, that
can be told to fail, stall, drop answers or reject.

Invoices to public-sector customers go to Chorus Pro instead, through the same outbox:
``chorus`` deposits them (PISTE OAuth2 and the ``cpro-account`` header), ``chorus_sync``
polls their statuses (the tests stand a fake of it up on 127.0.0.1).
"""
