"""``comptoir verify`` and ``comptoir close``: the ledger's integrity and its closures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli import arguments, common


def add_parsers(commands: argparse._SubParsersAction) -> None:
    verify = commands.add_parser("verify", help="vérifier l'intégrité du journal")
    verify.add_argument(
        "--workers", type=arguments.whole(1, 256), default=None, help=argparse.SUPPRESS
    )
    verify.add_argument("--till", metavar="CAISSE", help="serveur central : une seule caisse")
    verify.add_argument(
        "--incremental",
        action="store_true",
        help="depuis le dernier point de contrôle signé (sinon : tout le journal)",
    )
    verify.add_argument(
        "--receipt",
        metavar="CODE",
        help="vérifier un ticket ou une facture par son code de vérification (texte ou "
        "QR code) : 0 si le journal contient exactement cet enregistrement, 1 s'il est "
        "modifié, absent ou d'un autre journal, 2 si le code est illisible",
    )
    verify.set_defaults(run=run_verify)

    close = commands.add_parser("close", help="clôturer une journée, un mois ou un exercice")
    which = close.add_mutually_exclusive_group(required=True)
    which.add_argument("--day", metavar="AAAA-MM-JJ", type=arguments.day)
    which.add_argument("--month", metavar="AAAA-MM", type=arguments.month)
    which.add_argument("--year", metavar="AAAA", type=arguments.year)
    close.add_argument("--operator", metavar="NOM", help=common.OPERATOR_HELP)
    close.add_argument(
        "--cash-counted",
        metavar="MONTANT",
        type=arguments.amount("Espèces comptées"),
        help="espèces comptées dans le tiroir (ex. 152,40)",
    )
    close.set_defaults(run=run_close)


def run_verify(args: argparse.Namespace) -> int:
    from app.ledger.service import verify_and_record

    path = common.ledger_path(args)
    if isinstance(path, Path) and not path.exists():
        print(f"Erreur : aucun journal à l'emplacement {path}.", file=sys.stderr)
        return 2
    if args.receipt is not None:
        return run_verify_receipt(path, args.receipt)
    if args.till or common.file_kind(path) == "central":  # a central verifies the whole shop
        from app.cli.central import verify_central_ledger

        return verify_central_ledger(path, args.till, common.operator_name())
    from app.ledger.central.anchors import central_anchors
    from app.training import ledger_kind

    elsewhere, notes = central_anchors(path)
    report = verify_and_record(
        path, workers=args.workers, incremental=args.incremental, elsewhere=elsewhere
    )
    if isinstance(path, Path) and ledger_kind(path) == "training":
        print(f"Journal de FORMATION vérifié ({path.name}) — ", end="")
    print(report.summary())
    for notice in [*report.notices, *notes]:
        print(f"Remarque : {notice}")
    return 0 if report.ok else 1


def run_verify_receipt(path: Path | str, code: str) -> int:
    """Exit codes: 0 the ledger holds exactly the record the code names, 1 it holds another
    content at that number, none, or the code is another ledger's, 2 the code is
    unreadable (the message says why)."""
    from app.errors import InvalidInput
    from app.ledger.verify.receipt import check_receipt

    try:
        result = check_receipt(str(path), code)
    except InvalidInput as exc:
        print(f"Erreur : {exc.message}", file=sys.stderr)
        return 2
    print(f"Code {result.code}")
    print(result.message)
    return 0 if result.ok else 1


def run_close(args: argparse.Namespace) -> int:
    """A day closure is followed by a backup, a year closure by its archive
    (``close_and_follow_up``). The closure stands whatever happens to the backup or the
    archive; a failed one is printed as a warning and the exit code is 1, so that a script
    running the closure hears about it."""
    from app.cli.archive import print_archive
    from app.documents.text import closure_text
    from app.einvoice.pdp.autoreport import send_due_after_closure
    from app.ledger.backup.copies import backup_line
    from app.ledger.closing import close_and_follow_up
    from app.ledger.closures import last_closure
    from app.ledger.records import RecordType
    from app.ledger.settings import fiscal_settings
    from app.ledger.store import Ledger
    from app.timestamping.service import stamp_pending

    path = common.ledger_path(args)
    counted = None
    if args.day:
        kind, period = RecordType.DAY_CLOSURE, args.day
        if args.cash_counted is not None:
            counted = {"cash": args.cash_counted}
    elif args.month:
        kind, period = RecordType.MONTH_CLOSURE, args.month
    else:
        kind, period = RecordType.YEAR_CLOSURE, args.year
    with Ledger.open(
        path,
        kind=common.kind(args),
        create=False,
        operator=common.operator(args),
        supervisor=common.supervisor(args),
    ) as ledger:
        operator = common.authenticated(ledger, args)
        closed = close_and_follow_up(
            ledger, kind, period, operator=operator, counted=counted,
            stamp=stamp_pending, then=(send_due_after_closure,),
        )  # fmt: skip
        done = closed.follow_up
        if done.backup is not None:
            print(f"Sauvegarde écrite : {done.backup.path}", file=sys.stderr)
        with ledger.reader() as session:
            closure = last_closure(session, kind)  # this one: a day may have several
            assert closure is not None
            shop, backup = fiscal_settings(session), backup_line(session)
            print(
                closure_text(closure, shop, ledger.timezone, training=args.training, backup=backup)
            )
        if done.archive is not None:
            print_archive(done.archive, stream=sys.stderr)
    if done.stamp_notice:
        print(done.stamp_notice, file=sys.stderr)
    for note in done.notes:
        print(note, file=sys.stderr)
    if done.warning:
        print(f"Attention : {done.warning}", file=sys.stderr)
        return 1
    return 0
