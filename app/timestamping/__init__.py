"""Date certaine: closures and archives time-stamped by an RFC 3161 authority over HTTP.

The ledger (``app.ledger.timestamps``) builds the requests, checks and keeps the tokens
and knows the queue; this package only speaks HTTP to the authority, so that the ledger
stays without network."""
