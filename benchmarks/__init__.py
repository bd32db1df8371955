"""Performance benchmarks of Comptoir's fiscal ledger, run with ``python -m benchmarks``.

Every figure comes from the real code paths (``Ledger.open``, ``ledger.transaction()``,
``record_sale``, the closures, ``verify_ledger``) on ledgers in a temporary data folder.
Large generated ledgers are cached in ``benchmarks/.cache/`` (git-ignored).

This package imports nothing from ``app`` at import time: ``benchmarks.cli.main`` first
points ``COMPTOIR_DATA_DIR`` at a temporary folder and disables the OS keyring.
"""
