"""`comptoir archive purge`: shown, confirmed on the terminal (or --yes), journaled, verified.

The shop is built on a fake clock in 2018-2020; the command line then runs on the real
clock, years later, so that 2018 and 2019 are past six years of retention.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from app.ledger.store import Ledger
from tests.ledger.old_shop import OldShop, build_old_shop, old_clock


class _Terminal(io.StringIO):
    """What someone types at a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, OldShop]:
    path = tmp_path / "shop.sqlite"
    clock = old_clock()
    with Ledger.open(path, clock=clock, operator="test") as ledger:
        built = build_old_shop(ledger, clock, tmp_path / "archives")
    monkeypatch.setenv("COMPTOIR_DB", str(path))
    return path, built


def _count(path: Path) -> int:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0]


def _purge(*extra: str, archive: Path, year: str = "2018") -> list[str]:
    return ["archive", "purge", "--year", year, "--archive", str(archive), *extra]


def test_purge_asks_on_the_terminal_then_verifies(shop, capsys, monkeypatch, tmp_path) -> None:
    path, built = shop
    before = _count(path)

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # a script: nobody to answer
    assert main(_purge(archive=built.archive_2018)) == 2
    out, err = capsys.readouterr()
    assert "Exercice 2018 : 6 enregistrements seront supprimés du journal" in out
    assert "relancez avec --yes" in err
    assert _count(path) == before

    monkeypatch.setattr(sys, "stdin", _Terminal("2019\n"))  # the wrong year typed
    assert main(_purge(archive=built.archive_2018)) == 2
    assert "Purge abandonnée : rien n'a été supprimé." in capsys.readouterr().err
    assert _count(path) == before

    monkeypatch.setattr(sys, "stdin", _Terminal("2018\n"))
    assert main(_purge(archive=built.archive_2018)) == 0
    out = capsys.readouterr().out
    assert "tapez l'année (2018)" in out
    assert "Exercice 2018 purgé : 6 enregistrements supprimés du journal" in out
    assert _count(path) == before - 6 + 1  # and the PURGE event

    assert main(_purge("--yes", archive=built.archive_2018)) == 2
    assert "L'exercice 2018 a déjà été purgé" in capsys.readouterr().err

    assert main(["verify"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Journal intègre")
    assert "Remarque : Exercice 2018 purgé" in out
    assert "Remarque : 2 clôtures vérifiées par leur archive" in out

    missing = tmp_path / "absente.zip"
    assert main(_purge("--yes", archive=missing, year="2019")) == 2
    assert "fichier introuvable" in capsys.readouterr().err


def test_purge_with_yes_in_a_script(shop) -> None:
    _path, built = shop
    assert built.archive_2019 is not None
    result = subprocess.run(
        [sys.executable, "-m", "app", *_purge("--yes", archive=built.archive_2019, year="2019")],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Exercice 2019 purgé" in result.stdout
    # The archive of 2019 is not one of 2018: refused, exit code 2.
    refused = subprocess.run(
        [sys.executable, "-m", "app", *_purge("--yes", archive=built.archive_2019)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert refused.returncode == 2
    assert "n'est pas une archive de l'exercice 2018" in refused.stderr
    verified = subprocess.run(
        [sys.executable, "-m", "app", "verify"], capture_output=True, text=True, timeout=120
    )
    assert verified.returncode == 0, verified.stdout
    assert "Exercice 2019 purgé" in verified.stdout
