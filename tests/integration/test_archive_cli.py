"""`comptoir archive create | verify | list` and the archive written after a year closure."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from datetime import date, time
from pathlib import Path

import pytest

from app.cli import main
from app.demo import DEMO_SHOP
from app.ledger.closures import close_day, close_pending
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from tests.conftest import FakeClock
from tests.helpers import ring


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A shop that sold in March 2025 and closed the month; the year 2025 is still open
    (the command line then runs on the real clock, long after)."""
    path = tmp_path / "shop.sqlite"
    clock = FakeClock()
    clock.set_local(date(2025, 3, 3))
    with Ledger.open(path, clock=clock, operator="test") as ledger:
        with ledger.transaction() as session:
            record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        ring(ledger, ("Café", 180, 2, 1000))
        ring(ledger, ("Pain", 130, 1, 550))
        clock.set_local(date(2025, 3, 3), time(19))
        with ledger.transaction() as session:
            close_day(session, date(2025, 3, 3), operator="Gérant")
        clock.set_local(date(2025, 4, 1))
        with ledger.transaction() as session:
            close_pending(session, operator="Gérant")
    monkeypatch.setenv("COMPTOIR_DB", str(path))
    return path


def test_year_closure_writes_an_archive_that_verifies_anywhere(db, tmp_path, capsys) -> None:
    assert main(["archive", "create", "--year", "2025"]) == 2
    assert "l'exercice 2025 n'est pas clôturé" in capsys.readouterr().err

    assert main(["close", "--year", "2025", "--operator", "Gérant"]) == 0
    out, err = capsys.readouterr()
    assert "CLÔTURE" in out
    archives = tmp_path / "shop-archives"
    written = sorted(archives.glob("archive-2025-*.zip"))
    assert len(written) == 1
    assert f"Archive de l'exercice 2025 écrite : {written[0]}" in err

    assert main(["archive", "list"]) == 0
    listing = capsys.readouterr().out
    assert f"Dossier des archives : {archives}" in listing
    assert "l'exercice 2025" in listing and written[0].name in listing
    assert "absente" not in listing

    assert main(["archive", "create", "--month", "2025-03", "--out", str(tmp_path / "m")]) == 0
    assert "Archive du mois de mars 2025 écrite" in capsys.readouterr().out
    assert len(list((tmp_path / "m").glob("archive-2025-03-*.zip"))) == 1

    # On another computer: the file alone, the ledger gone.
    auditor = tmp_path / "auditeur"
    auditor.mkdir()
    copy = Path(shutil.copy2(written[0], auditor))
    for leftover in db.parent.glob(f"{db.name}*"):
        leftover.unlink()
    assert main(["archive", "verify", str(copy)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Archive intègre : l'exercice 2025")
    assert "empreinte" in out

    result = subprocess.run(
        [sys.executable, "-m", "app", "archive", "verify", str(copy)],
        capture_output=True,
        text=True,
        env={**os.environ, "COMPTOIR_DB": str(auditor / "aucun.sqlite")},
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Archive intègre")


def test_verify_reports_a_changed_file_with_exit_code_1(db, tmp_path, capsys) -> None:
    assert main(["close", "--year", "2025"]) == 0
    (written,) = (tmp_path / "shop-archives").glob("*.zip")
    tampered = tmp_path / "modifiée.zip"
    with zipfile.ZipFile(written) as old, zipfile.ZipFile(tampered, "w") as new:
        for name in old.namelist():
            data = old.read(name)
            if name == "lignes_tickets.csv":
                data = data.replace(b"Caf", b"Kaf", 1)
            new.writestr(name, data)
    capsys.readouterr()
    assert main(["archive", "verify", str(tampered)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("Archive NON intègre (l'exercice 2025)")
    assert (
        "  - Le fichier lignes_tickets.csv a été modifié : son empreinte ne correspond pas "
        "au manifeste." in out
    )


def test_archive_usage_errors(db, tmp_path, capsys) -> None:
    assert main(["archive", "list"]) == 0
    assert "Aucune archive n'a encore été écrite" in capsys.readouterr().out
    assert main(["archive", "verify", str(tmp_path / "absente.zip")]) == 2
    assert "fichier introuvable" in capsys.readouterr().err
    assert main(["archive", "create", "--month", "2025-13"]) == 2
    assert "Période invalide" in capsys.readouterr().err
    assert main(["archive", "create"]) == 2
    assert "Erreur : précisez l'une de ces options : --year --month" in capsys.readouterr().err


def test_a_failed_archive_keeps_the_year_closure(db, tmp_path, capsys) -> None:
    (tmp_path / "shop-archives").write_text("un fichier à la place du dossier")
    assert main(["close", "--year", "2025"]) == 1
    out, err = capsys.readouterr()
    assert "CLÔTURE" in out
    assert "Attention : La clôture de l'exercice 2025 est enregistrée, mais son archive" in err
    assert main(["archive", "create", "--year", "2025", "--out", str(tmp_path / "b")]) == 0
    assert "Archive de l'exercice 2025 écrite" in capsys.readouterr().out
