"""``comptoir archive create|verify|list|purge``: signed archives of closed periods.

Exit codes: 0 written, listed, purged, or intact; 1 the archive verified has a problem;
2 refused (period not closed, unreadable ledger, a purge not allowed).

Without ``--yes``, ``archive purge`` shows what would be deleted and asks, on the
terminal, for the year to be typed again: a purge is definitive. Where nobody can answer
(a script, a pipe) it stops there, having shown what would go; ``--yes`` gives the consent
beforehand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli import arguments, common

if TYPE_CHECKING:
    from app.ledger.archive.purge import PurgeResult


def add_parsers(commands: argparse._SubParsersAction) -> None:
    archive = commands.add_parser("archive", help="archives fiscales signées des périodes closes")
    actions = archive.add_subparsers(dest="archive_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="archiver un exercice ou un mois clôturé")
    which = create.add_mutually_exclusive_group(required=True)
    which.add_argument("--year", metavar="AAAA", type=arguments.year)
    which.add_argument("--month", metavar="AAAA-MM", type=arguments.month)
    create.add_argument(
        "--out",
        metavar="DOSSIER",
        type=arguments.folder,
        help="dossier (défaut : celui des réglages)",
    )
    create.add_argument("--operator", metavar="NOM", help=common.OPERATOR_HELP)
    create.set_defaults(run=run_create)
    check = actions.add_parser("verify", help="vérifier une archive, sur n'importe quel poste")
    check.add_argument("file", metavar="FICHIER", type=arguments.existing_file)
    check.set_defaults(run=run_verify)
    listing = actions.add_parser("list", help="archives écrites par ce journal")
    listing.set_defaults(run=run_list)
    purge = actions.add_parser(
        "purge",
        help="supprimer du journal un exercice archivé au-delà de la durée de conservation",
    )
    purge.add_argument(
        "--year", required=True, metavar="AAAA", type=arguments.year, help="exercice à purger"
    )
    purge.add_argument(
        "--archive",
        required=True,
        metavar="FICHIER",
        type=arguments.existing_file,
        help="l'archive de cet exercice (ZIP)",
    )
    purge.add_argument("--yes", action="store_true", help="ne pas demander de confirmation")
    purge.add_argument("--operator", metavar="NOM", help=common.OPERATOR_HELP)
    purge.set_defaults(run=run_purge)


def print_archive(result, stream=None) -> None:  # type: ignore[no-untyped-def]
    from app.ledger.archive.check import of_period

    print(f"Archive {of_period(result.period)} écrite : {result.path}", file=stream)
    print(
        f"Enregistrements n°{result.first_seq} à n°{result.last_seq} ({result.records}) ; "
        f"archivage inscrit au journal (enregistrement n°{result.recorded.seq}).",
        file=stream,
    )


def run_create(args: argparse.Namespace) -> int:
    from app.ledger.archive.write import create_archive
    from app.ledger.store import Ledger

    path, operator = common.ledger_path(args), common.operator(args)
    out = Path(args.out) if args.out else None
    with Ledger.open(
        path,
        kind=common.kind(args),
        create=False,
        operator=operator,
        supervisor=common.supervisor(args),
    ) as ledger:
        operator = common.authenticated(ledger, args)
        result = create_archive(ledger, args.year or args.month, operator=operator, out_dir=out)
    print_archive(result)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from app.ledger.archive.check import verify_archive

    report = verify_archive(args.file)
    print(report.summary())
    shown = 50
    for finding in report.findings[:shown]:
        print(f"  - {finding.message}")
    if len(report.findings) > shown:
        print(f"  … et {len(report.findings) - shown} autre(s) anomalie(s).")
    return 0 if report.ok else 1


def run_list(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from app.ledger.archive.check import period_label
    from app.ledger.archive.folder import archive_dir, list_archives
    from app.ledger.store import Ledger

    kind = "training" if args.training else None  # any ledger may be read from
    with Ledger.open(common.ledger_path(args), kind=kind, readonly=True) as ledger:
        with ledger.reader() as session:
            entries = list_archives(session)
        folder, tz = archive_dir(ledger), ZoneInfo(ledger.timezone)
    if not entries:
        print("Aucune archive n'a encore été écrite par ce journal.")
        return 0
    print(f"Dossier des archives : {folder}")
    for entry in entries:
        created = datetime.strptime(entry.created_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        local = created.astimezone(tz)
        missing = "" if (folder / entry.file_name).exists() else "  (absente de ce dossier)"
        print(
            f"  {period_label(entry.period):<26} créée le {local:%d/%m/%Y %H:%M:%S}"
            f"  n°{entry.first_seq} à n°{entry.last_seq}  {entry.file_name}{missing}"
        )
    return 0


def run_purge(args: argparse.Namespace) -> int:
    from app.ledger.archive.purge import plan_purge, purge_period
    from app.ledger.store import Ledger

    target, operator = common.ledger_path(args), common.operator(args)
    archive = args.archive
    with Ledger.open(
        target,
        kind=common.kind(args),
        create=False,
        operator=operator,
        supervisor=common.supervisor(args),
    ) as ledger:
        operator = common.authenticated(ledger, args)
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
    _print_purge(result)
    return 0


def _print_purge(result: PurgeResult) -> None:
    plan = result.plan
    print(
        f"Exercice {plan.year} purgé : {plan.records} enregistrements supprimés du journal, "
        f"conservés dans l'archive {plan.archive_path.name}."
    )
    print(
        f"Clôtures et grands totaux perpétuels conservés ; purge inscrite au journal "
        f"(enregistrement n°{result.recorded.seq})."
    )
