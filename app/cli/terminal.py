"""``comptoir terminal-sandbox``: a card terminal simulator on 127.0.0.1; ``comptoir
terminal test|pending|settle``: the terminal set in Réglages, and the card transactions an
interruption left without a ticket."""

from __future__ import annotations

import argparse
import contextlib
import sys

from app.cli import arguments, common

SANDBOX_MODES = ("approve", "refuse", "timeout", "drop", "hang")  # sandbox.MODES


def add_parsers(commands: argparse._SubParsersAction) -> None:
    sandbox = commands.add_parser(
        "terminal-sandbox", help="terminal de paiement simulé, Caisse-AP sur IP (tests, démo)"
    )
    sandbox.add_argument(
        "--port", metavar="N", type=arguments.whole(0, 65535), default=8888,
        help="port (8888 ; 0 : un port libre)",
    )  # fmt: skip
    sandbox.add_argument(
        "--mode", choices=SANDBOX_MODES, default="approve",
        help="réponse à chaque paiement (approve) ; les centimes ,91 ,92 ,93 ,94 donnent "
        "refuse, timeout, drop, hang quel que soit le mode",
    )  # fmt: skip
    sandbox.add_argument(
        "--delay", metavar="S", type=arguments.whole(0, 600), default=2,
        help="secondes avant la réponse, le temps de présenter la carte (2)",
    )  # fmt: skip
    sandbox.set_defaults(run=run_sandbox)

    terminal = commands.add_parser("terminal", help="terminal de paiement de la caisse")
    terminal.add_argument("action", choices=("test", "pending", "settle"))
    terminal.add_argument("transaction", nargs="?", type=arguments.whole(1, 10**9))
    how = terminal.add_mutually_exclusive_group()
    how.add_argument(
        "--record",
        action="store_true",
        help="settle : le terminal a accepté, enregistrer le ticket",
    )
    how.add_argument(
        "--refund", action="store_true", help="settle : rembourser le client sur le terminal"
    )
    how.add_argument(
        "--not-charged", action="store_true", help="settle : le terminal n'a rien encaissé"
    )
    terminal.add_argument("--operator", metavar="NOM", help=common.OPERATOR_HELP)
    terminal.set_defaults(run=run_terminal)


def run_sandbox(args: argparse.Namespace) -> int:
    from app.sales.terminal.sandbox import TerminalSandbox

    try:
        sandbox = TerminalSandbox(args.port, mode=args.mode, delay=args.delay)
    except OSError as exc:
        print(
            f"Erreur : impossible d'ouvrir le port {args.port} ({exc.strerror}).", file=sys.stderr
        )
        return 2
    print(sandbox.address, flush=True)
    print(f"Terminal simulé, mode {args.mode} ; Ctrl+C pour arrêter.", file=sys.stderr)
    sandbox.on_transaction = lambda t: print(
        f"{t.kind} {t.amount_cents} {t.outcome} {t.authorisation}".rstrip(), flush=True
    )
    with contextlib.suppress(KeyboardInterrupt):
        sandbox.serve_forever()
    return 0


def run_terminal(args: argparse.Namespace) -> int:
    from app.ledger.store import Ledger

    with Ledger.open(
        common.ledger_path(args),
        kind=common.kind(args),
        create=False,
        operator=common.operator(args),
        supervisor=common.supervisor(args),
    ) as ledger:
        if args.action == "test":
            return _test(ledger)
        if args.action == "pending":
            return _pending(ledger)
        return _settle(ledger, args, common.authenticated(ledger, args))


def _test(ledger) -> int:  # type: ignore[no-untyped-def]
    from app.sales.terminal.protocol import check_reachable
    from app.sales.terminal.settings import terminal_config

    with ledger.reader() as session:
        config = terminal_config(session)
    if config is None:
        print("Aucun terminal de paiement n'est réglé (Réglages › Périphériques).")
        return 1
    check_reachable(config)
    print(f"Terminal de paiement joignable à {config.address}.")
    return 0


def _pending(ledger) -> int:  # type: ignore[no-untyped-def]
    from app.sales.terminal.pending import unsettled

    with ledger.reader() as session:
        waiting = unsettled(session)
    if not waiting:
        print("Aucune transaction par carte en suspens.")
        return 0
    for attempt in waiting:
        print(f"n°{attempt.id} {attempt.created_at} {_state(attempt)} — {attempt.summary}")
    return 1


def _state(attempt) -> str:  # type: ignore[no-untyped-def]
    if attempt.state == "approved":
        return f"acceptée (autorisation {attempt.authorisation}), sans ticket"
    return "sans réponse du terminal"


def _settle(ledger, args: argparse.Namespace, operator: str) -> int:  # type: ignore[no-untyped-def]
    from app.errors import InvalidInput
    from app.sales.terminal import pending
    from app.sales.terminal.protocol import Exchange, TerminalError
    from app.sales.terminal.settings import terminal_config

    if args.transaction is None or not (args.record or args.refund or args.not_charged):
        raise InvalidInput(
            "Indiquez le numéro de la transaction (comptoir terminal pending) et "
            "--record, --refund ou --not-charged."
        )
    number = args.transaction
    with ledger.transaction() as session:
        attempt = next((a for a in pending.unsettled(session) if a.id == number), None)
        if attempt is None:
            raise InvalidInput(f"Aucune transaction par carte n°{number} en suspens.")
        if attempt.state != pending.APPROVED:
            attempt = pending.confirm(
                session, number, approved=not args.not_charged, operator=operator
            )
        if args.not_charged:
            print(f"Transaction n°{number} : rien n'a été encaissé.")
            return 0
        if args.record:
            recorded = pending.record_leftover(session, number, operator=operator)
            print(f"Ticket {recorded.doc_number} enregistré avec le paiement par carte.")
            return 0
        if pending.refunded_already(session, number, operator=operator):
            print(f"Transaction n°{number} : déjà remboursée sur le terminal.")
            return 0
        if pending.refunded_already(session, number, operator=operator):
            print(f"Transaction n°{number} : déjà remboursée sur le terminal.")
            return 0
        config = terminal_config(session)
    if config is None:
        raise InvalidInput("Aucun terminal de paiement n'est réglé pour rembourser.")
    with ledger.transaction() as session:
        credit = pending.begin(
            session,
            sale_key=pending.refund_key(number),
            amount_cents=attempt.amount_cents,
            operator=operator,
            credit=True,
        )
    try:
        answer = Exchange(config).pay(attempt.amount_cents, credit=True)
    except TerminalError as error:
        with ledger.transaction() as session:
            pending.mark_unknown(session, credit.id, error.message)
        raise
    with ledger.transaction() as session:
        pending.record_answer(session, credit.id, answer)
        if answer.approved:
            pending.mark_refunded(session, number, answer.authorisation, operator=operator)
    if not answer.approved:
        raise InvalidInput(f"Remboursement refusé par le terminal : {answer.reason}.")
    print(
        f"Transaction n°{number} remboursée sur le terminal (autorisation {answer.authorisation})."
    )
    return 0
