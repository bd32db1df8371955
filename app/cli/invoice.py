"""``comptoir invoice export|validate|credit``: an invoice's Factur-X, anyone's invoice
checked, a credit note; self-billing (``mandate``, ``self-bill``…) in ``app.cli.selfbilling``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from app.cli import arguments, common, selfbilling


def add_parsers(commands: argparse._SubParsersAction) -> None:
    invoice = commands.add_parser("invoice", help="factures : export et validation")
    invoice_commands = invoice.add_subparsers(
        dest="invoice_command", metavar="ACTION", required=True
    )
    export = invoice_commands.add_parser("export", help="écrire le Factur-X d'une facture")
    export.add_argument("number", metavar="NUMÉRO", help="ex. F2026-000123 ou AV2026-000004")
    export.add_argument(
        "--out",
        metavar="FICHIER",
        type=arguments.file_or_folder,
        help="fichier, ou dossier (existant, ou dont le nom finit par « / »)",
    )
    export.set_defaults(run=run_export)
    check = invoice_commands.add_parser("validate", help="valider un Factur-X, CII ou UBL")
    check.add_argument("file", metavar="FICHIER", type=arguments.existing_file)
    check.set_defaults(run=run_validate)
    credit = invoice_commands.add_parser(
        "credit", help="émettre un avoir : toute la facture, ou des lignes et quantités"
    )
    credit.add_argument("number", metavar="NUMÉRO", help="la facture à créditer, ex. F2026-000123")
    credit.add_argument("--reason", metavar="MOTIF", required=True, help="motif de l'avoir")
    credit.add_argument(
        "--line",
        metavar="N:QTÉ",
        action="append",
        type=arguments.line_quantity,
        help="ligne n (1 = la première) et quantité à créditer, ex. 2:1,5 ; répétable ; "
        "sans --line : toute la facture",
    )
    credit.add_argument("--operator", metavar="NOM", help=common.OPERATOR_HELP)
    credit.set_defaults(run=run_credit)
    selfbilling.add_parsers(invoice_commands)


def run_validate(args: argparse.Namespace) -> int:
    from app.einvoice.validate import validate_invoice

    path = args.file
    report = validate_invoice(path.read_bytes(), filename=path.name)
    print(report.summary())
    if report.rules:
        print(report.rules_line())
    for finding in report.findings:
        level = "ERREUR" if finding.severity == "fatal" else "Avertissement"
        print(f"  {level} {finding.rule} : {finding.message}")
    return 0 if report.ok else 1


def run_export(args: argparse.Namespace) -> int:
    from app.einvoice.service import export_pdf
    from app.ledger.store import Ledger

    path = common.ledger_path(args)
    out = Path(args.out) if args.out else None
    if out is not None and args.out.endswith(("/", os.sep)):  # a folder, made if need be
        out.mkdir(parents=True, exist_ok=True)
    kind = "training" if args.training else None  # any ledger may be read from
    with Ledger.open(path, kind=kind, readonly=True) as ledger, ledger.reader() as session:
        written = export_pdf(session, args.number, out)
    print(f"Factur-X écrit : {written}")
    return 0


def run_credit(args: argparse.Namespace) -> int:
    from app.einvoice.service import credit_and_store
    from app.ledger.store import Ledger
    from app.values.money import format_cents

    lines = [(n - 1, qty) for n, qty in args.line] if args.line else None
    with Ledger.open(
        common.ledger_path(args),
        kind=common.kind(args),
        create=False,
        operator=common.operator(args),
        supervisor=common.supervisor(args),
    ) as ledger:
        operator = common.authenticated(ledger, args)
        with ledger.transaction() as session:
            issued = credit_and_store(
                session, args.number, operator=operator, reason=args.reason, lines=lines
            )
    body = issued.record.body
    print(
        f"Avoir {issued.doc_number} sur la facture {body['preceding']['number']} : "
        f"{format_cents(body['total'])} TTC. Factur-X écrit : {issued.pdf}"
    )
    return 0
