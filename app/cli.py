"""Command line: the same services as the GUI, headless.

Exit codes: 0 success, 1 a check found a problem, 2 bad usage or a refused operation.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from app import __version__, config
from app.errors import ComptoirError

log = logging.getLogger("comptoir")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="comptoir", description="Comptoir : caisse et facturation."
    )
    parser.add_argument("--version", action="version", version=f"Comptoir {__version__}")
    parser.add_argument("--db", metavar="CHEMIN", help="fichier du journal (ou COMPTOIR_DB)")
    parser.add_argument(
        "--training", action="store_true", help="utiliser le journal de formation associé"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="journal détaillé")
    commands = parser.add_subparsers(dest="command", metavar="COMMANDE")

    verify = commands.add_parser("verify", help="vérifier l'intégrité du journal")
    verify.add_argument("--workers", type=int, default=None, help=argparse.SUPPRESS)

    close = commands.add_parser("close", help="clôturer une journée, un mois ou un exercice")
    which = close.add_mutually_exclusive_group(required=True)
    which.add_argument("--day", metavar="AAAA-MM-JJ")
    which.add_argument("--month", metavar="AAAA-MM")
    which.add_argument("--year", metavar="AAAA")
    close.add_argument("--operator", default=None, help="opérateur (défaut : l'utilisateur)")
    close.add_argument(
        "--cash-counted", metavar="MONTANT", help="espèces comptées dans le tiroir (ex. 152,40)"
    )

    invoice = commands.add_parser("invoice", help="factures : export et validation")
    invoice_commands = invoice.add_subparsers(
        dest="invoice_command", metavar="ACTION", required=True
    )
    export = invoice_commands.add_parser("export", help="écrire le Factur-X d'une facture")
    export.add_argument("number", metavar="NUMÉRO", help="ex. F2026-000123 ou AV2026-000004")
    export.add_argument("--out", metavar="FICHIER", help="fichier ou dossier de sortie")
    check = invoice_commands.add_parser("validate", help="valider un Factur-X, CII ou UBL")
    check.add_argument("file", metavar="FICHIER")

    pdp = commands.add_parser("pdp", help="plateforme de facturation électronique")
    pdp.add_argument(
        "pdp_command",
        choices=("push", "sync", "report"),
        help="push : envoyer les factures en attente ; sync : statuts et factures "
        "fournisseurs ; report : e-reporting des ventes B2C du mois",
    )
    pdp.add_argument("--month", metavar="AAAA-MM", help="mois de l'e-reporting (report)")

    sandbox = commands.add_parser(
        "pdp-sandbox", help="plateforme de facturation électronique locale (tests, démo)"
    )
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--client-id", default="comptoir")
    sandbox.add_argument("--client-secret", default="secret")

    demo = commands.add_parser("demo", help="créer une boutique de démonstration")
    demo.add_argument("--days", type=int, default=7)
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--out", metavar="DOSSIER", help="écrire les rapports Z dans ce dossier")
    demo.add_argument("--quiet", action="store_true", help="ne pas afficher les rapports Z")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command is None:
            return _gui(args)
        handler = {
            "verify": _verify,
            "close": _close,
            "demo": _demo,
            "invoice": _invoice,
            "pdp-sandbox": _pdp_sandbox,
            "pdp": _pdp,
        }[args.command]
        return handler(args)
    except ComptoirError as exc:
        if exc.detail:
            log.info("%s", exc.detail)
        print(f"Erreur : {exc.message}", file=sys.stderr)
        return 2


def _ledger_path(args: argparse.Namespace) -> Path:
    path = config.ledger_path(args.db)
    return config.training_path(path) if args.training else path


def _kind(args: argparse.Namespace) -> str:
    return "training" if args.training else "real"


def _gui(args: argparse.Namespace) -> int:
    try:
        from app.ui.main_window import run
    except ImportError as exc:  # the GUI needs PySide6
        print(f"Interface graphique indisponible : {exc}", file=sys.stderr)
        return 2
    return run(_ledger_path(args), kind=_kind(args))


def _verify(args: argparse.Namespace) -> int:
    from app.ledger.service import verify_and_record

    path = _ledger_path(args)
    if not path.exists():
        print(f"Erreur : aucun journal à l'emplacement {path}.", file=sys.stderr)
        return 2
    report = verify_and_record(path, workers=args.workers)
    print(report.summary())
    for notice in report.notices:
        print(f"Remarque : {notice}")
    return 0 if report.ok else 1


def _operator(args: argparse.Namespace) -> str:
    return args.operator or _operator_name()


def _close(args: argparse.Namespace) -> int:
    from app.documents.text import closure_text
    from app.ledger.closures import close_day, close_month, close_year, get_closure
    from app.ledger.settings import fiscal_settings
    from app.ledger.store import Ledger
    from app.sales.money import parse_cents

    path = _ledger_path(args)
    operator = _operator(args)
    with Ledger.open(path, kind=_kind(args), create=False, operator=operator) as ledger:
        with ledger.transaction() as session:
            if args.day:
                counted = None
                if args.cash_counted is not None:
                    counted = {"cash": parse_cents(args.cash_counted, "Espèces comptées")}
                record = close_day(
                    session, _parse_day(args.day), operator=operator, counted=counted
                )
            elif args.month:
                record = close_month(session, args.month, operator=operator)
            else:
                record = close_year(session, args.year, operator=operator)
        with ledger.reader() as session:
            closure = get_closure(session, record.record_type, record.body["period"])
            assert closure is not None
            print(closure_text(closure, fiscal_settings(session), ledger.timezone))
    return 0


def _invoice(args: argparse.Namespace) -> int:
    if args.invoice_command == "validate":
        from app.einvoice.validate import validate_invoice

        path = Path(args.file)
        if not path.is_file():
            print(f"Erreur : fichier introuvable : {path}", file=sys.stderr)
            return 2
        report = validate_invoice(path.read_bytes(), filename=path.name)
        print(report.summary())
        for finding in report.findings:
            level = "ERREUR" if finding.severity == "fatal" else "Avertissement"
            print(f"  {level} {finding.rule} : {finding.message}")
        return 0 if report.ok else 1
    from app.einvoice.service import export_pdf
    from app.ledger.store import Ledger

    path = _ledger_path(args)
    out = Path(args.out) if args.out else None
    kind = "training" if args.training else None  # any ledger may be read from
    with Ledger.open(path, kind=kind, readonly=True) as ledger, ledger.reader() as session:
        written = export_pdf(session, args.number, out)
    print(f"Factur-X écrit : {written}")
    return 0


def _pdp(args: argparse.Namespace) -> int:
    from app.einvoice.pdp.client import AuthenticationFailed
    from app.einvoice.pdp.outbox import drain_once, outbox_problems, pending_count, sync_once
    from app.einvoice.pdp.worker import configured_client
    from app.ledger.store import Ledger

    path = _ledger_path(args)
    with Ledger.open(path, kind=_kind(args), create=False) as ledger:
        client = configured_client(ledger)
        if client is None:
            print(
                "Erreur : aucune plateforme de facturation électronique n'est configurée "
                "pour ce journal (Réglages, ou COMPTOIR_PDP_URL, COMPTOIR_PDP_TOKEN_URL, "
                "COMPTOIR_PDP_CLIENT_ID, COMPTOIR_PDP_CLIENT_SECRET).",
                file=sys.stderr,
            )
            return 2
        try:
            if args.pdp_command == "report":
                return _ereport(ledger, client, args.month, _operator_name())
            if args.pdp_command == "push":
                stats = drain_once(ledger, client)
                print(
                    f"Envoyées : {stats.sent}, déjà déposées : "
                    f"{stats.deposited_after_search}, à réessayer : {stats.retried}, "
                    f"refusées : {stats.failed}"
                )
            else:
                synced = sync_once(ledger, client)
                print(
                    f"Statuts reçus : {synced.statuses}, factures fournisseurs : {synced.incoming}"
                )
        except AuthenticationFailed as exc:
            print(f"Erreur : {exc.message}", file=sys.stderr)
            return 1
        finally:
            client.close()
        with ledger.reader() as session:
            problems, waiting = outbox_problems(session), pending_count(session)
    for problem in problems:
        print(f"Attention : {problem}")
    return 1 if problems and args.pdp_command == "push" and waiting else 0


def _ereport(ledger, client, month: str | None, operator: str) -> int:  # type: ignore[no-untyped-def]
    import calendar

    from app.einvoice.pdp.ereporting import send_report

    if not month:
        print("Erreur : précisez le mois avec --month AAAA-MM.", file=sys.stderr)
        return 2
    try:
        year, number = (int(part) for part in month.split("-"))
        start = date(year, number, 1)
    except ValueError:
        print(f"Erreur : mois invalide : {month!r} (attendu AAAA-MM).", file=sys.stderr)
        return 2
    end = date(year, number, calendar.monthrange(year, number)[1])
    report, ref = send_report(ledger, client, start, end, operator=operator)
    print(
        f"E-reporting du {start:%d/%m/%Y} au {end:%d/%m/%Y} transmis ({len(report.days)} "
        f"journée(s)) : flux {ref.flow_id}"
    )
    return 0


def _operator_name() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "administrateur"


def _pdp_sandbox(args: argparse.Namespace) -> int:
    from app.einvoice.pdp.sandbox import serve

    if not 0 < args.port < 65536:
        print("Erreur : port entre 1 et 65535.", file=sys.stderr)
        return 2
    try:
        serve(args.port, client_id=args.client_id, client_secret=args.client_secret)
    except OSError as exc:
        print(
            f"Erreur : impossible d'ouvrir le port {args.port} ({exc.strerror}).", file=sys.stderr
        )
        return 2
    return 0


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ComptoirError(f"Date invalide : {text!r} (attendu AAAA-MM-JJ).") from None


def _demo(args: argparse.Namespace) -> int:
    from app.demo import run_demo
    from app.documents.text import closure_text
    from app.ledger.closures import get_closure
    from app.ledger.settings import fiscal_settings
    from app.ledger.store import Ledger
    from app.ledger.verify import verify_ledger

    if not 1 <= args.days <= 3660:
        print("Erreur : --days doit être compris entre 1 et 3660.", file=sys.stderr)
        return 2
    path = Path(args.db) if args.db else config.data_dir() / "demo.sqlite"
    if args.training:
        path = config.training_path(path)
    _replace_demo_file(path)
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)

    def show(ledger: Ledger, kind, period: str) -> None:  # type: ignore[no-untyped-def]
        with ledger.reader() as session:
            closure = get_closure(session, kind, period)
            assert closure is not None
            text = closure_text(closure, fiscal_settings(session), ledger.timezone)
        if not args.quiet:
            print(text, end="\n\n")
        if out:
            name = f"Z-{closure.record_type.prefix}-{period}.txt"
            (out / name).write_text(text + "\n", encoding="utf-8")

    ledger = run_demo(
        path, days=args.days, seed=args.seed, on_closure=show, with_invoices=True, invoices_out=out
    )
    ledger.close()
    report = verify_ledger(path)
    print(f"Journal de démonstration : {path}")
    print(report.summary())
    return 0 if report.ok else 1


def _replace_demo_file(path: Path) -> None:
    """The demo rewrites its own file only; it never touches another ledger."""
    if not path.exists():
        return
    import sqlite3

    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT kind FROM ledger_meta").fetchone()
    except sqlite3.Error:
        row = None
    if row is None or row[0] != "demo":
        raise ComptoirError(
            f"{path} existe et n'est pas un journal de démonstration : choisissez un autre "
            "fichier avec --db."
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    raise SystemExit(main())
