"""``comptoir central …`` and ``comptoir verify`` on a central, end to end: two tills sell,
upload, close their days; the shop day waits for both; verification names a till.

The tills sell yesterday: a till may trade after its Z, so a shop day is closed once it
is over."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.cli import main
from app.ledger.preferences import save_till_id
from app.ledger.store import Ledger
from tests.conftest import FakeClock
from tests.ledger.central_shop import sell
from tests.pg import tampering

BACKENDS = pytest.mark.parametrize("ledger_backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def central_target(ledger_backend: str, request, tmp_path: Path) -> str:
    if ledger_backend == "postgresql":
        return request.getfixturevalue("pg_url_factory")()
    return str(tmp_path / "central.sqlite")


def _till(path: Path, name: str, sales: int, clock: FakeClock | None = None) -> None:
    """A till's ledger with its name in the preferences, as Réglages would set it;
    ``clock``: when it sells (default: now)."""
    timing = {"clock": clock} if clock else {}
    with Ledger.open(path, till_id=name, operator="test", **timing) as till:
        with till.transaction() as session:
            save_till_id(session, name, operator="Camille")
        for _ in range(sales):
            sell(till, ("Pain", 130, 2, 550))


def _today() -> str:
    return datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()


def _yesterday() -> FakeClock:
    clock = FakeClock()
    clock.set_local(datetime.now(ZoneInfo("Europe/Paris")).date() - timedelta(days=1), time(10))
    return clock


@BACKENDS
def test_two_tills_upload_close_and_verify(tmp_path: Path, central_target: str, capsys) -> None:
    tills = {"CAISSE-1": tmp_path / "caisse1.sqlite", "CAISSE-2": tmp_path / "caisse2.sqlite"}
    yesterday = _yesterday()
    for number, (name, path) in enumerate(tills.items(), start=2):
        _till(path, name, sales=number, clock=yesterday)
    assert main(["--db", central_target, "central", "init"]) == 0
    assert "Serveur central créé" in capsys.readouterr().out
    assert main(["--db", central_target, "central", "init"]) == 0
    assert "déjà en place" in capsys.readouterr().out

    for path in tills.values():
        assert main(["--db", str(path), "central", "upload", "--to", central_target]) == 0
    sent = capsys.readouterr().out
    assert "Caisse CAISSE-1 :" in sent and "Caisse CAISSE-2 :" in sent and "envoyé(s)" in sent

    today = yesterday.today.isoformat()  # the day the tills sold, over now
    assert main(["--db", str(tills["CAISSE-1"]), "close", "--day", today]) == 0
    capsys.readouterr()
    assert main(["--db", str(tills["CAISSE-1"]), "central", "upload", "--to", central_target]) == 0
    assert main(["--db", central_target, "central", "close", "--day", today]) == 2
    refused = capsys.readouterr().err
    assert "la caisse CAISSE-2" in refused and "CAISSE-1" not in refused

    assert main(["--db", central_target, "central", "status"]) == 0
    status = capsys.readouterr().out
    assert "Caisse CAISSE-1" in status and "Caisse CAISSE-2" in status
    assert "en attente de : CAISSE-2" in status

    assert main(["--db", str(tills["CAISSE-2"]), "close", "--day", today]) == 0
    assert main(["--db", str(tills["CAISSE-2"]), "central", "upload", "--to", central_target]) == 0
    capsys.readouterr()
    assert main(["--db", central_target, "central", "close", "--day", today]) == 0
    closed = capsys.readouterr().out
    assert "Clôture de la boutique de la journée du" in closed
    assert "Tickets : 5 " in closed and "Total TTC : 13,00 €" in closed
    assert "Caisse CAISSE-2 : clôture n°1, 7,80 €" in closed

    assert main(["--db", central_target, "verify"]) == 0
    assert "Boutique (serveur central et toutes ses caisses) — Journal intègre" in (
        capsys.readouterr().out
    )
    assert main(["--db", central_target, "verify", "--till", "CAISSE-2"]) == 0
    assert capsys.readouterr().out.startswith("Caisse CAISSE-2 — Journal intègre")

    with tampering(central_target) as conn:
        conn.execute(
            "UPDATE till_record SET operator = 'Mallory' WHERE till = 'CAISSE-2' AND seq = 4"
        )
    assert main(["--db", central_target, "verify"]) == 1
    report = capsys.readouterr().out
    assert "Journal NON intègre" in report
    assert "  - Caisse CAISSE-2 : l'enregistrement n°4" in report
    assert main(["--db", central_target, "verify", "--till", "CAISSE-1"]) == 0


def test_an_unreachable_central_is_exit_1_and_a_till_is_not_a_central(
    tmp_path: Path, capsys
) -> None:
    till = tmp_path / "caisse.sqlite"
    _till(till, "CAISSE-1", sales=1)
    missing = str(tmp_path / "absent" / "central.sqlite")
    assert main(["--db", str(till), "central", "upload", "--to", missing]) == 1
    assert "Serveur central introuvable ou injoignable" in capsys.readouterr().err
    assert main(["--db", str(till), "central", "status"]) == 2
    assert "journal réel" in capsys.readouterr().err
    assert main(["--db", str(till), "verify", "--till", "CAISSE-1"]) == 2


def test_central_commands_from_a_shell(tmp_path: Path, monkeypatch) -> None:
    """The installed command, as a script would run it: the central on the manager's
    computer, the till on its own, each with its own key only."""
    central, till = tmp_path / "central.sqlite", tmp_path / "caisse.sqlite"
    manager, counter = tmp_path / "poste-gerant", tmp_path / "poste-caisse"
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(counter))
    _till(till, "CAISSE-7", sales=1)

    def run(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app", *args],
            capture_output=True,
            text=True,
            env=os.environ | {"COMPTOIR_DATA_DIR": str(data)},
            timeout=300,
        )

    made = run("--db", str(central), "central", "init", data=manager)
    assert made.returncode == 0, made.stderr
    assert "ne la copiez pas sur les caisses" in made.stdout
    sent = run("--db", str(till), "central", "upload", "--to", str(central), data=counter)
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.startswith("Caisse CAISSE-7 : ")
    with Ledger.open(till, till_id="CAISSE-7", operator="test") as ledger:
        sell(ledger)  # something new to send, from a computer without this till's key:
    elsewhere = run("--db", str(till), "central", "upload", "--to", str(central), data=manager)
    assert elsewhere.returncode == 2
    assert "la clé de signature de la caisse CAISSE-7 n'est pas sur cet ordinateur" in (
        elsewhere.stderr
    )
    refused = run("--db", str(central), "central", "close", "--day", _today(), data=counter)
    assert refused.returncode == 2
    assert "La clé de signature du serveur central n'est pas sur cet ordinateur" in refused.stderr
    checked = run("--db", str(central), "verify", data=manager)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Journal intègre" in checked.stdout
