"""``comptoir demo``: a demo shop's ledger, its Z reports and invoices, verified."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app import config
from app.cli import arguments
from app.errors import ComptoirError

WHAT_TO_TRY = (
    "La fenêtre de la démonstration lance sur ce poste (127.0.0.1) une plateforme de "
    "démonstration et un terminal de paiement simulé : factures et avoirs envoyés avec leurs "
    "statuts, factures fournisseurs reçues, e-reporting, paiement par carte. Rien n'est "
    "jamais envoyé à une plateforme réelle."
)


def add_parsers(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser("demo", help="créer une boutique de démonstration")
    demo.add_argument(
        "--days",
        metavar="N",
        type=arguments.whole(1, 3660),
        default=7,
        help="nombre de journées (7)",
    )
    demo.add_argument(
        "--seed",
        metavar="N",
        type=arguments.whole(0, 999_999_999_999),
        default=2026,
        help="graine du hasard : la même donne la même boutique",
    )
    demo.add_argument(
        "--out",
        metavar="DOSSIER",
        type=arguments.folder,
        help="écrire les rapports Z et les factures dans ce dossier",
    )
    demo.add_argument("--quiet", action="store_true", help="ne pas afficher les rapports Z")
    demo.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from app.demo import run_demo as fill_demo
    from app.documents.text import closure_text
    from app.ledger.closures import get_closure
    from app.ledger.settings import fiscal_settings
    from app.ledger.store import Ledger
    from app.ledger.verify.engine import verify_ledger

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

    ledger = fill_demo(
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
    if not args.training:
        print(f"Pour l'essayer dans la fenêtre : comptoir --db {path}\n{WHAT_TO_TRY}")
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
