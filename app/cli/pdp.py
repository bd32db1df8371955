"""``comptoir pdp push|sync|report`` and ``comptoir pdp-sandbox``: the e-invoicing
platform (plateforme agréée, Chorus Pro) and a local one for tests and demos."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from app.cli import arguments, common


def add_parsers(commands: argparse._SubParsersAction) -> None:
    pdp = commands.add_parser("pdp", help="plateforme de facturation électronique")
    pdp.add_argument(
        "pdp_command",
        metavar="ACTION",
        choices=("push", "sync", "report"),
        help="push : envoyer les factures en attente ; sync : statuts et factures "
        "fournisseurs ; report : e-reporting des ventes B2C du mois",
    )
    pdp.add_argument(
        "--month", metavar="AAAA-MM", type=arguments.month, help="mois de l'e-reporting (report)"
    )
    pdp.set_defaults(run=run_pdp)

    sandbox = commands.add_parser(
        "pdp-sandbox", help="plateforme de facturation électronique locale (tests, démo)"
    )
    sandbox.add_argument(
        "--port", metavar="N", type=arguments.whole(1, 65535), default=8765, help="port (8765)"
    )
    sandbox.add_argument("--client-id", metavar="ID", default="comptoir", help="identifiant OAuth2")
    sandbox.add_argument(
        "--client-secret", metavar="SECRET", default="secret", help="secret OAuth2"
    )
    sandbox.set_defaults(run=run_sandbox)


def run_pdp(args: argparse.Namespace) -> int:
    from app.einvoice.pdp.client import AuthenticationFailed
    from app.einvoice.pdp.models import CHORUS, PDP
    from app.einvoice.pdp.outbox import drain_once, outbox_problems, pending_count
    from app.einvoice.pdp.worker import configured_client, sync_channel
    from app.ledger.store import Ledger

    path = common.ledger_path(args)
    with Ledger.open(
        path, kind=common.kind(args), create=False, supervisor=common.supervisor(args)
    ) as ledger:
        if args.training:  # a sandbox or nothing: TrainingNotSent names the platform refused
            from app.einvoice.pdp.training import training_client

            client = training_client(ledger)
        else:
            client = configured_client(ledger)
        chorus = _chorus_client(ledger) if args.pdp_command != "report" else None
        if client is None and chorus is None:
            print(
                "Erreur : aucune plateforme de facturation électronique n'est configurée "
                "pour ce journal (Réglages, ou COMPTOIR_PDP_URL, COMPTOIR_PDP_TOKEN_URL, "
                "COMPTOIR_PDP_CLIENT_ID, COMPTOIR_PDP_CLIENT_SECRET ; pour Chorus Pro, "
                "COMPTOIR_CHORUS_URL, COMPTOIR_CHORUS_TOKEN_URL, COMPTOIR_CHORUS_CLIENT_ID, "
                "COMPTOIR_CHORUS_CLIENT_SECRET, COMPTOIR_CHORUS_LOGIN, COMPTOIR_CHORUS_PASSWORD).",
                file=sys.stderr,
            )
            return 2
        channels = {PDP: client, CHORUS: chorus}
        refused = False
        try:
            if args.pdp_command == "report":
                return _ereport(ledger, client, args.month, common.operator_name())
            for channel, each in channels.items():
                prefix = "Chorus Pro — " if channel == CHORUS else ""
                try:
                    if each is not None and args.pdp_command == "push":
                        stats = drain_once(ledger, {channel: each})
                        print(
                            f"{prefix}Envoyées : {stats.sent}, déjà déposées : "
                            f"{stats.deposited_after_search}, à réessayer : {stats.retried}, "
                            f"refusées : {stats.failed}"
                        )
                    elif each is not None:
                        statuses, incoming = sync_channel(ledger, channel, each, eager=True)
                        print(
                            f"{prefix}Statuts reçus : {statuses}, "
                            f"factures fournisseurs : {incoming}"
                        )
                except AuthenticationFailed as exc:  # the other channel still goes
                    print(f"Erreur : {exc.message}", file=sys.stderr)
                    refused = True
        finally:
            for each in channels.values():
                if each is not None:
                    each.close()
        if refused:
            return 1
        with ledger.reader() as session:
            problems, waiting = outbox_problems(session), pending_count(session)
    for problem in problems:
        print(f"Attention : {problem}")
    return 1 if problems and args.pdp_command == "push" and waiting else 0


def _chorus_client(ledger):  # type: ignore[no-untyped-def]
    """Chorus Pro's client, or None; half-done Chorus Pro settings must not stop the PA."""
    from app.einvoice.pdp.config import PlatformNotConfigured
    from app.einvoice.pdp.worker import configured_chorus_client

    try:
        return configured_chorus_client(ledger)
    except PlatformNotConfigured as exc:
        print(f"Attention : {exc.message}", file=sys.stderr)
        return None


def _ereport(ledger, client, month: str | None, operator: str) -> int:  # type: ignore[no-untyped-def]
    import calendar

    from app.einvoice.pdp.ereporting import send_report

    if not month:
        print("Erreur : précisez le mois avec --month AAAA-MM.", file=sys.stderr)
        return 2
    year, number = (int(part) for part in month.split("-"))  # checked by arguments.month
    start = date(year, number, 1)
    end = date(year, number, calendar.monthrange(year, number)[1])
    report, ref = send_report(ledger, client, start, end, operator=operator)
    print(
        f"E-reporting du {start:%d/%m/%Y} au {end:%d/%m/%Y} transmis ({len(report.days)} "
        f"journée(s)) : flux {ref.flow_id}"
    )
    return 0


def run_sandbox(args: argparse.Namespace) -> int:
    from app.einvoice.pdp.sandbox import serve

    try:
        serve(args.port, client_id=args.client_id, client_secret=args.client_secret)
    except OSError as exc:
        print(
            f"Erreur : impossible d'ouvrir le port {args.port} ({exc.strerror}).", file=sys.stderr
        )
        return 2
    return 0
