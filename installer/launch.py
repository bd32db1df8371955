"""Entry point of the bundled application (installer/comptoir.spec).

The same as ``python -m app``, plus ``freeze_support``: a large ledger is verified by
worker processes started with ``spawn``, and in a bundle those re-run this executable,
which must then become the worker instead of opening the till again.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from app.cli import main

    sys.exit(main())
