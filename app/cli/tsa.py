"""``comptoir tsa set|off|status|stamp|test``: the time-stamping authority (RFC 3161)
that dates closures and archives (date certaine).

Exit codes: 0 done; 1 the authority did not answer or gave an unusable token (what waits
stays queued); 2 refused (an address that is not one, an operator without the right).
"""

from __future__ import annotations

import argparse
import sys

from app.cli import arguments, common

TIMEOUT_HELP = "délai d'attente de l'autorité, en secondes (défaut : 3)"


def add_parsers(commands: argparse._SubParsersAction) -> None:
    tsa = commands.add_parser("tsa", help="horodatage des clôtures et des archives (RFC 3161)")
    actions = tsa.add_subparsers(dest="tsa_command", metavar="ACTION", required=True)
    choose = actions.add_parser("set", help="choisir l'autorité d'horodatage (adresse http)")
    choose.add_argument("url", metavar="ADRESSE", help="par exemple https://freetsa.org/tsr")
    choose.add_argument("--operator", metavar="NOM", help=common.OPERATOR_HELP)
    choose.set_defaults(run=run_set)
    off = actions.add_parser("off", help="ne plus horodater (les jetons gardés le restent)")
    off.add_argument("--operator", metavar="NOM", help=common.OPERATOR_HELP)
    off.set_defaults(run=run_off)
    actions.add_parser("status", help="autorité choisie, jetons gardés, en attente").set_defaults(
        run=run_status
    )
    stamp = actions.add_parser("stamp", help="demander maintenant les horodatages en attente")
    stamp.add_argument("--timeout", type=arguments.whole(1, 120), default=3, help=TIMEOUT_HELP)
    stamp.set_defaults(run=run_stamp)
    test = actions.add_parser("test", help="essayer une autorité (celle choisie par défaut)")
    test.add_argument("url", metavar="ADRESSE", nargs="?", help="une autre adresse à essayer")
    test.add_argument("--timeout", type=arguments.whole(1, 120), default=3, help=TIMEOUT_HELP)
    test.set_defaults(run=run_test)


def _choose(args: argparse.Namespace, url: str) -> str:
    from app.errors import InvalidInput
    from app.ledger.store import Ledger
    from app.ledger.timestamps.queue import set_tsa_url

    if args.training:
        raise InvalidInput(
            "Le journal de formation n'est pas horodaté : choisissez l'autorité "
            "d'horodatage sans --training, pour le journal réel."
        )
    path = common.ledger_path(args)
    with Ledger.open(
        path, kind=common.kind(args), create=False, operator=common.operator(args)
    ) as (ledger):
        operator = common.authenticated(ledger, args)
        with ledger.transaction() as session:
            return set_tsa_url(session, url, operator=operator)


def run_set(args: argparse.Namespace) -> int:
    url = _choose(args, args.url)
    if not url:
        print("Aucune autorité d'horodatage : les clôtures ne sont plus horodatées.")
        return 0
    print(f"Autorité d'horodatage : {url}")
    print("Les clôtures et archives non horodatées le seront à la prochaine occasion ")
    print("(« comptoir tsa stamp » pour le faire maintenant).")
    return 0


def run_off(args: argparse.Namespace) -> int:
    _choose(args, "")
    print("Aucune autorité d'horodatage : les clôtures ne sont plus horodatées.")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from app.ledger.store import Ledger
    from app.ledger.timestamps.queue import pending, stamped_count, tsa_url

    path = common.ledger_path(args)
    with (
        Ledger.open(path, kind=common.kind(args), readonly=True) as ledger,
        ledger.reader() as session,
    ):
        url, waiting, kept = tsa_url(session), pending(session), stamped_count(session)
    print(f"Autorité d'horodatage : {url or 'aucune'}")
    print(f"Jetons gardés : {kept}")
    print(f"En attente : {len(waiting)}")
    for target in waiting[:20]:
        print(f"  n°{target.seq} {target.label}")
    return 0


def run_stamp(args: argparse.Namespace) -> int:
    from app.ledger.store import Ledger
    from app.timestamping.service import stamp_pending

    path = common.ledger_path(args)
    with Ledger.open(
        path, kind=common.kind(args), create=False, operator=common.operator_name()
    ) as (ledger):
        outcome = stamp_pending(ledger, timeout=float(args.timeout))
    for target in outcome.stamped:
        print(f"Horodaté : n°{target.seq} {target.label}")
    for warning in outcome.archive_warnings:
        print(f"Attention : {warning}", file=sys.stderr)
    print(outcome.summary())
    return 1 if outcome.error else 0


def run_test(args: argparse.Namespace) -> int:
    from app.ledger.store import Ledger
    from app.ledger.timestamps.queue import tsa_url
    from app.ledger.timestamps.token import TokenInvalid
    from app.timestamping.client import TsaUnreachable
    from app.timestamping.service import try_authority

    url = args.url
    if url is None:
        path = common.ledger_path(args)
        with (
            Ledger.open(path, kind=common.kind(args), readonly=True) as ledger,
            ledger.reader() as session,
        ):
            url = tsa_url(session)
        if not url:
            print("Erreur : aucune autorité d'horodatage n'est choisie.", file=sys.stderr)
            return 2
    try:
        stamp = try_authority(url, timeout=float(args.timeout))
    except (TsaUnreachable, TokenInvalid) as exc:
        print(f"Échec : {exc.message}", file=sys.stderr)
        return 1
    print(
        f"L'autorité {url} répond : jeton valide, daté du {stamp.gen_time:%d/%m/%Y %H:%M:%S} "
        f"UTC, signé par {stamp.tsa}."
    )
    return 0
