"""The command line's grammar: global options, then one parser per domain.

Parsing imports nothing from the ledger (each command imports what it needs when it
runs), which keeps ``--version`` and ``--help`` quick.
"""

from __future__ import annotations

import argparse

from app import __version__
from app.cli import archive, backup, central, demo, export, invoice, keys, ledger, pdp


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="comptoir", description="Comptoir : caisse et facturation."
    )
    parser.add_argument("--version", action="version", version=f"Comptoir {__version__}")
    parser.add_argument(
        "--db",
        metavar="CHEMIN",
        help="fichier du journal, ou adresse postgresql+psycopg://… d'une base (ou COMPTOIR_DB)",
    )
    parser.add_argument(
        "--training", action="store_true", help="utiliser le journal de formation associé"
    )
    parser.add_argument(
        "--supervisor",
        metavar="NOM",
        help="mode formation : responsable des stagiaires (défaut : l'utilisateur)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="journal détaillé")
    commands = parser.add_subparsers(dest="command", metavar="COMMANDE")
    # The order of the commands in --help.
    ledger.add_parsers(commands)
    invoice.add_parsers(commands)
    pdp.add_parsers(commands)
    demo.add_parsers(commands)
    export.add_parsers(commands)
    backup.add_parsers(commands)
    archive.add_parsers(commands)
    central.add_parsers(commands)
    keys.add_parsers(commands)
    return parser
