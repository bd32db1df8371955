"""The fiscal core: an append-only, hash-chained and signed ledger.

Nothing here imports Qt, ReportLab or an HTTP client (see README.md).
"""
