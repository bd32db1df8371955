"""``comptoir ticket refund``: refund lines of a till ticket, paid back by the method chosen."""

from __future__ import annotations

import argparse

from app.cli import arguments, common

# The methods as a shopkeeper types them, and the ledger's names.
METHODS = {
    "especes": "cash",
    "espèces": "cash",
    "carte": "card",
    "cheque": "cheque",
    "chèque": "cheque",
    "bon": "voucher",
}


def add_parsers(commands: argparse._SubParsersAction) -> None:
    ticket = commands.add_parser("ticket", help="tickets de caisse : remboursement")
    actions = ticket.add_subparsers(dest="ticket_command", metavar="ACTION", required=True)
    refund = actions.add_parser("refund", help="rembourser des lignes d'un ticket")
    refund.add_argument("number", metavar="N°", type=arguments.whole(1, 10**9))
    refund.add_argument(
        "--line",
        metavar="N:QTÉ",
        action="append",
        required=True,
        type=arguments.line_quantity,
        help="ligne n du ticket (1 = la première) et quantité à rembourser ; répétable",
    )
    refund.add_argument(
        "--method",
        choices=("especes", "carte", "cheque", "bon"),
        default="especes",
        help="moyen de remboursement (défaut : especes)",
    )
    refund.add_argument("--reason", metavar="MOTIF", required=True, help="motif")
    refund.add_argument("--operator", metavar="NOM", help=common.OPERATOR_HELP)
    refund.set_defaults(run=run_refund)


def run_refund(args: argparse.Namespace) -> int:
    from app.ledger.store import Ledger
    from app.sales.payments import PaymentMethod
    from app.sales.service import refund_lines
    from app.values.money import format_cents

    method = PaymentMethod(METHODS[args.method])
    items = [(n - 1, qty) for n, qty in args.line]
    with Ledger.open(
        common.ledger_path(args),
        kind=common.kind(args),
        create=False,
        operator=common.operator(args),
        supervisor=common.supervisor(args),
    ) as ledger:
        operator = common.authenticated(ledger, args)
        with ledger.transaction() as session:
            recorded = refund_lines(
                session, args.number, items, method=method, operator=operator, reason=args.reason
            )
    print(
        f"Ticket {recorded.doc_number} enregistré : {format_cents(-recorded.body['total'])} "
        f"remboursés en {method.label.lower()} sur le ticket n°{args.number}."
    )
    return 0
