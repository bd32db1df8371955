"""``comptoir archive purge --year AAAA --archive FICHIER [--yes]`` (see app/cli.py).

Without ``--yes`` the command shows what would be deleted and asks, on the terminal, for
the year to be typed again: a purge is definitive. Where nobody can answer (a script, a
pipe) it stops there, having shown what would go; ``--yes`` gives the consent beforehand.
Exit codes as everywhere: 0 purged, 2 refused (a rule of the purge, no confirmation, bad
usage).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.ledger.archive.purge import PurgeResult


def add_purge_parser(actions: argparse._SubParsersAction) -> None:
    purge = actions.add_parser(
        "purge",
        help="supprimer du journal un exercice archivé au-delà de la durée de conservation",
    )
    purge.add_argument("--year", required=True, metavar="AAAA", help="exercice à purger")
    purge.add_argument(
        "--archive", required=True, metavar="FICHIER", help="l'archive de cet exercice (ZIP)"
    )
    purge.add_argument("--yes", action="store_true", help="ne pas demander de confirmation")
    purge.add_argument("--operator", default=None, help="opérateur (défaut : l'utilisateur)")


def run_purge(
    args: argparse.Namespace, target: Path | str, operator: str, kind: str, supervisor: str | None
) -> int:
    from app.ledger.archive.purge import plan_purge, purge_period
    from app.ledger.store import Ledger

    archive = Path(args.archive)
    if not archive.is_file():
        print(f"Erreur : fichier introuvable : {archive}", file=sys.stderr)
        return 2
    with Ledger.open(
        target, kind=kind, create=False, operator=operator, supervisor=supervisor
    ) as ledger:
        if not args.yes:
            plan = plan_purge(ledger, args.year, archive_path=archive)
            print(plan.describe())
            if not sys.stdin.isatty():
                print(
                    "Erreur : la purge demande une confirmation au terminal ; sans terminal, "
                    "relancez avec --yes après avoir vérifié ce qui sera supprimé.",
                    file=sys.stderr,
                )
                return 2
            answer = input(f"Pour confirmer la purge, tapez l'année ({plan.year}) : ")
            if answer.strip() != plan.year:
                print("Purge abandonnée : rien n'a été supprimé.", file=sys.stderr)
                return 2
        result = purge_period(ledger, args.year, operator=operator, archive_path=archive)
    _print_result(result)
    return 0


def _print_result(result: PurgeResult) -> None:
    plan = result.plan
    print(
        f"Exercice {plan.year} purgé : {plan.records} enregistrements supprimés du journal, "
        f"conservés dans l'archive {plan.archive_path.name}."
    )
    print(
        f"Clôtures et grands totaux perpétuels conservés ; purge inscrite au journal "
        f"(enregistrement n°{result.recorded.seq})."
    )
