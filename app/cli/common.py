"""What every command shares: the ledger ``--db`` and ``--training`` select, who acts."""

from __future__ import annotations

import argparse
import getpass
from datetime import date
from pathlib import Path

from app import config
from app.errors import ComptoirError


def ledger_path(args: argparse.Namespace) -> Path | str:
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

    return ensure_training_ledger(path, supervisor=args.supervisor or operator_name())


def supervisor(args: argparse.Namespace) -> str | None:
    """Who answers for the trainees (recorded on every training record). None: the one
    named on the training ledger's latest record goes on (see Ledger.open)."""
    return args.supervisor if args.training else None


def kind(args: argparse.Namespace) -> str:
    return "training" if args.training else "real"


def operator(args: argparse.Namespace) -> str:
    return args.operator or operator_name()


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


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ComptoirError(f"Date invalide : {text!r} (attendu AAAA-MM-JJ).") from None
