"""``comptoir verify`` and ``comptoir close``: the ledger's integrity and its closures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli import common


def add_parsers(commands: argparse._SubParsersAction) -> None:
    verify = commands.add_parser("verify", help="vérifier l'intégrité du journal")
    verify.add_argument("--workers", type=int, default=None, help=argparse.SUPPRESS)
    verify.add_argument("--till", metavar="CAISSE", help="serveur central : une seule caisse")
    verify.set_defaults(run=run_verify)

    close = commands.add_parser("close", help="clôturer une journée, un mois ou un exercice")
    which = close.add_mutually_exclusive_group(required=True)
    which.add_argument("--day", metavar="AAAA-MM-JJ")
    which.add_argument("--month", metavar="AAAA-MM")
    which.add_argument("--year", metavar="AAAA")
    close.add_argument("--operator", default=None, help="opérateur (défaut : l'utilisateur)")
    close.add_argument(
        "--cash-counted", metavar="MONTANT", help="espèces comptées dans le tiroir (ex. 152,40)"
    )
    close.set_defaults(run=run_close)


def run_verify(args: argparse.Namespace) -> int:
    from app.ledger.service import verify_and_record

    path = common.ledger_path(args)
    if isinstance(path, Path) and not path.exists():
        print(f"Erreur : aucun journal à l'emplacement {path}.", file=sys.stderr)
        return 2
    if args.till or common.file_kind(path) == "central":  # a central verifies the whole shop
        from app.cli.central import verify_central_ledger

        return verify_central_ledger(path, args.till, common.operator_name())
    from app.training import ledger_kind

    report = verify_and_record(path, workers=args.workers)
    if isinstance(path, Path) and ledger_kind(path) == "training":
        print(f"Journal de FORMATION vérifié ({path.name}) — ", end="")
    print(report.summary())
    for notice in report.notices:
        print(f"Remarque : {notice}")
    return 0 if report.ok else 1


def run_close(args: argparse.Namespace) -> int:
    """A day closure is followed by a backup, a year closure by its archive. The closure
    stands whatever happens to the backup or the archive; a failed one is printed as a
    warning and the exit code is 1, so that a script running the closure hears about it."""
    from app.cli.archive import archive_after_year_closure
    from app.cli.backup import backup_after_closure
    from app.documents.text import closure_text
    from app.ledger.backup.copies import backup_line
    from app.ledger.closures import close_day, close_month, close_year, get_closure
    from app.ledger.settings import fiscal_settings
    from app.ledger.store import Ledger
    from app.values.money import parse_cents

    path = common.ledger_path(args)
    operator = common.operator(args)
    with Ledger.open(
        path,
        kind=common.kind(args),
        create=False,
        operator=operator,
        supervisor=common.supervisor(args),
    ) as ledger:
        with ledger.transaction() as session:
            if args.day:
                counted = None
                if args.cash_counted is not None:
                    counted = {"cash": parse_cents(args.cash_counted, "Espèces comptées")}
                record = close_day(
                    session, common.parse_day(args.day), operator=operator, counted=counted
                )
            elif args.month:
                record = close_month(session, args.month, operator=operator)
            else:
                record = close_year(session, args.year, operator=operator)
        warning = backup_after_closure(ledger, operator) if args.day else None
        with ledger.reader() as session:
            closure = get_closure(session, record.record_type, record.body["period"])
            assert closure is not None
            shop, backup = fiscal_settings(session), backup_line(session)
            print(
                closure_text(closure, shop, ledger.timezone, training=args.training, backup=backup)
            )
        if args.year:
            warning = archive_after_year_closure(ledger, record.body["period"], operator)
    if warning:
        print(f"Attention : {warning}", file=sys.stderr)
        return 1
    return 0
