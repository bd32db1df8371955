"""`comptoir export fec` end to end: a demo shop's year exported, read back, journaled."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from app.cli import main
from app.demo import run_demo
from app.ledger import canonical
from app.ledger.export.fec import FEC_COLUMNS
from app.ledger.store import Ledger


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    """A few days of a demo shop in March 2025 (before any real clock running the tests)."""
    path = tmp_path / "demo.sqlite"
    run_demo(path, days=4, seed=11, today=date(2025, 3, 8)).close()
    return path


def _last_event(path: Path) -> dict:
    with Ledger.open(path, kind=None, readonly=True) as ledger, ledger.reader() as session:
        data = session.connection().exec_driver_sql(
            "SELECT canonical FROM journal WHERE record_type = 'EVENT' ORDER BY seq DESC LIMIT 1"
        )
        return canonical.decode(data.scalar_one())["body"]


def test_export_fec_writes_the_file_and_prints_a_summary(demo_db, tmp_path, capsys) -> None:
    out = tmp_path / "exports"
    code = main(["--db", str(demo_db), "export", "fec", "--year", "2025", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    written = out / "123456782FEC20251231.txt"
    assert f"FEC écrit : {written}" in printed
    with written.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert tuple(rows[0]) == FEC_COLUMNS and all(len(row) == 18 for row in rows)
    entries = {(row[0], row[2]) for row in rows[1:]}
    debit = sum(int(row[11].replace(",", "")) for row in rows[1:])
    credit = sum(int(row[12].replace(",", "")) for row in rows[1:])
    assert debit == credit
    summary = re.search(
        r"Exercice 2025 : (\d+) écritures, (\d+) lignes ; "
        r"total débit ([\d\u202f ]+,\d\d) € = total crédit ([\d\u202f ]+,\d\d) €",
        printed,
    )
    assert summary, printed
    assert (int(summary[1]), int(summary[2])) == (len(entries), len(rows) - 1)
    assert summary[3] == summary[4]
    assert int(re.sub(r"\D", "", summary[3])) == debit
    event = _last_event(demo_db)
    assert event["code"] == "EXPORT" and event["detail"]["format"] == "FEC"
    assert event["detail"]["file"] == written.name and event["detail"]["year"] == 2025
    assert main(["--db", str(demo_db), "verify"]) == 0


def test_export_fec_refusals_are_usage_errors(demo_db, tmp_path, capsys) -> None:
    db = ["--db", str(demo_db)]
    assert main([*db, "export", "fec", "--year", "2019", "--out", str(tmp_path)]) == 2
    assert "Aucune écriture pour l'exercice 2019" in capsys.readouterr().err
    assert main([*db, "export", "fec", "--year", "deux mille"]) == 2
    assert "Exercice invalide" in capsys.readouterr().err
    missing = ["--db", str(tmp_path / "absent.sqlite")]
    assert main([*missing, "export", "fec", "--year", "2025"]) == 2
    assert "Aucun journal fiscal" in capsys.readouterr().err
    assert not list(tmp_path.glob("*FEC*.txt"))
    assert main([*db, "export"]) == 2  # a format is required
    assert "Erreur : à préciser : FORMAT" in capsys.readouterr().err


def test_export_fec_through_the_console_entry_point(demo_db, tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "--db", str(demo_db), "export", "fec", "--year", "2025"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=os.environ.copy(),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "123456782FEC20251231.txt").is_file()  # default: current folder
