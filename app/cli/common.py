"""What every command shares: the ledger ``--db`` and ``--training`` select, who acts.

Who acts: ``--operator NAME`` (default: this computer's user name). In a ledger that has
operators, a command that acts for one (close, archive, purge, backup, FEC export) asks
for that operator's PIN — from ``COMPTOIR_PIN``, else typed, hidden, when a terminal is
attached — and the services check that operator's role as they do for the GUI; a wrong
PIN is journaled and counts towards the lockout like one typed at the till. A ledger with
no operator yet (new, or a demonstration ledger) asks for no PIN and has no roles to
check: the name given is recorded as it is, until the first operator is created.
"""

from __future__ import annotations

import argparse
import errno
import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app import config
from app.errors import ComptoirError

if TYPE_CHECKING:
    from app.ledger.store import Ledger


def ledger_path(args: argparse.Namespace) -> Path | str:
    """The ledger a command works on: a file's path or a PostgreSQL URL. With --training:
    the training ledger of the selected one, checked to be one and created on first use;
    the real ledger is only read."""
    from app.ledger.db import resolve_target  # a sqlite:/// URL is a file's path

    path = resolve_target(config.ledger_path(args.db))
    if not args.training:
        return path
    if not isinstance(path, Path):
        raise ComptoirError(
            "Le mode formation utilise un fichier à côté du journal réel : il n'est pas "
            "disponible pour un journal sur un serveur PostgreSQL."
        )
    from app.training import ensure_training_ledger

    return ensure_training_ledger(path, supervisor=args.supervisor or operator_name())


def supervisor(args: argparse.Namespace) -> str | None:
    """Who answers for the trainees (recorded on every training record). None: the one
    named on the training ledger's latest record goes on (see Ledger.open)."""
    return args.supervisor if args.training else None


def kind(args: argparse.Namespace) -> str:
    """The kind of ledger a command expects: training with --training; a demo ledger file
    as what it is (``comptoir --db demo.sqlite …`` tries every command on the demo shop);
    any other as the real one."""
    if args.training:
        return "training"
    from app.ledger.db import resolve_target

    path = resolve_target(config.ledger_path(args.db))
    return "demo" if isinstance(path, Path) and file_kind(path) == "demo" else "real"


def operator(args: argparse.Namespace) -> str:
    return args.operator or operator_name()


PIN_ENV = "COMPTOIR_PIN"
OPERATOR_HELP = (
    "opérateur (défaut : l'utilisateur) ; si le journal a des opérateurs, son code PIN est "
    f"demandé, ou lu dans {PIN_ENV}"
)


def authenticated(ledger: Ledger, args: argparse.Namespace) -> str:
    """The name of the operator this command acts for, checked (see the module docstring);
    a refusal is a LoginFailed (exit code 2)."""
    from app.ledger.operators import has_operators
    from app.staff.service import LoginFailed, attempt_login

    name = operator(args)
    with ledger.reader() as session:
        if not has_operators(session):
            return name
    pin = os.environ.get(PIN_ENV)
    if pin is None:
        if not sys.stdin.isatty():
            raise LoginFailed(
                f"Ce journal a des opérateurs : le code PIN de « {name} » est demandé. "
                f"Donnez-le dans la variable {PIN_ENV}, ou lancez la commande dans un terminal."
            )
        pin = getpass.getpass(f"Code PIN de {name} : ")
    with ledger.transaction() as session:  # a failure is journaled: commit either way
        outcome = attempt_login(session, name, pin)
    if outcome.operator is None:
        raise LoginFailed(f"{outcome.error} (opérateur « {name} », option --operator)")
    return outcome.operator.name


def operator_name() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "administrateur"


def file_kind(path: Path | str) -> str | None:
    """The kind recorded in a ledger (real, training, demo), None if unreadable."""
    from app.ledger.service import ledger_identity

    identity = ledger_identity(path)
    return identity[1] if identity else None


SYSTEM_ERRORS = {
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.EEXIST: "le fichier existe déjà",
    errno.EACCES: "accès refusé",
    errno.EPERM: "opération non permise",
    errno.EROFS: "support en lecture seule",
    errno.ENOSPC: "disque plein",
    errno.ENAMETOOLONG: "nom de fichier trop long",
    errno.ELOOP: "trop de liens symboliques",
    errno.EINVAL: "nom de fichier invalide",
}


def system_error(exc: OSError) -> str:
    """An error of the operating system as a French sentence naming the file."""
    reason = SYSTEM_ERRORS.get(exc.errno or 0, "erreur du système")
    return f"{reason} : {exc.filename}." if exc.filename else f"{reason}."
