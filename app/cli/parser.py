"""The command line's grammar: global options, then one parser per domain.

The global options are accepted before the command and after it, at any depth
(``comptoir --db X verify`` and ``comptoir verify --db X``): every parser of the tree
carries them, with no default of its own, so that a value given at one level is not
undone by another; the top parser alone holds their defaults.

Parsing imports nothing from the ledger (each command imports what it needs when it
runs), which keeps ``--version`` and ``--help`` quick.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from functools import partial
from typing import Any

from app import __version__
from app.cli import (
    archive,
    audit,
    backup,
    central,
    customer,
    demo,
    export,
    invoice,
    keys,
    ledger,
    pdp,
    terminal,
    ticket,
    tsa,
)
from app.cli.arguments import ledger_target
from app.cli.french import FrenchParser, in_french

GLOBAL_DEFAULTS = {"db": None, "training": False, "supervisor": None, "verbose": False}


class CommandParser(FrenchParser):
    """A parser that hands the global options down to every parser below it."""

    def __init__(self, *args: Any, shared: argparse.ArgumentParser, **kwargs: Any) -> None:
        kwargs["parents"] = [*kwargs.get("parents", ()), shared]
        super().__init__(*args, **kwargs)
        self.shared = shared

    def add_subparsers(self, **kwargs: Any) -> argparse._SubParsersAction:
        kwargs.setdefault("parser_class", partial(CommandParser, shared=self.shared))
        return super().add_subparsers(**kwargs)


def _global_options() -> argparse.ArgumentParser:
    shared = FrenchParser(add_help=False, argument_default=argparse.SUPPRESS)
    options = shared.add_argument_group("options globales (avant ou après la commande)")
    options.add_argument(
        "--version",
        action="version",
        version=f"Comptoir {__version__}",
        help="afficher la version",
    )
    options.add_argument(
        "--db",
        metavar="CHEMIN",
        type=ledger_target,
        help="fichier du journal, ou adresse postgresql+psycopg://… d'une base (ou COMPTOIR_DB)",
    )
    options.add_argument(
        "--training", action="store_true", help="utiliser le journal de formation associé"
    )
    options.add_argument(
        "--supervisor",
        metavar="NOM",
        help="mode formation : responsable des stagiaires (défaut : l'utilisateur)",
    )
    options.add_argument("-v", "--verbose", action="store_true", help="journal détaillé")
    return shared


def build_parser() -> argparse.ArgumentParser:
    """The whole grammar; build it inside ``in_french()`` for French help texts."""
    parser = CommandParser(
        prog="comptoir",
        description="Comptoir : caisse et facturation.",
        shared=_global_options(),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMANDE")
    # The order of the commands in --help.
    ledger.add_parsers(commands)
    invoice.add_parsers(commands)
    customer.add_parsers(commands)
    ticket.add_parsers(commands)
    pdp.add_parsers(commands)
    demo.add_parsers(commands)
    export.add_parsers(commands)
    backup.add_parsers(commands)
    archive.add_parsers(commands)
    audit.add_parsers(commands)
    central.add_parsers(commands)
    keys.add_parsers(commands)
    terminal.add_parsers(commands)
    tsa.add_parsers(commands)
    return parser


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The parsed command line; raises french.UsageError (message printed) or
    french.Exited (``--help``, ``--version`` answered)."""
    with in_french():
        # The defaults of the global options: set before parsing, so that no parser of
        # the tree (they all share the options' definitions) has one to put back.
        return build_parser().parse_args(argv, argparse.Namespace(**GLOBAL_DEFAULTS, run=None))
