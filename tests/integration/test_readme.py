"""The README's command examples, each run as written and in the README's order.

They run in-process (``app.cli.main``, what ``.venv/bin/comptoir`` calls) in a temporary
working folder and data folder holding the shop the README speaks of: a real ledger at
its default place, filled by the demo up to 30/12/2025 (tickets, invoices, closures) and
by a few sales on 31/12/2025, a day not closed yet.

What needs something outside the shop runs against a local stand-in, or is checked for
a clean refusal:
- ``pdp push``, ``pdp sync``, ``pdp report``: the local platform (SandboxPlatform) on
  127.0.0.1, named by COMPTOIR_PDP_URL and the rest, as a shop's settings would;
- ``pdp-sandbox --port 8765``: started as a process, answered on its port, then stopped
  (or, when that port is taken on this computer, its French refusal);
- ``postgresql+psycopg://user@serveur/boutique``: no such server here; the command must
  say so in French and exit 2, without a traceback;
- the placeholders, ``URL`` (the central: a SQLite file, which the command accepts as
  well as a PostgreSQL address), ``FICHIER.zip`` (the archive written),
  ``FICHIER.sqlite`` (the backup written) and ``AAAA-MM-JJ`` (the first shop day the
  ``central status`` just before lists as to close).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import date, time
from pathlib import Path

import pytest

from app import config
from app.cli import main
from app.demo import run_demo
from app.einvoice.pdp.sandbox import SandboxPlatform
from app.ledger.store import Ledger
from app.ledger.verify.receipt import check_code
from tests.conftest import FakeClock
from tests.helpers import ring

README = Path(__file__).resolve().parents[2] / "README.md"
PROGRAM = ".venv/bin/comptoir "
LAST_DAY = date(2025, 12, 31)


def readme_commands() -> list[str]:
    """Every ``comptoir`` command of the README's command-line block, in order; a line
    ``a | b`` gives two commands."""
    text = README.read_text(encoding="utf-8")
    block = text.split("The command line shares the application's services")[1]
    block = block.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        assert line.startswith(PROGRAM), line
        commands += [part.strip() for part in line.removeprefix(PROGRAM).split(" | ")]
    return commands


def _shop(path: Path) -> None:
    run_demo(path, days=5, kind="real", today=LAST_DAY, with_invoices=True).close()
    clock = FakeClock()
    clock.set_local(LAST_DAY, time(9, 30))
    with Ledger.open(path, clock=clock, till_id="CAISSE-1", operator="Gérant") as ledger:
        for _ in range(3):
            clock.advance(minutes=20)
            ring(ledger, ("Galette des rois", 1890, 1, 550), ("Cidre", 450, 2, 2000))


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    _shop(config.data_dir() / config.LEDGER_FILENAME)
    with SandboxPlatform(lifecycle_step=0.01) as platform:
        monkeypatch.setenv("COMPTOIR_PDP_URL", platform.url)
        monkeypatch.setenv("COMPTOIR_PDP_TOKEN_URL", platform.token_url)
        monkeypatch.setenv("COMPTOIR_PDP_CLIENT_ID", "comptoir")
        monkeypatch.setenv("COMPTOIR_PDP_CLIENT_SECRET", "secret")
        monkeypatch.setenv("COMPTOIR_PDP_MATRICULE", "0042")  # the sender of its e-reports
        yield tmp_path


def _newest(pattern: str) -> str:
    found = sorted(config.data_dir().parent.rglob(pattern), key=lambda p: p.stat().st_mtime)
    assert found, f"nothing matches {pattern}"
    return str(found[-1])


def _placeholders(command: str, work: Path, shown: str) -> str:
    if "FICHIER.zip" in command:
        command = command.replace("FICHIER.zip", _newest("*.zip"))
    if "FICHIER.sqlite" in command:
        backups = config.data_dir() / "comptoir-sauvegardes"
        command = command.replace("FICHIER.sqlite", str(sorted(backups.glob("*.sqlite"))[-1]))
    if "AAAA-MM-JJ" in command:
        found = re.search(r"À clôturer : la journée du (\d\d)/(\d\d)/(\d{4})", shown)
        assert found, shown
        day, month, year = found.groups()
        command = command.replace("AAAA-MM-JJ", f"{year}-{month}-{day}")
    if "--receipt CODE" in command:
        command = command.replace("CODE", _last_ticket_code())
    return command.replace("URL", str(work / "central.sqlite"))


def _last_ticket_code() -> str:
    """The verification code printed on the ledger's last receipt."""
    path = config.data_dir() / config.LEDGER_FILENAME
    with closing(sqlite3.connect(path)) as conn:
        (ledger_id,) = conn.execute("SELECT ledger_id FROM ledger_meta").fetchone()
        seq, link, signature = conn.execute(
            "SELECT seq, hash, signature FROM journal WHERE record_type = 'TICKET' "
            "ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    return check_code(ledger_id, seq, link, signature)


def _sandbox_on_its_port(argv: list[str]) -> None:
    """``pdp-sandbox``: it serves until stopped, or refuses a port already taken."""
    child = subprocess.Popen(
        [sys.executable, "-m", "app", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        line = child.stdout.readline()
        if line:
            assert "en service sur http://127.0.0.1:8765" in line
        else:
            assert child.wait(timeout=30) == 2
            assert "Erreur : impossible d'ouvrir le port 8765" in child.stderr.read()
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
            child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()


def test_the_readme_has_commands() -> None:
    commands = readme_commands()
    assert len(commands) > 20
    assert {c.split()[0] for c in commands if not c.startswith("-")} >= {
        "demo", "verify", "close", "invoice", "pdp", "pdp-sandbox", "archive", "backup",
        "export", "central",
    }  # fmt: skip


def test_each_readme_example_runs_as_written(shop: Path, capsys) -> None:
    status = ""  # what the last ``central status`` printed
    for command in readme_commands():
        argv = shlex.split(_placeholders(command, shop, status))
        if argv[0] == "pdp-sandbox":
            _sandbox_on_its_port(argv)
            continue
        code = main(argv)
        out, err = capsys.readouterr()
        if "postgresql+psycopg://user@serveur" in command:
            assert code == 2, (command, out, err)
            assert err.startswith("Erreur : ") and "serveur" in err, (command, err)
            continue
        assert code == 0, (command, out, err)
        if command.startswith("central status"):
            status = out
