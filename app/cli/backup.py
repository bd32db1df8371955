"""``comptoir backup create|list|restore``: verified copies of the ledger file.

Exit codes: 0 done; 1 the backup failed or the restored ledger does not verify; 2 refused
(a copy that does not verify, of another ledger, or that loses records).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli import arguments, common
from app.errors import ComptoirError


def add_parsers(commands: argparse._SubParsersAction) -> None:
    backup = commands.add_parser("backup", help="sauvegardes du journal")
    actions = backup.add_subparsers(dest="backup_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="sauvegarder le journal maintenant")
    create.add_argument(
        "--to",
        metavar="DOSSIER",
        type=arguments.folder,
        help="dossier (défaut : celui des réglages)",
    )
    create.add_argument("--operator", metavar="NOM", help=common.OPERATOR_HELP)
    create.set_defaults(run=run_create)
    listing = actions.add_parser("list", help="lister les sauvegardes de ce journal")
    listing.set_defaults(run=run_list)
    restore = actions.add_parser("restore", help="remettre en place une sauvegarde vérifiée")
    restore.add_argument("file", metavar="FICHIER")  # checked after the ledger (see run_restore)
    restore.add_argument(
        "--force",
        action="store_true",
        help="restaurer même si des enregistrements plus récents seraient perdus",
    )
    restore.add_argument("--operator", metavar="NOM", help="opérateur (défaut : l'utilisateur)")
    restore.set_defaults(run=run_restore)


def run_create(args: argparse.Namespace) -> int:
    from app.ledger.backup.copies import BackupFailed, backup_now, format_size
    from app.ledger.store import Ledger

    path, operator = common.ledger_path(args), common.operator(args)
    with Ledger.open(path, kind=common.kind(args), create=False, operator=operator) as ledger:
        operator = common.authenticated(ledger, args)
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


def run_list(args: argparse.Namespace) -> int:
    from app.ledger.backup.copies import backup_line, backup_settings, format_size, list_backups
    from app.ledger.store import Ledger

    path = common.ledger_path(args)
    with (
        Ledger.open(path, kind=common.kind(args), readonly=True) as ledger,
        ledger.reader() as session,
    ):
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


def run_restore(args: argparse.Namespace) -> int:
    from app.ledger.backup.copies import restore_backup
    from app.ledger.verify.engine import verify_ledger

    path = common.ledger_path(args)
    if not isinstance(path, Path):
        raise ComptoirError(
            "Une sauvegarde Comptoir est un fichier SQLite ; une base PostgreSQL se restaure "
            "avec les outils du serveur (pg_restore)."
        )
    try:  # after the ledger: a PostgreSQL one is refused whatever the file
        backup = arguments.existing_file(args.file)
    except argparse.ArgumentTypeError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    result = restore_backup(
        backup,
        path,
        operator=common.operator(args),
        force=args.force,
        kind=common.kind(args),
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
