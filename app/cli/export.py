"""``comptoir export fec|csv|xlsx``: the accountant's FEC, the journal as a table."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from app.cli import arguments, common
from app.errors import ComptoirError


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """``export FORMAT ...``: one sub-action per format, each with its own options."""
    exports = commands.add_parser("export", help="exports comptables et fiscaux")
    formats = exports.add_subparsers(dest="export_command", metavar="FORMAT", required=True)
    fec = formats.add_parser("fec", help="fichier des écritures comptables (FEC) d'un exercice")
    fec.add_argument(
        "--year", required=True, metavar="AAAA", type=arguments.year, help="exercice (année civile)"
    )
    fec.add_argument(
        "--out",
        metavar="DOSSIER",
        type=arguments.folder,
        help="dossier de sortie (défaut : courant)",
    )
    fec.add_argument("--operator", metavar="NOM", help=common.OPERATOR_HELP)
    fec.set_defaults(run=run_fec)
    _add_view_parsers(formats)


def _add_view_parsers(formats: argparse._SubParsersAction) -> None:
    """``export csv|xlsx``: the journal, filtered as in the archive viewer. Record types are
    checked by the command itself: the parser stays free of the ledger's imports, which
    keep ``--version`` and ``--help`` quick."""
    for fmt in ("csv", "xlsx"):
        view = formats.add_parser(fmt, help=f"le journal, filtré, en {fmt.upper()}")
        view.add_argument(
            "--out",
            required=True,
            metavar="FICHIER",
            type=arguments.output_file,
            help="fichier à écrire",
        )
        view.add_argument(
            "--from", dest="date_from", metavar="AAAA-MM-JJ", type=arguments.day, help="du (inclus)"
        )
        view.add_argument(
            "--to", dest="date_to", metavar="AAAA-MM-JJ", type=arguments.day, help="au (inclus)"
        )
        view.add_argument(
            "--type",
            dest="types",
            action="append",
            metavar="TYPE",
            help="type d'enregistrement (répétable) : TICKET, INVOICE, DAY_CLOSURE, EVENT…",
        )
        view.add_argument("--operator", metavar="NOM", help="enregistrements de cet opérateur")
        view.add_argument("--customer", metavar="TEXTE", help="client (nom ou SIREN)")
        view.add_argument(
            "--min",
            dest="min_amount",
            metavar="MONTANT",
            type=arguments.amount("Montant min."),
            help="montant TTC min.",
        )
        view.add_argument(
            "--max",
            dest="max_amount",
            metavar="MONTANT",
            type=arguments.amount("Montant max."),
            help="montant TTC max.",
        )
        view.add_argument("--text", metavar="TEXTE", help="texte recherché dans l'enregistrement")
        view.set_defaults(run=run_view)


def _record_types(names: Sequence[str]) -> frozenset[str]:
    from app.ledger.records import RecordType

    known = {t.value for t in RecordType}
    wrong = [name for name in names if name.upper() not in known]
    if wrong:
        raise ComptoirError(
            f"Type d'enregistrement inconnu : {', '.join(wrong)} (possibles : "
            f"{', '.join(sorted(known))})."
        )
    return frozenset(RecordType(name.upper()) for name in names)


def run_view(args: argparse.Namespace) -> int:
    from app.ledger.export.browse import RecordFilter
    from app.ledger.export.views import export_view, journaling_ledger

    path = common.ledger_path(args)
    if isinstance(path, str):
        from app.ledger.export.browse import FILE_ONLY

        raise ComptoirError(FILE_ONLY)
    if not path.exists():
        print(f"Erreur : aucun journal à l'emplacement {path}.", file=sys.stderr)
        return 2
    flt = RecordFilter(
        date_from=args.date_from,
        date_to=args.date_to,
        types=_record_types(args.types or ()),
        operator=args.operator or "",
        min_cents=args.min_amount,
        max_cents=args.max_amount,
        customer=args.customer or "",
        text=args.text or "",
    )
    by = common.operator_name()
    with journaling_ledger(path, operator=by) as ledger:
        written = export_view(
            path, flt, args.export_command, Path(args.out), ledger=ledger, operator=by
        )
    print(f"Export écrit : {written} ({flt.summary()})")
    if ledger is None:
        print(
            "Remarque : la clé de signature de ce journal n'est pas sur ce poste ; "
            "l'export n'y est pas journalisé."
        )
    return 0


def run_fec(args: argparse.Namespace) -> int:
    from app.ledger.export.fec import read_fec, write_fec
    from app.ledger.store import Ledger
    from app.values.money import format_cents

    year = int(args.year)  # four digits, checked by arguments.year
    path = common.ledger_path(args)
    operator = common.operator(args)
    out = Path(args.out) if args.out else Path.cwd()
    # A demo ledger may be exported as it is; the real one unless --training is given.
    demo = common.file_kind(path) == "demo" and not args.training
    kind = "demo" if demo else common.kind(args)
    with Ledger.open(path, kind=kind, create=False, operator=operator) as ledger:
        operator = common.authenticated(ledger, args)
        written = write_fec(ledger, year, out, operator=operator)
    summary = read_fec(written)
    print(f"FEC écrit : {written}")
    print(
        f"Exercice {year} : {summary.entries} écritures, {summary.lines} lignes ; "
        f"total débit {format_cents(summary.debit)} = total crédit {format_cents(summary.credit)}"
    )
    return 0
