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
    parser.add_argument(
        "--db",
        metavar="CHEMIN",
        help="fichier du journal, ou adresse postgresql+psycopg://… d'une base (ou COMPTOIR_DB)",
    )
    parser.add_argument(
        "--training", action="store_true", help="utiliser le journal de formation associé"
    )
    parser.add_argument(
        "--supervisor",
        metavar="NOM",
        help="mode formation : responsable des stagiaires (défaut : l'utilisateur)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="journal détaillé")
    commands = parser.add_subparsers(dest="command", metavar="COMMANDE")

    verify = commands.add_parser("verify", help="vérifier l'intégrité du journal")
    verify.add_argument("--workers", type=int, default=None, help=argparse.SUPPRESS)
    verify.add_argument("--till", metavar="CAISSE", help="serveur central : une seule caisse")
    verify.add_argument(
        "--incremental",
        action="store_true",
        help="depuis le dernier point de contrôle signé (sinon : tout le journal)",
    )

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
    _add_export_parser(commands)
    _add_backup_parser(commands)
    _add_archive_parser(commands)
    from app.central_cli import add_central_parser

    add_central_parser(commands)
    return parser


def _add_export_parser(commands: argparse._SubParsersAction) -> None:
    """``export FORMAT ...``: one sub-action per format, each with its own options."""
    exports = commands.add_parser("export", help="exports comptables et fiscaux")
    formats = exports.add_subparsers(dest="export_command", metavar="FORMAT", required=True)
    fec = formats.add_parser("fec", help="fichier des écritures comptables (FEC) d'un exercice")
    fec.add_argument("--year", required=True, metavar="AAAA", help="exercice (année civile)")
    fec.add_argument("--out", metavar="DOSSIER", help="dossier de sortie (défaut : courant)")
    fec.add_argument("--operator", default=None, help="opérateur (défaut : l'utilisateur)")
    _add_view_export_parsers(formats)


def _add_view_export_parsers(formats: argparse._SubParsersAction) -> None:
    """``export csv|xlsx``: the journal, filtered as in the archive viewer. Record types are
    checked by the command itself: the parser stays free of the ledger's imports, which
    keep ``--version`` and ``--help`` quick."""
    for fmt in ("csv", "xlsx"):
        view = formats.add_parser(fmt, help=f"le journal, filtré, en {fmt.upper()}")
        view.add_argument("--out", required=True, metavar="FICHIER", help="fichier à écrire")
        view.add_argument("--from", dest="date_from", metavar="AAAA-MM-JJ", help="du (inclus)")
        view.add_argument("--to", dest="date_to", metavar="AAAA-MM-JJ", help="au (inclus)")
        view.add_argument(
            "--type",
            dest="types",
            action="append",
            metavar="TYPE",
            help="type d'enregistrement (répétable) : TICKET, INVOICE, DAY_CLOSURE, EVENT…",
        )
        view.add_argument("--operator", metavar="NOM", help="enregistrements de cet opérateur")
        view.add_argument("--customer", metavar="TEXTE", help="client (nom ou SIREN)")
        view.add_argument("--min", dest="min_amount", metavar="MONTANT", help="montant TTC min.")
        view.add_argument("--max", dest="max_amount", metavar="MONTANT", help="montant TTC max.")
        view.add_argument("--text", metavar="TEXTE", help="texte recherché dans l'enregistrement")


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
            "export": _export,
            "backup": _backup,
            "archive": _archive,
            "central": _central,
        }[args.command]
        return handler(args)
    except ComptoirError as exc:
        if exc.detail:
            log.info("%s", exc.detail)
        print(f"Erreur : {exc.message}", file=sys.stderr)
        return 2


def _ledger_path(args: argparse.Namespace) -> Path | str:
    """The ledger a command works on: a file's path or a PostgreSQL URL. With --training:
    the training ledger of the selected one, checked to be one and created on first use;
    the real ledger is only read."""
    path = config.ledger_path(args.db)
    if not args.training:
        return path
    if not isinstance(path, Path):
        raise ComptoirError(
            "Le mode formation utilise un fichier à côté du journal réel : il n'est pas "
            "disponible pour un journal sur un serveur PostgreSQL."
        )
    from app.training import ensure_training_ledger

    return ensure_training_ledger(path, supervisor=args.supervisor or _operator_name())


def _supervisor(args: argparse.Namespace) -> str | None:
    """Who answers for the trainees (recorded on every training record). None: the one
    named on the training ledger's latest record goes on (see Ledger.open)."""
    return args.supervisor if args.training else None


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
    if isinstance(path, Path) and not path.exists():
        print(f"Erreur : aucun journal à l'emplacement {path}.", file=sys.stderr)
        return 2
    if args.till or _file_kind(path) == "central":  # a central verifies the whole shop
        from app.central_cli import verify_central_ledger

        return verify_central_ledger(path, args.till, _operator_name())
    from app.training import ledger_kind

    report = verify_and_record(path, workers=args.workers, incremental=args.incremental)
    if isinstance(path, Path) and ledger_kind(path) == "training":
        print(f"Journal de FORMATION vérifié ({path.name}) — ", end="")
    print(report.summary())
    for notice in report.notices:
        print(f"Remarque : {notice}")
    return 0 if report.ok else 1


def _operator(args: argparse.Namespace) -> str:
    return args.operator or _operator_name()


def _central(args: argparse.Namespace) -> int:
    from app.central_cli import run_central

    return run_central(args, _ledger_path(args), _operator_name())


def _close(args: argparse.Namespace) -> int:
    """A day closure is followed by a backup, a year closure by its archive. The closure
    stands whatever happens to the backup or the archive; a failed one is printed as a
    warning and the exit code is 1, so that a script running the closure hears about it."""
    from app.documents.text import closure_text
    from app.ledger.backup.copies import backup_line
    from app.ledger.closures import close_day, close_month, close_year, get_closure
    from app.ledger.settings import fiscal_settings
    from app.ledger.store import Ledger
    from app.values.money import parse_cents

    path = _ledger_path(args)
    operator = _operator(args)
    with Ledger.open(
        path, kind=_kind(args), create=False, operator=operator, supervisor=_supervisor(args)
    ) as ledger:
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
        warning = _backup_after_closure(ledger, operator) if args.day else None
        with ledger.reader() as session:
            closure = get_closure(session, record.record_type, record.body["period"])
            assert closure is not None
            shop, backup = fiscal_settings(session), backup_line(session)
            print(
                closure_text(closure, shop, ledger.timezone, training=args.training, backup=backup)
            )
        if args.year:
            warning = _archive_after_year_closure(ledger, record.body["period"], operator)
    if warning:
        print(f"Attention : {warning}", file=sys.stderr)
        return 1
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
    from app.einvoice.pdp.models import CHORUS, PDP
    from app.einvoice.pdp.outbox import drain_once, outbox_problems, pending_count
    from app.einvoice.pdp.worker import configured_client, sync_channel
    from app.ledger.store import Ledger

    path = _ledger_path(args)
    with Ledger.open(path, kind=_kind(args), create=False, supervisor=_supervisor(args)) as ledger:
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
                return _ereport(ledger, client, args.month, _operator_name())
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


def _export(args: argparse.Namespace) -> int:
    return {"fec": _export_fec, "csv": _export_view, "xlsx": _export_view}[args.export_command](
        args
    )


def _record_types(names: Sequence[str]) -> frozenset[str]:
    from app.ledger.models import RecordType

    known = {t.value for t in RecordType}
    wrong = [name for name in names if name.upper() not in known]
    if wrong:
        raise ComptoirError(
            f"Type d'enregistrement inconnu : {', '.join(wrong)} (possibles : "
            f"{', '.join(sorted(known))})."
        )
    return frozenset(RecordType(name.upper()) for name in names)


def _export_view(args: argparse.Namespace) -> int:
    from app.ledger.export.browse import RecordFilter
    from app.ledger.export.views import export_view, journaling_ledger
    from app.values.money import parse_cents

    path = _ledger_path(args)
    if isinstance(path, str):
        from app.ledger.export.browse import FILE_ONLY

        raise ComptoirError(FILE_ONLY)
    if not path.exists():
        print(f"Erreur : aucun journal à l'emplacement {path}.", file=sys.stderr)
        return 2
    flt = RecordFilter(
        date_from=_parse_day(args.date_from) if args.date_from else None,
        date_to=_parse_day(args.date_to) if args.date_to else None,
        types=_record_types(args.types or ()),
        operator=args.operator or "",
        min_cents=parse_cents(args.min_amount, "Montant min.") if args.min_amount else None,
        max_cents=parse_cents(args.max_amount, "Montant max.") if args.max_amount else None,
        customer=args.customer or "",
        text=args.text or "",
    )
    by = _operator_name()
    with journaling_ledger(path, operator=by) as ledger:
        written = export_view(
            path, flt, args.export_command, Path(args.out), ledger=ledger, operator=by
        )
    print(f"Export écrit : {written} ({flt.summary()})")
    if ledger is None:
        print(
            "Remarque : la clé de signature de ce journal n'est pas sur ce poste ; "
            "l'export n'y est pas journalisé."
        )
    return 0


def _export_fec(args: argparse.Namespace) -> int:
    from app.ledger.export.fec import read_fec, write_fec
    from app.ledger.store import Ledger
    from app.values.money import format_cents

    try:
        year = int(args.year)
    except ValueError:
        raise ComptoirError(f"Exercice invalide : {args.year!r} (attendu AAAA).") from None
    path = _ledger_path(args)
    operator = _operator(args)
    out = Path(args.out) if args.out else Path.cwd()
    # A demo ledger may be exported as it is; the real one unless --training is given.
    kind = "demo" if _file_kind(path) == "demo" and not args.training else _kind(args)
    with Ledger.open(path, kind=kind, create=False, operator=operator) as ledger:
        written = write_fec(ledger, year, out, operator=operator)
    summary = read_fec(written)
    print(f"FEC écrit : {written}")
    print(
        f"Exercice {year} : {summary.entries} écritures, {summary.lines} lignes ; "
        f"total débit {format_cents(summary.debit)} = total crédit {format_cents(summary.credit)}"
    )
    return 0


def _file_kind(path: Path | str) -> str | None:
    """The kind recorded in a ledger (real, training, demo), None if unreadable."""
    from app.ledger.service import ledger_identity

    identity = ledger_identity(path)
    return identity[1] if identity else None


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
    from app.ledger.verify.engine import verify_ledger

    if not 1 <= args.days <= 3660:
        print("Erreur : --days doit être compris entre 1 et 3660.", file=sys.stderr)
        return 2
    if args.db and not isinstance(config.ledger_path(args.db), Path):
        print("Erreur : la démonstration s'écrit dans un fichier SQLite.", file=sys.stderr)
        return 2
    path = Path(args.db) if args.db else config.data_dir() / "demo.sqlite"
    if args.training:
        path = _new_training_demo_file(path)
    else:
        _replace_demo_file(path)
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)

    def show(ledger: Ledger, kind, period: str) -> None:  # type: ignore[no-untyped-def]
        with ledger.reader() as session:
            closure = get_closure(session, kind, period)
            assert closure is not None
            text = closure_text(
                closure, fiscal_settings(session), ledger.timezone, training=args.training
            )
        if not args.quiet:
            print(text, end="\n\n")
        if out:
            name = f"Z-{closure.record_type.prefix}-{period}.txt"
            (out / name).write_text(text + "\n", encoding="utf-8")

    ledger = run_demo(
        path,
        days=args.days,
        seed=args.seed,
        on_closure=show,
        with_invoices=True,
        invoices_out=out,
        kind="training" if args.training else "demo",
    )
    ledger.close()
    report = verify_ledger(path)
    print(f"Journal de {'FORMATION' if args.training else 'démonstration'} : {path}")
    print(report.summary())
    return 0 if report.ok else 1


def _new_training_demo_file(path: Path) -> Path:
    """The training sibling of ``path``, which the demo fills only when it does not exist:
    training records are kept like real ones, so no command ever deletes them."""
    from app.training import training_sibling

    training = training_sibling(path)
    if training.exists():
        raise ComptoirError(
            f"Le journal de formation {training} existe déjà : la démonstration ne remplace "
            "jamais un journal de formation. Choisissez un autre fichier avec --db."
        )
    return training


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


def _add_backup_parser(commands: argparse._SubParsersAction) -> None:
    backup = commands.add_parser("backup", help="sauvegardes du journal")
    actions = backup.add_subparsers(dest="backup_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="sauvegarder le journal maintenant")
    create.add_argument("--to", metavar="DOSSIER", help="dossier (défaut : celui des réglages)")
    create.add_argument("--operator", default=None, help="opérateur (défaut : l'utilisateur)")
    actions.add_parser("list", help="lister les sauvegardes de ce journal")
    restore = actions.add_parser("restore", help="remettre en place une sauvegarde vérifiée")
    restore.add_argument("file", metavar="FICHIER")
    restore.add_argument(
        "--force",
        action="store_true",
        help="restaurer même si des enregistrements plus récents seraient perdus",
    )
    restore.add_argument("--operator", default=None, help="opérateur (défaut : l'utilisateur)")


def _backup(args: argparse.Namespace) -> int:
    """Exit codes: 0 done; 1 the backup failed or the restored ledger does not verify;
    2 refused (a copy that does not verify, of another ledger, or that loses records)."""
    return {"create": _backup_create, "list": _backup_list, "restore": _backup_restore}[
        args.backup_command
    ](args)


def _backup_after_closure(ledger, operator: str) -> str | None:  # type: ignore[no-untyped-def]
    from app.ledger.backup.copies import BackupFailed, backup_now

    if ledger.is_server:  # the server's own backups (pg_dump) keep a PostgreSQL ledger
        return None
    try:
        result = backup_now(ledger, operator=operator)
    except BackupFailed as exc:
        return f"sauvegarde impossible : {exc.reason}"
    print(f"Sauvegarde écrite : {result.path}", file=sys.stderr)
    return None


def _backup_create(args: argparse.Namespace) -> int:
    from app.ledger.backup.copies import BackupFailed, backup_now, format_size
    from app.ledger.store import Ledger

    path, operator = _ledger_path(args), _operator(args)
    with Ledger.open(path, kind=_kind(args), create=False, operator=operator) as ledger:
        try:
            result = backup_now(ledger, operator=operator, folder=args.to)
        except BackupFailed as exc:
            print(f"Erreur : {exc.message}", file=sys.stderr)
            return 1
    print(f"Sauvegarde écrite : {result.path} ({format_size(result.size)})")
    print(f"Enregistrements n°1 à n°{result.last_seq}, dernière empreinte {result.last_hash[:16]}…")
    if result.removed:
        print(f"Anciennes sauvegardes supprimées : {len(result.removed)}")
    return 0


def _backup_list(args: argparse.Namespace) -> int:
    from app.ledger.backup.copies import backup_line, backup_settings, format_size, list_backups
    from app.ledger.store import Ledger

    path = _ledger_path(args)
    with Ledger.open(path, kind=_kind(args), readonly=True) as ledger, ledger.reader() as session:
        settings, line = backup_settings(session), backup_line(session)
        copies = list_backups(settings.folder, ledger.path.stem, ledger.ledger_id)
    print(f"Dossier de sauvegarde : {settings.folder} ({settings.keep} copies conservées)")
    for copy in reversed(copies):
        print(
            f"  {copy.taken:%d/%m/%Y %H:%M:%S}  jusqu'au n°{copy.last_seq}  "
            f"{format_size(copy.size):>9}  {copy.path}"
        )
    if not copies:
        print("  Aucune sauvegarde de ce journal dans ce dossier.")
    print(line)
    return 0


def _backup_restore(args: argparse.Namespace) -> int:
    from app.ledger.backup.copies import restore_backup
    from app.ledger.verify.engine import verify_ledger

    path = _ledger_path(args)
    if not isinstance(path, Path):
        raise ComptoirError(
            "Une sauvegarde Comptoir est un fichier SQLite ; une base PostgreSQL se restaure "
            "avec les outils du serveur (pg_restore)."
        )
    result = restore_backup(
        Path(args.file), path, operator=_operator(args), force=args.force, kind=_kind(args)
    )
    print(f"Sauvegarde restaurée : {result.backup} (jusqu'au n°{result.backup_last_seq})")
    if result.kept_aside is not None:
        print(f"Ancien journal conservé : {result.kept_aside}")
    if result.lost:
        print(f"Attention : {result.lost} enregistrement(s) de l'ancien journal non repris.")
    print(f"Restauration inscrite au journal (enregistrement n°{result.event_seq}).")
    report = verify_ledger(path)
    print(report.summary())
    return 0 if report.ok else 1


# -- archives -------------------------------------------------------------------------------
def _add_archive_parser(commands: argparse._SubParsersAction) -> None:
    archive = commands.add_parser("archive", help="archives fiscales signées des périodes closes")
    actions = archive.add_subparsers(dest="archive_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="archiver un exercice ou un mois clôturé")
    which = create.add_mutually_exclusive_group(required=True)
    which.add_argument("--year", metavar="AAAA")
    which.add_argument("--month", metavar="AAAA-MM")
    create.add_argument("--out", metavar="DOSSIER", help="dossier (défaut : celui des réglages)")
    create.add_argument("--operator", default=None, help="opérateur (défaut : l'utilisateur)")
    check = actions.add_parser("verify", help="vérifier une archive, sur n'importe quel poste")
    check.add_argument("file", metavar="FICHIER")
    actions.add_parser("list", help="archives écrites par ce journal")
    from app.purge_cli import add_purge_parser

    add_purge_parser(actions)


def _archive(args: argparse.Namespace) -> int:
    """Exit codes: 0 written, listed, purged, or intact; 1 the archive verified has a
    problem; 2 refused (period not closed, unreadable ledger, a purge not allowed)."""
    return {
        "create": _archive_create,
        "verify": _archive_verify,
        "list": _archive_list,
        "purge": _archive_purge,
    }[args.archive_command](args)


def _archive_purge(args: argparse.Namespace) -> int:
    from app.purge_cli import run_purge

    return run_purge(args, _ledger_path(args), _operator(args), _kind(args), _supervisor(args))


def _print_archive(result, stream=None) -> None:  # type: ignore[no-untyped-def]
    from app.ledger.archive.check import of_period

    print(f"Archive {of_period(result.period)} écrite : {result.path}", file=stream)
    print(
        f"Enregistrements n°{result.first_seq} à n°{result.last_seq} ({result.records}) ; "
        f"archivage inscrit au journal (enregistrement n°{result.recorded.seq}).",
        file=stream,
    )


def _archive_create(args: argparse.Namespace) -> int:
    from app.ledger.archive.write import create_archive
    from app.ledger.store import Ledger

    path, operator = _ledger_path(args), _operator(args)
    out = Path(args.out) if args.out else None
    with Ledger.open(
        path, kind=_kind(args), create=False, operator=operator, supervisor=_supervisor(args)
    ) as ledger:
        result = create_archive(ledger, args.year or args.month, operator=operator, out_dir=out)
    _print_archive(result)
    return 0


def _archive_verify(args: argparse.Namespace) -> int:
    from app.ledger.archive.write import verify_archive

    path = Path(args.file)
    if not path.is_file():
        print(f"Erreur : fichier introuvable : {path}", file=sys.stderr)
        return 2
    report = verify_archive(path)
    print(report.summary())
    shown = 50
    for finding in report.findings[:shown]:
        print(f"  - {finding.message}")
    if len(report.findings) > shown:
        print(f"  … et {len(report.findings) - shown} autre(s) anomalie(s).")
    return 0 if report.ok else 1


def _archive_list(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from app.ledger.archive.check import period_label
    from app.ledger.archive.write import archive_dir, list_archives
    from app.ledger.store import Ledger

    kind = "training" if args.training else None  # any ledger may be read from
    with Ledger.open(_ledger_path(args), kind=kind, readonly=True) as ledger:
        with ledger.reader() as session:
            entries = list_archives(session)
        folder, tz = archive_dir(ledger), ZoneInfo(ledger.timezone)
    if not entries:
        print("Aucune archive n'a encore été écrite par ce journal.")
        return 0
    print(f"Dossier des archives : {folder}")
    for entry in entries:
        created = datetime.strptime(entry.created_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        local = created.astimezone(tz)
        missing = "" if (folder / entry.file_name).exists() else "  (absente de ce dossier)"
        print(
            f"  {period_label(entry.period):<26} créée le {local:%d/%m/%Y %H:%M:%S}"
            f"  n°{entry.first_seq} à n°{entry.last_seq}  {entry.file_name}{missing}"
        )
    return 0


def _archive_after_year_closure(ledger, period: str, operator: str) -> str | None:  # type: ignore[no-untyped-def]
    """The archive written after a year closure; the closure stands if it fails."""
    from app.ledger.archive.write import ArchiveError, archive_after_closure
    from app.ledger.models import RecordType

    try:
        result = archive_after_closure(ledger, RecordType.YEAR_CLOSURE, period, operator)
    except ArchiveError as exc:
        return exc.message
    if result is not None:
        _print_archive(result, stream=sys.stderr)
    return None


if __name__ == "__main__":
    raise SystemExit(main())
