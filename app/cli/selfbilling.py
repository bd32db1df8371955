"""``comptoir invoice mandate add|list|end`` and ``comptoir invoice self-bill|self-credit|
self-billed``: a supplier's self-billing mandates, and the invoices the shop draws up in
its name under them (Factures › Autofacturation in the GUI)."""

from __future__ import annotations

import argparse
from datetime import date
from decimal import Decimal, InvalidOperation

from app.cli import arguments, common

MANDATE_FIELDS = (
    ("name", "--name", "raison sociale du fournisseur", True),
    ("siren", "--siren", "SIREN du fournisseur", False),
    ("siret", "--siret", "SIRET du fournisseur", False),
    ("vat_number", "--vat-number", "n° de TVA intracommunautaire du fournisseur", False),
    ("address", "--address", "adresse du fournisseur", True),
    ("postcode", "--postcode", "code postal", True),
    ("city", "--city", "ville", True),
    ("electronic_address", "--electronic-address", "adresse électronique (SIREN…)", False),
    ("iban", "--iban", "IBAN du fournisseur (pour le virement)", False),
)


def add_parsers(invoice_commands: argparse._SubParsersAction) -> None:
    mandate = invoice_commands.add_parser(
        "mandate", help="mandats d'autofacturation des fournisseurs : ajout, liste, fin"
    )
    actions = mandate.add_subparsers(dest="mandate_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="enregistrer le mandat d'un fournisseur")
    add.add_argument("--reference", metavar="RÉF", required=True, help="référence du mandat")
    add.add_argument(
        "--prefix", metavar="PRÉFIXE", required=True, help="préfixe de numérotation (ex. AFDUPONT)"
    )
    add.add_argument("--start", metavar="AAAA-MM-JJ", type=arguments.day, required=True)
    add.add_argument("--end", metavar="AAAA-MM-JJ", type=arguments.day, help="fin du mandat")
    for _field, option, label, required in MANDATE_FIELDS:
        add.add_argument(option, metavar="TEXTE", help=label, required=required)
    add.add_argument("--operator", metavar="NOM", help=common.OPERATOR_HELP)
    add.set_defaults(run=run_mandate_add)
    listing = actions.add_parser("list", help="lister les mandats")
    listing.set_defaults(run=run_mandate_list)
    end = actions.add_parser("end", help="mettre fin à un mandat (dernier jour couvert)")
    end.add_argument("mandate", metavar="MANDAT", help="référence ou préfixe du mandat")
    end.add_argument("--on", metavar="AAAA-MM-JJ", type=arguments.day, required=True)
    end.add_argument("--operator", metavar="NOM", help=common.OPERATOR_HELP)
    end.set_defaults(run=run_mandate_end)

    bill = invoice_commands.add_parser(
        "self-bill", help="émettre une autofacture (389) au nom d'un fournisseur mandant"
    )
    bill.add_argument("--mandate", metavar="MANDAT", required=True, help="référence ou préfixe")
    bill.add_argument(
        "--line",
        metavar="LIBELLÉ;QTÉ;PRIX;TVA",
        action="append",
        required=True,
        type=self_billed_line,
        help="une ligne, ex. « Pommes Golden;40;1,80;5,5 » (prix HT en euros, TVA en %%) ; "
        "répétable",
    )
    bill.add_argument("--ttc", action="store_true", help="les prix sont TTC")
    bill.add_argument("--due-days", metavar="JOURS", type=arguments.whole(0, 120), default=30)
    bill.add_argument("--note", metavar="TEXTE", default="", help="note libre")
    bill.add_argument("--order", metavar="N°", default="", help="bon de commande (BT-13)")
    bill.add_argument("--operator", metavar="NOM", help=common.OPERATOR_HELP)
    bill.set_defaults(run=run_self_bill)
    credit = invoice_commands.add_parser(
        "self-credit", help="émettre un avoir d'autofacturation (261) sur une autofacture"
    )
    credit.add_argument("number", metavar="NUMÉRO", help="l'autofacture, ex. AFDUPONT-000001")
    credit.add_argument("--reason", metavar="MOTIF", required=True, help="motif de l'avoir")
    credit.add_argument(
        "--line",
        metavar="N:QTÉ",
        action="append",
        type=arguments.line_quantity,
        help="ligne n (1 = la première) et quantité, ex. 1:5 ; sans --line : toute l'autofacture",
    )
    credit.add_argument("--operator", metavar="NOM", help=common.OPERATOR_HELP)
    credit.set_defaults(run=run_self_credit)
    listing = invoice_commands.add_parser(
        "self-billed", help="lister les autofactures et leurs avoirs"
    )
    listing.add_argument("--mandate", metavar="MANDAT", help="celles d'un mandat")
    listing.set_defaults(run=run_self_billed_list)


def self_billed_line(text: str):  # type: ignore[no-untyped-def]
    """« Pommes Golden;40;1,80;5,5 »: label, quantity, unit price in euros, VAT rate in %."""
    from app.einvoice.invoices import InvoiceLineInput
    from app.errors import ComptoirError
    from app.values.money import parse_cents

    parts = text.rsplit(";", 3)
    if len(parts) != 4:
        raise argparse.ArgumentTypeError(
            f"ligne attendue sous la forme LIBELLÉ;QTÉ;PRIX;TVA (ex. Pommes;40;1,80;5,5), "
            f"pas {text!r}."
        )
    label, qty, price, rate = (part.strip() for part in parts)
    try:
        quantity = Decimal(qty.replace(",", "."))
        percent = Decimal(rate.replace(",", ".").removesuffix("%").strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"quantité ou taux illisible dans {text!r}.") from None
    if not (quantity.is_finite() and percent.is_finite()):
        raise argparse.ArgumentTypeError(f"quantité ou taux illisible dans {text!r}.")
    bp = int(percent * 100) if percent * 100 == int(percent * 100) else -1
    try:
        cents = parse_cents(price, "Prix unitaire")
        if bp == 0:  # a supplier under the VAT franchise (art. 293 B du CGI)
            return InvoiceLineInput(
                label, quantity, cents, 0, category="E", exemption_code="VATEX-FR-FRANCHISE",
                exemption_reason="TVA non applicable, article 293 B du CGI",
            )  # fmt: skip
        return InvoiceLineInput(label, quantity, cents, bp)
    except ComptoirError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _open(args: argparse.Namespace, *, readonly: bool = False):  # type: ignore[no-untyped-def]
    from app.ledger.store import Ledger

    return Ledger.open(
        common.ledger_path(args),
        kind=common.kind(args) if not readonly or args.training else None,
        create=False,
        readonly=readonly,
        operator=common.operator(args) if not readonly else common.operator_name(),
        supervisor=common.supervisor(args),
    )


def _mandate_line(mandate, day: date) -> str:  # type: ignore[no-untyped-def]
    end = f" au {mandate.end_date:%d/%m/%Y}" if mandate.end_date else ", sans date de fin"
    return (
        f"{mandate.reference}  {mandate.name} (SIREN {mandate.siren})  préfixe {mandate.prefix}  "
        f"du {mandate.start_date:%d/%m/%Y}{end}  — {mandate.state_on(day).lower()}"
    )


def run_mandate_add(args: argparse.Namespace) -> int:
    from app.einvoice.selfbilling.mandates import Mandate, add_mandate
    from app.ledger.closures import today

    values = {field: getattr(args, field) or "" for field, _o, _l, _r in MANDATE_FIELDS}
    mandate = Mandate(
        reference=args.reference,
        prefix=args.prefix,
        start_date=args.start,
        end_date=args.end,
        **values,
    )
    with _open(args) as ledger:
        operator = common.authenticated(ledger, args)
        with ledger.transaction() as session:
            saved = add_mandate(session, mandate, operator=operator)
            day = today(session)
    print(f"Mandat enregistré : {_mandate_line(saved, day)}")
    return 0


def run_mandate_list(args: argparse.Namespace) -> int:
    from app.einvoice.selfbilling.mandates import list_mandates
    from app.ledger.closures import today

    with _open(args, readonly=True) as ledger, ledger.reader() as session:
        mandates = list_mandates(session)
        day = today(session)
    for mandate in mandates:
        print(_mandate_line(mandate, day))
    count = len(mandates)
    print(f"{count} mandat{'s' if count > 1 else ''} d'autofacturation.")
    return 0


def run_mandate_end(args: argparse.Namespace) -> int:
    from app.einvoice.selfbilling.mandates import end_mandate
    from app.ledger.closures import today

    with _open(args) as ledger:
        operator = common.authenticated(ledger, args)
        with ledger.transaction() as session:
            ended = end_mandate(session, args.mandate, args.on, operator=operator)
            day = today(session)
    print(f"Mandat modifié : {_mandate_line(ended, day)}")
    return 0


def run_self_bill(args: argparse.Namespace) -> int:
    from app.einvoice.invoices import InvoiceDraft
    from app.einvoice.service import self_bill_and_store
    from app.values.money import format_cents

    draft = InvoiceDraft(
        customer_id=0,  # the parties are the mandate's supplier and the shop
        lines=tuple(args.line),
        prices_include_vat=args.ttc,
        due_days=args.due_days,
        note=args.note,
        purchase_order=args.order,
    )
    with _open(args) as ledger:
        operator = common.authenticated(ledger, args)
        with ledger.transaction() as session:
            issued = self_bill_and_store(session, args.mandate, draft, operator=operator)
    body = issued.record.body
    print(
        f"Autofacture {issued.doc_number} au nom de {body['seller']['name']} (mandat "
        f"{body['self_billing']['mandate']}) : {format_cents(body['total'])} TTC. "
        f"Factur-X écrit : {issued.pdf}"
    )
    return 0


def run_self_credit(args: argparse.Namespace) -> int:
    from app.einvoice.service import self_credit_and_store
    from app.values.money import format_cents

    lines = [(n - 1, qty) for n, qty in args.line] if args.line else None
    with _open(args) as ledger:
        operator = common.authenticated(ledger, args)
        with ledger.transaction() as session:
            issued = self_credit_and_store(
                session, args.number, operator=operator, reason=args.reason, lines=lines
            )
    body = issued.record.body
    print(
        f"Avoir d'autofacturation {issued.doc_number} sur {body['preceding']['number']} : "
        f"{format_cents(body['total'])} TTC. Factur-X écrit : {issued.pdf}"
    )
    return 0


def run_self_billed_list(args: argparse.Namespace) -> int:
    from app.einvoice.selfbilling.documents import list_self_billed
    from app.values.money import format_cents

    with _open(args, readonly=True) as ledger, ledger.reader() as session:
        found = list_self_billed(session, mandate=args.mandate)
    for item in found:
        when = date.fromisoformat(item.issue_date).strftime("%d/%m/%Y")
        print(
            f"{item.number}  {when}  {item.kind:<24}  {item.supplier}  "
            f"{format_cents(item.total):>12}  {item.status.label}"
        )
    count = len(found)
    print(f"{count} document{'s' if count > 1 else ''} d'autofacturation.")
    return 0
