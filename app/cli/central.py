"""``comptoir central …`` and ``comptoir verify`` on a central ledger.

The parser part imports nothing from the ledger, so that ``--help`` stays quick; each
command imports what it needs. Exit codes as everywhere: 0 done, 1 a check found a
problem or the central could not be reached (nothing is lost: the till keeps its records
and the next upload goes on from where the central stands), 2 bad usage or refused
(a fork, a shop day some till has not closed yet).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli import arguments, common

if TYPE_CHECKING:
    from app.ledger.journal import Recorded
    from app.ledger.store import Ledger

SHOWN_FINDINGS = 50


def add_parsers(commands: argparse._SubParsersAction) -> None:
    central = commands.add_parser(
        "central", help="serveur central d'une boutique à plusieurs caisses"
    )
    actions = central.add_subparsers(dest="central_command", metavar="ACTION", required=True)
    init = actions.add_parser(
        "init", help="créer ou mettre à jour le journal du serveur central (--db : sa base)"
    )
    init.add_argument(
        "--app-role",
        metavar="ROLE",
        help="PostgreSQL : rôle des caisses, en ajout seul (mot de passe demandé, ou "
        "COMPTOIR_APP_ROLE_PASSWORD)",
    )
    send = actions.add_parser(
        "upload", help="envoyer au serveur central ce que la caisse a enregistré (--db : la caisse)"
    )
    send.add_argument(
        "--to",
        required=True,
        metavar="ADRESSE",
        help="le serveur central : postgresql+psycopg://utilisateur@hôte/base ou un fichier",
    )
    send.add_argument(
        "--batch", type=arguments.whole(1, 100_000), default=500, help=argparse.SUPPRESS
    )
    close = actions.add_parser(
        "close", help="clôturer une journée, un mois ou un exercice de la boutique (--db : central)"
    )
    which = close.add_mutually_exclusive_group(required=True)
    which.add_argument("--day", metavar="AAAA-MM-JJ", type=arguments.day)
    which.add_argument("--month", metavar="AAAA-MM", type=arguments.month)
    which.add_argument("--year", metavar="AAAA", type=arguments.year)
    close.add_argument("--operator", metavar="NOM", help="opérateur (défaut : l'utilisateur)")
    actions.add_parser("status", help="caisses, derniers envois, clôtures en attente")
    central.set_defaults(run=run_central)


def run_central(args: argparse.Namespace) -> int:
    """The ledger ``--db`` names is the till's for ``upload``, else the central."""
    target, operator = common.ledger_path(args), common.operator_name()
    return {
        "init": _init,
        "upload": _upload,
        "close": _close,
        "status": _status,
    }[args.central_command](args, target, operator)


def _init(args: argparse.Namespace, target: Path | str, operator: str) -> int:
    from app.ledger.central.service import open_central
    from app.ledger.db import display_target
    from app.ledger.service import ledger_identity

    existed = ledger_identity(target) is not None
    with open_central(target, operator=operator, create=True) as central:
        where, ledger_id, storage = central.display_name, central.ledger_id, central.key_storage
    if args.app_role:
        _app_role(target, args.app_role)
    if existed:
        print(f"Serveur central déjà en place : {display_target(target)} (journal {ledger_id}).")
        return 0
    print(f"Serveur central créé : {where} (journal {ledger_id}).")
    print(f"Clé de signature du serveur central : {storage}")
    print(
        "Elle signe la chaîne de la boutique (clôtures, vérifications) : seul le poste qui "
        "clôture la boutique en a besoin (le serveur ou le poste du gérant). Sauvegardez-la ; "
        "ne la copiez pas sur les caisses, qui signent leurs envois avec leur propre clé."
    )
    return 0


def _app_role(target: Path | str, role: str) -> None:
    """The tills' role, append-only; the URL given in --db stays the owner's (migrations)."""
    import getpass
    import os

    from app.errors import InvalidInput
    from app.ledger.central.roles import grant_app_role
    from app.ledger.db import display_target

    password = os.environ.get("COMPTOIR_APP_ROLE_PASSWORD")
    if password is None:
        try:
            password = getpass.getpass(f"Mot de passe du rôle {role} : ")
        except (EOFError, KeyboardInterrupt):
            raise InvalidInput("Aucun mot de passe saisi : le rôle n'a pas été préparé.") from None
    url = grant_app_role(str(target), role, password)
    print(f"Rôle des caisses prêt : {display_target(url)}")
    print(
        "Donnez cette adresse (avec le mot de passe) aux caisses et à l'application : ce rôle "
        "lit et ajoute, sans pouvoir modifier, effacer ni désactiver les protections. "
        "Gardez l'adresse du propriétaire pour « comptoir central init » après chaque mise "
        "à jour de Comptoir (les migrations du schéma)."
    )


def _upload(args: argparse.Namespace, target: Path | str, operator: str) -> int:
    from app.ledger.central.service import CentralUnreachable, central_target, upload_to
    from app.ledger.store import Ledger

    with Ledger.open(target, kind=None, readonly=True) as local:  # signs as local.till_id
        try:
            result = upload_to(local, central_target(args.to), batch=args.batch)
        except CentralUnreachable as exc:
            print(f"Erreur : {exc.message}", file=sys.stderr)
            return 1
    print(result.summary())
    return 0


def _close(args: argparse.Namespace, target: Path | str, operator: str) -> int:

    from app.ledger.central.service import (
        close_shop_day,
        close_shop_month,
        close_shop_year,
        open_central,
    )

    who = args.operator or operator
    with open_central(target, operator=who) as central:
        if args.day:
            record = close_shop_day(central, args.day, operator=who)
        elif args.month:
            record = close_shop_month(central, args.month, operator=who)
        else:
            record = close_shop_year(central, args.year, operator=who)
        print(closure_summary(record, central))
    return 0


def closure_summary(record: Recorded, central: Ledger) -> str:
    """A shop closure in a few lines: period, totals, each till, the hash."""
    from app.documents.text import method_label
    from app.ledger.closures import day_label, month_label
    from app.values.money import format_cents

    body = record.body
    period = body["period"]
    if len(period) == 10:
        from datetime import date

        what = f"de la journée du {day_label(date.fromisoformat(period))}"
    elif len(period) == 7:
        what = f"du mois de {month_label(period)}"
    else:
        what = f"de l'exercice {period}"
    lines = [
        f"Clôture de la boutique {what} enregistrée ({record.doc_number}, "
        f"enregistrement n°{record.seq} du serveur central).",
        f"Tickets : {body['tickets']} dont {body['refunds']} remboursement(s) ou annulation(s)",
        f"Total TTC : {format_cents(body['total'])}  (HT {format_cents(body['total_excl'])}, "
        f"TVA {format_cents(body['total_vat'])})",
    ]
    lines += [
        f"  {method_label(p['method'])} : {format_cents(p['amount'])}" for p in body["payments"]
    ]
    lines.append(f"Grand total perpétuel : {format_cents(body['perpetual_total'])}")
    for till in body["tills"]:
        closure = till["closure"]
        own = f"clôture n°{closure['number']}" if closure else "pas de clôture propre"
        amount = f", {format_cents(till['total'])}" if "total" in till else ""
        lines.append(f"  Caisse {till['till']} : {own}{amount}")
    lines.append(f"Empreinte : {record.hash}")
    return "\n".join(lines)


def _status(args: argparse.Namespace, target: Path | str, operator: str) -> int:
    from datetime import UTC, date, datetime
    from zoneinfo import ZoneInfo

    from app.ledger.central.service import open_central, shop_status
    from app.ledger.closures import day_label

    with open_central(target, readonly=True) as central:
        status = shop_status(central)
        tz = ZoneInfo(central.timezone)
        print(f"Serveur central : {central.display_name}")
    if not status.tills:
        print("Aucune caisse n'a encore rien envoyé.")
    for till in status.tills:
        when = "jamais"
        if till.last_upload:
            moment = datetime.strptime(till.last_upload, "%Y-%m-%dT%H:%M:%S.%fZ")
            when = f"{moment.replace(tzinfo=UTC).astimezone(tz):%d/%m/%Y %H:%M:%S}"
        closed = (
            day_label(date.fromisoformat(till.last_closed_day)) if till.last_closed_day else "-"
        )
        print(
            f"  Caisse {till.till_id:<12} reçu jusqu'au n°{till.head_seq:<8} "
            f"dernier envoi : {when}   dernière journée close : {closed}"
        )
    if status.last_closed_day:
        print(
            "Dernière journée de la boutique close : "
            f"{day_label(date.fromisoformat(status.last_closed_day))}"
        )
    if not status.pending:
        print("Aucune clôture de la boutique en attente.")
    for pending in status.pending:
        waiting = f" — en attente de : {', '.join(pending.missing)}" if pending.missing else ""
        print(f"À clôturer : {pending.label}{waiting}")
    return 0


def verify_central_ledger(target: Path | str, till: str | None, operator: str) -> int:
    """``comptoir verify`` on a central: the whole shop, or one till with ``--till``."""
    from app.ledger.central.service import verify_central_and_record

    report = verify_central_and_record(target, till=till, operator=operator)
    scope = f"Caisse {till}" if till else "Boutique (serveur central et toutes ses caisses)"
    print(f"{scope} — {report.summary()}")
    for finding in report.findings[:SHOWN_FINDINGS]:
        print(f"  - {finding.message}")
    if len(report.findings) > SHOWN_FINDINGS:
        print(f"  … et {len(report.findings) - SHOWN_FINDINGS} autre(s) anomalie(s).")
    for notice in report.notices:
        print(f"Remarque : {notice}")
    return 0 if report.ok else 1
