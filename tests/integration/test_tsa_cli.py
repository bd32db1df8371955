"""`comptoir tsa set | off | status | stamp | test`, and the time-stamps `close` asks for."""

from __future__ import annotations

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
    """A shop that sold on 03/03/2025 and closed the day and the month."""
    path = tmp_path / "shop.sqlite"
    clock = FakeClock()
    clock.set_local(date(2025, 3, 3))
    with Ledger.open(path, clock=clock, operator="test") as ledger:
        with ledger.transaction() as session:
            record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
        ring(ledger, ("Café", 180, 2, 1000))
        clock.set_local(date(2025, 3, 3), time(19))
        with ledger.transaction() as session:
            close_day(session, date(2025, 3, 3), operator="Gérant")
        clock.set_local(date(2025, 4, 1))
        with ledger.transaction() as session:
            close_pending(session, operator="Gérant")
    monkeypatch.setenv("COMPTOIR_DB", str(path))
    return path


def test_choose_test_and_stamp_from_the_command_line(db, local_tsa, tmp_path, capsys) -> None:
    assert main(["tsa", "status"]) == 0
    assert "Autorité d'horodatage : aucune" in capsys.readouterr().out
    assert main(["tsa", "set", local_tsa.url, "--operator", "Gérant"]) == 0
    assert f"Autorité d'horodatage : {local_tsa.url}" in capsys.readouterr().out
    assert main(["tsa", "status"]) == 0
    out = capsys.readouterr().out
    assert "En attente : 2" in out and "clôture 2025-03-03" in out
    assert main(["verify"]) == 1  # due since the authority was chosen
    assert "n'a pas d'horodatage" in capsys.readouterr().out

    assert main(["tsa", "test"]) == 0
    assert "jeton valide" in capsys.readouterr().out
    assert main(["tsa", "stamp"]) == 0
    assert "2 horodatages obtenus." in capsys.readouterr().out

    assert main(["close", "--year", "2025", "--operator", "Gérant"]) == 0
    err = capsys.readouterr().err
    assert "Horodatage : 2 horodatages obtenus." in err  # the year closure and its archive
    archive = next((tmp_path / "shop-archives").glob("archive-2025-*.zip"))
    assert main(["archive", "verify", str(archive)]) == 0
    assert "Horodatée le" in capsys.readouterr().out
    assert main(["verify"]) == 0
    assert "4 horodatages RFC 3161 vérifiés hors ligne" in capsys.readouterr().out


def test_a_closure_with_the_authority_down_succeeds_and_stamps_later(
    db, local_tsa, closed_port, capsys
) -> None:
    assert main(["tsa", "set", closed_port]) == 0
    assert main(["tsa", "stamp", "--timeout", "1"]) == 1
    assert "2 en attente" in capsys.readouterr().out
    assert main(["close", "--year", "2025", "--operator", "Gérant"]) == 0
    assert "Horodatage en attente : l'autorité d'horodatage ne répond pas" in (
        capsys.readouterr().err
    )
    assert main(["tsa", "test", "--timeout", "1"]) == 1
    assert "Échec" in capsys.readouterr().err
    assert main(["tsa", "set", local_tsa.url]) == 0
    assert main(["tsa", "stamp"]) == 0
    assert "4 horodatages obtenus." in capsys.readouterr().out
    assert main(["verify"]) == 0


def test_bad_addresses_and_switching_off(db, capsys) -> None:
    assert main(["tsa", "set", "ftp://horloge"]) == 2
    assert "commence par http:// ou https://" in capsys.readouterr().err
    assert main(["tsa", "test", "pas une adresse"]) == 2
    assert "Adresse de l'autorité d'horodatage invalide" in capsys.readouterr().err
    assert main(["tsa", "off"]) == 0
    assert "les clôtures ne sont plus horodatées" in capsys.readouterr().out
    assert main(["tsa", "test"]) == 2
    assert main(["tsa"]) == 2
    assert main(["--training", "tsa", "set", "https://horloge.example/tsr"]) == 2
    assert "Le journal de formation n'est pas horodaté" in capsys.readouterr().err
