"""``comptoir pdp push|sync|report|status`` and ``comptoir pdp-sandbox``: the e-invoicing
platform (plateforme agréée, Chorus Pro) and a local one for tests and demos."""

from __future__ import annotations

import argparse
import sys

from app.cli import arguments, common


def add_parsers(commands: argparse._SubParsersAction) -> None:
    pdp = commands.add_parser("pdp", help="plateforme de facturation électronique")
    pdp.add_argument(
        "pdp_command",
        metavar="ACTION",
        choices=("push", "sync", "report", "status", "directory"),
        help="push : envoyer les factures en attente ; sync : statuts et factures "
        "fournisseurs ; report : e-reporting (Flux 10) des périodes dues ; status NUMÉRO "
        "CODE : donner un statut de cycle de vie à une facture ; directory SIREN [SIRET] : "
        "chercher une entreprise dans l'annuaire",
    )
    pdp.add_argument("status_args", nargs="*", metavar="NUMÉRO CODE", help=argparse.SUPPRESS)
    pdp.add_argument(
        "--period",
        metavar="PÉRIODE",
        type=_period,
        help="report : AAAA-MM (les périodes de ce mois) ou AAAA-MM-JJ (celles de ce jour)",
    )
    pdp.add_argument(
        "--month", metavar="AAAA-MM", type=arguments.month, help="report : comme --period AAAA-MM"
    )
    pdp.add_argument(
        "--replace", action="store_true", help="report : rectificatif (RE) remplaçant la période"
    )
    pdp.add_argument(
        "--matricule", help="report : matricule (4 caractères) de la plateforme agréée, retenu"
    )
    pdp.add_argument(
        "--amount",
        metavar="MONTANT",
        type=arguments.amount("Montant encaissé"),
        help="status 212 : montant encaissé (TTC)",
    )
    pdp.add_argument("--reason-code", help="status : code motif de la liste officielle")
    pdp.add_argument("--reason", help="status : précision libre sur le motif")
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


def _period(text: str) -> str:
    """An e-reporting period asked for: a month (AAAA-MM) or a day (AAAA-MM-JJ)."""
    try:
        return arguments.month(text) if len(text) == 7 else arguments.day(text).isoformat()
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"Période invalide : {text!r} (attendu AAAA-MM ou AAAA-MM-JJ)."
        ) from None


def run_pdp(args: argparse.Namespace) -> int:
    from app.einvoice.pdp.delivery import drain_once
    from app.einvoice.pdp.models import CHORUS, PDP
    from app.einvoice.pdp.outbox_status import outbox_problems, pending_count
    from app.einvoice.pdp.platform_http import AuthenticationFailed
    from app.einvoice.pdp.worker import configured_client, sync_channel
    from app.ledger.store import Ledger

    path = common.ledger_path(args)
    with Ledger.open(
        path, kind=common.kind(args), create=False, supervisor=common.supervisor(args)
    ) as ledger:
        if args.training:  # a sandbox or nothing: TrainingNotSent names the platform refused
            from app.einvoice.pdp.worker import training_client

            client = training_client(ledger)
        else:
            client = configured_client(ledger)
        chorus = _chorus_client(ledger) if args.pdp_command in ("push", "sync") else None
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
                return _ereport(ledger, client, args, common.operator_name())
            if args.pdp_command == "status":
                return _lifecycle_status(ledger, client, args)
            if args.pdp_command == "directory":
                return _directory(ledger, client, args)
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


def _ereport(ledger, client, args, operator: str) -> int:  # type: ignore[no-untyped-def]
    from app.einvoice.pdp.ereporting.periods import parse_period
    from app.einvoice.pdp.ereporting.report import send_due, set_platform_matricule
    from app.einvoice.pdp.ereporting.sent import period_states
    from app.ledger.settings import fiscal_settings

    asked = args.period or args.month
    if args.replace and not asked:
        print("Erreur : précisez la période à remplacer avec --period.", file=sys.stderr)
        return 2
    if args.matricule:
        with ledger.transaction() as session:
            set_platform_matricule(session, args.matricule)
    periods = None
    if asked:
        with ledger.reader() as session:
            periods = parse_period(fiscal_settings(session).vat_regime, asked)
    sent = send_due(ledger, client, operator=operator, periods=periods, replace=args.replace)
    for report, ref in sent:
        kind = "rectificatif" if report.type_code == "RE" else "initial"
        print(f"E-reporting {kind} des {report.period.label()} transmis : flux {ref.flow_id}")
    if sent:
        print(sent[-1][0].validation.rules_line())
    else:
        print("Aucun e-reporting à transmettre.")
    with ledger.reader() as session:
        rejected = [row for row in period_states(session) if row.rejected]
    for row in rejected:
        print(f"Attention : l'e-reporting des {row.period.label()} a été rejeté ({row.reason}).")
    return 1 if rejected else 0


def _directory(ledger, client, args) -> int:  # type: ignore[no-untyped-def]
    """Look a SIREN (and SIRET) up in the directory; what it says is kept on the customers
    with that SIREN. Exit 1 when the company is not reachable there."""
    from app.einvoice.pdp.directory import HttpDirectory, remember

    if client is None or not 1 <= len(args.status_args) <= 2:
        print("Erreur : indiquez le SIREN (et le SIRET) à chercher.", file=sys.stderr)
        return 2
    siren, siret = [*args.status_args, ""][:2]
    found = HttpDirectory(client).lookup(siren, siret)
    with ledger.transaction() as session:
        remember(session, found)
    print(found.describe())
    return 0 if found.listed else 1


def _lifecycle_status(ledger, client, args) -> int:  # type: ignore[no-untyped-def]
    from app.einvoice.pdp.cdar import BUYER_STATUSES, REASON_LABELS
    from app.einvoice.pdp.delivery import drain_once
    from app.einvoice.pdp.inbox import answer_incoming
    from app.einvoice.pdp.statuses import describe, incoming_by_number, queue_status

    if len(args.status_args) != 2:
        print("Erreur : indiquez le numéro de la facture et le code du statut.", file=sys.stderr)
        return 2
    number, code = args.status_args
    amount = args.amount
    if code in BUYER_STATUSES:
        with ledger.transaction() as session:
            incoming = incoming_by_number(session, number)
            answer_incoming(session, client, incoming.id, code, args.reason or "",
                            reason_code=args.reason_code)  # fmt: skip
        print(f"Statut {describe(code)} transmis pour la facture fournisseur {number}.")
        return 0
    with ledger.transaction() as session:
        queue_status(session, number, code, amount_cents=amount,
                     reason_code=args.reason_code, reason=args.reason)  # fmt: skip
    stats = drain_once(ledger, client)
    reason = f" — {REASON_LABELS[args.reason_code]}" if args.reason_code in REASON_LABELS else ""
    if stats.sent or stats.deposited_after_search:
        print(f"Statut {describe(code)}{reason} transmis pour la facture {number}.")
        return 0
    print(f"Statut {describe(code)} mis en file d'envoi pour la facture {number} : il partira "
          "avec « comptoir pdp push ».")  # fmt: skip
    return 1


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
