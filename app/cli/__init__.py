"""Command line: the same services as the GUI, headless.

One module per domain (ledger: verify and close; invoice; pdp; export; backup; archive
and purge; central; demo), each adding its parsers and the functions that run them;
``parser`` puts them together with the global options, ``arguments`` checks the values
typed, ``french`` gives argparse's messages in French.

Exit codes: 0 success, 1 a check found a problem, 2 bad usage or a refused operation.
Every usage error is a French sentence on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from app.cli import common
from app.cli.arguments import unusable_character
from app.cli.french import Exited, UsageError
from app.cli.parser import parse
from app.errors import ComptoirError

log = logging.getLogger("comptoir")


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    problem = unusable_character(words)
    if problem:
        print(f"Erreur : {problem}", file=sys.stderr)
        return 2
    try:
        args = parse(words)
    except UsageError:  # already printed, with the usage
        return 2
    except Exited as exc:  # --help, --version
        return exc.status
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
    except OSError as exc:  # a file or folder named on the command line, or the disk
        log.info("%r", exc)
        print(f"Erreur : {common.system_error(exc)}", file=sys.stderr)
        return 2


def _gui(args: argparse.Namespace) -> int:
    try:
        from app.ui.app_start import run
    except ImportError as exc:  # the GUI needs PySide6
        print(f"Interface graphique indisponible : {exc}", file=sys.stderr)
        return 2
    return run(common.ledger_path(args), kind=common.kind(args))  # a demo file opens as one
