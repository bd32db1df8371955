"""``comptoir customer list|show|add|edit``: the customer file, as on the Clients screen."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import date

from app.cli import arguments, common

# Options of ``add`` and ``edit``: the field of CustomerInfo each one sets.
FIELDS = (
    ("name", "--name", "nom ou raison sociale"),
    ("siren", "--siren", "SIREN"),
    ("siret", "--siret", "SIRET"),
    ("vat_number", "--vat-number", "n° de TVA intracommunautaire"),
    ("electronic_address", "--electronic-address", "adresse de facturation électronique"),
    ("email", "--email", "e-mail"),
    ("address", "--address", "adresse de facturation"),
    ("postcode", "--postcode", "code postal"),
    ("city", "--city", "ville"),
    ("country", "--country", "pays (code ISO : FR, BE…)"),
    ("delivery_address", "--delivery-address", "adresse de livraison"),
    ("delivery_postcode", "--delivery-postcode", "code postal de livraison"),
    ("delivery_city", "--delivery-city", "ville de livraison"),
    ("delivery_country", "--delivery-country", "pays de livraison"),
)
KINDS = {"entreprise": "company", "particulier": "person", "company": "company", "person": "person"}


def add_parsers(commands: argparse._SubParsersAction) -> None:
    customer = commands.add_parser("customer", help="clients : liste, fiche, modification")
    actions = customer.add_subparsers(dest="customer_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="lister les clients (recherche : nom, SIREN, ville)")
    listing.add_argument("search", nargs="?", default="", metavar="RECHERCHE")
    listing.add_argument("--inactive", action="store_true", help="avec les clients inactifs")
    listing.set_defaults(run=run_list)
    show = actions.add_parser("show", help="fiche d'un client et ses factures et avoirs")
    show.add_argument("id", metavar="N°", type=arguments.whole(1, 10**9))
    show.set_defaults(run=run_show)
    add = actions.add_parser("add", help="créer un client")
    _field_options(add)
    add.set_defaults(run=run_add)
    edit = actions.add_parser("edit", help="modifier la fiche d'un client")
    edit.add_argument("id", metavar="N°", type=arguments.whole(1, 10**9))
    _field_options(edit)
    edit.set_defaults(run=run_edit)


def _field_options(parser: argparse.ArgumentParser) -> None:
    for _field, option, label in FIELDS:
        parser.add_argument(option, metavar="TEXTE", help=label)
    parser.add_argument("--kind", choices=("entreprise", "particulier"), help="type de client")
    parser.add_argument(
        "--terms", metavar="JOURS", type=arguments.whole(0, 120), help="délai de paiement"
    )
    parser.add_argument("--public", choices=("oui", "non"), help="client public (Chorus Pro)")
    parser.add_argument("--active", choices=("oui", "non"), help="client actif")
    parser.add_argument("--operator", metavar="NOM", help=common.OPERATOR_HELP)


def _typed(args: argparse.Namespace, info):  # type: ignore[no-untyped-def]
    values = {field: getattr(args, field) for field, _o, _l in FIELDS}
    changes = {k: v for k, v in values.items() if v is not None}
    if args.kind:
        changes["kind"] = KINDS[args.kind]
    if args.terms is not None:
        changes["payment_terms_days"] = args.terms
    if args.public:
        changes["public_sector"] = args.public == "oui"
    if args.active:
        changes["active"] = args.active == "oui"
    return replace(info, **changes)


def _open(args: argparse.Namespace, *, readonly: bool):  # type: ignore[no-untyped-def]
    from app.ledger.store import Ledger

    return Ledger.open(
        common.ledger_path(args),
        kind=common.kind(args) if not readonly or args.training else None,  # any may be read
        create=False,
        readonly=readonly,
        operator=getattr(args, "operator", None) or common.operator_name(),
        supervisor=common.supervisor(args),
    )


def _line(info) -> str:  # type: ignore[no-untyped-def]
    kind = "entreprise" if info.is_company else "particulier"
    siren = f" SIREN {info.siren}" if info.siren else ""
    inactive = " (inactif)" if not info.active else ""
    return f"{info.id:>5}  {info.name} — {kind}{siren}, {info.postcode} {info.city}{inactive}"


def run_list(args: argparse.Namespace) -> int:
    from app.customers.service import search_customers

    with _open(args, readonly=True) as ledger, ledger.reader() as session:
        found = search_customers(session, args.search, inactive=args.inactive, limit=10_000)
    for info in found:
        print(_line(info))
    count = len(found)
    print(f"{count} client{'s' if count > 1 else ''}.")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from app.customers.service import get_customer
    from app.einvoice.issuing import customer_history
    from app.values.money import format_cents

    with _open(args, readonly=True) as ledger, ledger.reader() as session:
        info = get_customer(session, args.id)
        history = customer_history(session, args.id)
    print(_line(info).strip())
    labels = dict((field, label) for field, _option, label in FIELDS)
    for field, label in labels.items():
        value = getattr(info, field)
        if value and field != "name":
            print(f"  {label.capitalize()} : {value}")
    print(f"  Délai de paiement : {info.payment_terms_days} jours")
    if info.public_sector:
        print("  Client public : factures déposées sur Chorus Pro")
    if not history:
        print("Aucune facture ni aucun avoir.")
        return 0
    print("Factures et avoirs :")
    for state in history:
        body = state.document.body
        when = date.fromisoformat(body["issue_date"]).strftime("%d/%m/%Y")
        print(
            f"  {body['number']}  {when}  {format_cents(body['total']):>14}  "
            f"reste dû {format_cents(state.outstanding):>12}  {state.label}"
        )
    return 0


def _save(args: argparse.Namespace, info) -> int:  # type: ignore[no-untyped-def]
    from app.customers.service import FieldError, save_customer

    with _open(args, readonly=False) as ledger:
        common.authenticated(ledger, args)
        try:
            with ledger.transaction() as session:
                saved = save_customer(session, info)
        except FieldError as exc:
            option = next((o for f, o, _l in FIELDS if f == exc.field), "")
            where = f" (option {option})" if option else ""
            print(f"Erreur : {exc.message}{where}", file=sys.stderr)
            return 2
    print(f"Client n°{saved.id} enregistré : {saved.name}.")
    return 0


def run_add(args: argparse.Namespace) -> int:
    from app.customers.service import CustomerInfo

    return _save(args, _typed(args, CustomerInfo()))


def run_edit(args: argparse.Namespace) -> int:
    from app.customers.service import get_customer

    with _open(args, readonly=True) as ledger, ledger.reader() as session:
        info = get_customer(session, args.id)
    return _save(args, _typed(args, info))
