"""``comptoir key`` (a copy of the signing key, a lost key replaced) and ``comptoir clock
confirm`` (a clock far ahead of the last record): the shop's means of signing."""

from __future__ import annotations

import argparse
import getpass
import os
from datetime import timedelta
from pathlib import Path

from app.cli import common
from app.errors import ComptoirError, InvalidInput

PASSPHRASE_ENV = "COMPTOIR_KEY_PASSPHRASE"


def add_parsers(commands: argparse._SubParsersAction) -> None:
    key = commands.add_parser("key", help="clé de signature : copie, import, remplacement")
    actions = key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    export = actions.add_parser(
        "export", help="copier la clé dans un fichier protégé par une phrase de passe"
    )
    export.add_argument("--out", metavar="FICHIER", required=True, type=Path)
    export.set_defaults(run=run_export)
    load = actions.add_parser("import", help="installer la clé depuis sa copie")
    load.add_argument("file", metavar="FICHIER", type=Path)
    load.set_defaults(run=run_import)
    replace = actions.add_parser(
        "replace", help="clé perdue sans copie : en créer une nouvelle (journalisé)"
    )
    replace.add_argument("--manager", metavar="NOM", required=True, help="gérant qui décide")
    replace.add_argument("--reason", metavar="TEXTE", required=True, help="pourquoi")
    replace.set_defaults(run=run_replace)

    clock = commands.add_parser("clock", help="horloge : confirmer une date très en avance")
    clock_actions = clock.add_subparsers(dest="clock_command", metavar="ACTION", required=True)
    confirm = clock_actions.add_parser(
        "confirm", help="confirmer la date de l'ordinateur (journalisé avec les deux dates)"
    )
    confirm.add_argument("--manager", metavar="NOM", required=True, help="gérant qui confirme")
    confirm.set_defaults(run=run_clock_confirm)
    limit = clock_actions.add_parser(
        "limit", help="avance d'horloge admise sans confirmation (défaut : 24 heures)"
    )
    limit.add_argument("--hours", type=int, metavar="HEURES", help="nouvelle limite, en heures")
    limit.set_defaults(run=run_clock_limit)


def _passphrase(*, twice: bool) -> str:
    """From COMPTOIR_KEY_PASSPHRASE (scripts), else typed without echo."""
    given = os.environ.get(PASSPHRASE_ENV)
    if given is not None:
        return given
    try:
        first = getpass.getpass("Phrase de passe de la copie de la clé : ")
        if twice and getpass.getpass("La même, une seconde fois : ") != first:
            raise InvalidInput("Les deux phrases de passe diffèrent : rien n'a été écrit.")
    except (EOFError, KeyboardInterrupt):
        raise InvalidInput("Aucune phrase de passe saisie : rien n'a été fait.") from None
    return first


def run_export(args: argparse.Namespace) -> int:
    from app.ledger.service import export_key

    path = common.ledger_path(args)
    key_id = export_key(path, args.out, _passphrase(twice=True), operator=common.operator_name())
    print(
        f"Clé de signature {key_id} copiée dans {args.out} (chiffrée par la phrase de passe). "
        "Gardez ce fichier avec les sauvegardes, et la phrase de passe ailleurs."
    )
    return 0


def run_import(args: argparse.Namespace) -> int:
    from app.ledger.service import import_key

    if not args.file.is_file():
        raise ComptoirError(f"Fichier introuvable : {args.file}")
    path = common.ledger_path(args)
    key_id = import_key(path, args.file, _passphrase(twice=False), operator=common.operator_name())
    print(f"Clé de signature {key_id} installée sur cet ordinateur.")
    return 0


def run_replace(args: argparse.Namespace) -> int:
    from app.ledger.store import Ledger

    path = common.ledger_path(args)
    reason = " ".join(args.reason.split())
    if not reason:
        raise InvalidInput("Indiquez pourquoi la clé est remplacée (--reason).")
    with Ledger.open(
        path, kind=common.kind(args), create=False, operator=args.manager, new_key_reason=reason
    ) as ledger:
        key_id = ledger.signer_key_id
    print(
        f"Nouvelle clé de signature {key_id} en service. Ce changement n'est pas endossé par "
        "l'ancienne clé : chaque vérification le signalera. Exportez la nouvelle clé "
        "(comptoir key export --out FICHIER) et gardez la copie avec les sauvegardes."
    )
    return 0


def run_clock_confirm(args: argparse.Namespace) -> int:
    from app.ledger.journal import confirm_clock_jump
    from app.ledger.store import Ledger

    path = common.ledger_path(args)
    with (
        Ledger.open(
            path,
            kind=common.kind(args),
            create=False,
            operator=args.manager,
            supervisor=common.supervisor(args),
            clock_confirmed_by=args.manager,
        ) as ledger,
        ledger.transaction() as session,
    ):
        confirmed = confirm_clock_jump(session)
    if confirmed:
        print(f"Date de l'ordinateur confirmée par {args.manager} et journalisée.")
    else:
        print("L'horloge n'est pas en avance sur le journal : il n'y a rien à confirmer.")
    return 0


def run_clock_limit(args: argparse.Namespace) -> int:
    """Show, or with --hours set, the shop's limit (a preference kept beside the ledger)."""
    from app.documents.preferences import set_preference
    from app.ledger.opening import CLOCK_JUMP_PREFERENCE, MAX_CLOCK_JUMP_HOURS
    from app.ledger.store import Ledger

    if args.hours is not None and not 1 <= args.hours <= MAX_CLOCK_JUMP_HOURS:
        raise InvalidInput(f"--hours : de 1 à {MAX_CLOCK_JUMP_HOURS} heures.")
    path = common.ledger_path(args)
    with Ledger.open(
        path, kind=common.kind(args), create=False, operator=common.operator_name()
    ) as ledger:
        if args.hours is not None:
            with ledger.transaction() as session:
                set_preference(session, CLOCK_JUMP_PREFERENCE, str(args.hours))
            ledger.clock_jump_limit = timedelta(hours=args.hours)
        hours = int(ledger.clock_jump_limit.total_seconds() // 3600)
    print(
        f"Une horloge en avance de plus de {hours} heures sur le dernier enregistrement "
        "demande la confirmation d'un gérant."
    )
    return 0
