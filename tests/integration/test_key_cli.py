"""``comptoir key`` and ``comptoir clock confirm`` from the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.cli import main
from app.ledger.events import EventCode, log_event
from app.ledger.store import Ledger
from app.ledger.verify.engine import verify_ledger
from tests.conftest import FakeClock


def test_key_export_then_import_on_a_new_computer(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "shop.sqlite"
    Ledger.open(db).close()
    copy = tmp_path / "cle.comptoir"
    monkeypatch.setenv("COMPTOIR_KEY_PASSPHRASE", "une phrase assez longue")
    assert main(["--db", str(db), "key", "export", "--out", str(copy)]) == 0
    assert "copiée dans" in capsys.readouterr().out
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(tmp_path / "autre-poste"))
    assert main(["--db", str(db), "verify"]) == 0  # read-only verification still works
    capsys.readouterr()
    assert main(["--db", str(db), "close", "--day", "2026-03-02"]) == 2
    assert "comptoir key import" in capsys.readouterr().err
    monkeypatch.setenv("COMPTOIR_KEY_PASSPHRASE", "pas la bonne phrase")
    assert main(["--db", str(db), "key", "import", str(copy)]) == 2
    assert "Phrase de passe incorrecte" in capsys.readouterr().err
    monkeypatch.setenv("COMPTOIR_KEY_PASSPHRASE", "une phrase assez longue")
    assert main(["--db", str(db), "key", "import", str(copy)]) == 0
    assert "installée sur cet ordinateur" in capsys.readouterr().out
    assert verify_ledger(db).ok


def test_lost_key_replaced_only_by_an_explicit_command(tmp_path: Path, capsys, monkeypatch) -> None:
    db = tmp_path / "shop.sqlite"
    Ledger.open(db).close()
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(tmp_path / "clé-perdue"))
    assert (
        main(
            [
                "--db",
                str(db),
                "key",
                "replace",
                "--manager",
                "Camille",
                "--reason",
                "disque dur changé, pas de copie",
            ]
        )
        == 0
    )
    assert "n'est pas endossé" in capsys.readouterr().out
    assert [f.rule for f in verify_ledger(db).findings] == ["key_unendorsed"]


def test_clock_far_ahead_is_refused_then_confirmed(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("COMPTOIR_CLOCK_JUMP_LIMIT_HOURS")
    db = tmp_path / "shop.sqlite"
    # The last record two days ago: the real clock of this test is then two days ahead.
    clock = FakeClock(datetime.now(UTC) - timedelta(days=2))
    with Ledger.open(db, clock=clock) as ledger, ledger.transaction() as session:
        log_event(session, EventCode.LOGIN, operator="Camille")
    before = verify_ledger(db).records
    assert main(["--db", str(db), "backup", "create"]) == 2
    err = capsys.readouterr().err
    assert "2 jours après le dernier enregistrement" in err
    assert "comptoir clock confirm --manager NOM" in err
    assert verify_ledger(db).records == before
    assert main(["--db", str(db), "clock", "confirm", "--manager", "Camille"]) == 0
    assert "confirmée par Camille" in capsys.readouterr().out
    assert main(["--db", str(db), "backup", "create"]) == 0
    assert verify_ledger(db).ok


def test_the_clock_limit_is_set_from_the_command_line(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("COMPTOIR_CLOCK_JUMP_LIMIT_HOURS")
    db = tmp_path / "shop.sqlite"
    Ledger.open(db).close()
    assert main(["--db", str(db), "clock", "limit"]) == 0
    assert "plus de 24 heures" in capsys.readouterr().out
    assert main(["--db", str(db), "clock", "limit", "--hours", "72"]) == 0
    assert "plus de 72 heures" in capsys.readouterr().out
    with Ledger.open(db) as ledger:
        assert ledger.clock_jump_limit == timedelta(hours=72)
    assert main(["--db", str(db), "clock", "limit", "--hours", "0"]) == 2
    assert "de 1 à 744 heures" in capsys.readouterr().err
