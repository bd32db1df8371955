"""Command line: the same services as the GUI, headless.

One module per domain (ledger: verify and close; invoice; pdp; export; backup; archive
and purge; central; demo), each adding its parsers and the functions that run them;
``parser`` puts them together with the global options.

Exit codes: 0 success, 1 a check found a problem, 2 bad usage or a refused operation.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from app.cli import common
from app.cli.parser import build_parser
from app.errors import ComptoirError

log = logging.getLogger("comptoir")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command is None:
            return _gui(args)
        return args.run(args)
    except ComptoirError as exc:
        if exc.detail:
            log.info("%s", exc.detail)
        print(f"Erreur : {exc.message}", file=sys.stderr)
        return 2


def _gui(args: argparse.Namespace) -> int:
    try:
        from app.ui.main_window import run
    except ImportError as exc:  # the GUI needs PySide6
        print(f"Interface graphique indisponible : {exc}", file=sys.stderr)
        return 2
    return run(common.ledger_path(args), kind=common.kind(args))
