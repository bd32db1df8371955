"""``comptoir audit pack``: everything a tax auditor asks for, for one fiscal year."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli import arguments, common


def add_parsers(commands: argparse._SubParsersAction) -> None:
    audit = commands.add_parser("audit", help="contrôle fiscal : le dossier d'un exercice")
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    pack = actions.add_parser(
        "pack",
        help="dossier pour un contrôle fiscal (attestation, vérification, clôtures, "
        "événements, archives, FEC), signé, en un dossier et un ZIP",
    )
    pack.add_argument(
        "--year", required=True, metavar="AAAA", type=arguments.year, help="exercice contrôlé"
    )
    pack.add_argument(
        "--out",
        metavar="DOSSIER",
        type=arguments.folder,
        help="où écrire le dossier (défaut : à côté du journal)",
    )
    pack.add_argument("--operator", default=None, help=common.OPERATOR_HELP)
    pack.set_defaults(run=run_pack)


def run_pack(args: argparse.Namespace) -> int:
    from app.audit.pack import build_audit_pack
    from app.ledger.store import Ledger

    path = common.ledger_path(args)
    operator = common.operator(args)
    if isinstance(path, Path) and not path.exists():
        print(f"Erreur : aucun journal à l'emplacement {path}.", file=sys.stderr)
        return 2
    # A demo ledger makes a demo pack (marked as such); the real one unless --training.
    demo = common.file_kind(path) == "demo" and not args.training
    kind = "demo" if demo else common.kind(args)

    def progress(done: int, total: int, label: str) -> None:
        print(f"[{done + 1}/{total}] {label}…", file=sys.stderr)

    out = Path(args.out) if args.out else None
    with Ledger.open(path, kind=kind, create=False, operator=operator) as ledger:
        operator = common.authenticated(ledger, args)
        pack = build_audit_pack(ledger, args.year, out, operator=operator, progress=progress)
    print(pack.summary())
    return 0 if pack.verified else 1
