"""The command line end to end, as a shopkeeper or a script would run it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from app.cli import main
from app.ledger.store import Ledger


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )


def test_version() -> None:
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("Comptoir ")


def _last_closed_day(db: Path) -> str:
    with closing(sqlite3.connect(db)) as conn:
        [day] = conn.execute(
            "SELECT max(period) FROM journal WHERE record_type = 'DAY_CLOSURE'"
        ).fetchone()
    return str(day)


def test_demo_rings_closes_prints_and_verifies(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite"
    out = tmp_path / "z"
    result = _run("--db", str(db), "demo", "--days", "3", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "CLÔTURE JOURNALIÈRE (Z)" in result.stdout
    assert "Grand total perpétuel" in result.stdout
    assert "Journal intègre" in result.stdout
    assert len(list(out.glob("Z-ZJ-*.txt"))) >= 2
    # The demo invoices on its last day of trading: numbered in that day's year.
    year = _last_closed_day(db)[:4]
    invoices = sorted(p.name for p in out.glob("*.pdf"))
    assert f"F{year}-000001.pdf" in invoices and f"AV{year}-000001.pdf" in invoices
    for name in (f"F{year}-000001.pdf", f"AV{year}-000002.pdf"):
        checked = _run("invoice", "validate", str(out / name))
        assert checked.returncode == 0, checked.stdout
        assert checked.stdout.startswith("Factur-X EN16931 valide : 0 erreur")
    exported = _run("--db", str(db), "invoice", "export", f"F{year}-000002", "--out", str(tmp_path))
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / f"F{year}-000002.pdf").read_bytes()[:5] == b"%PDF-"
    verify = _run("--db", str(db), "verify")
    assert verify.returncode == 0
    assert verify.stdout.startswith("Journal intègre")


def test_demo_refuses_to_overwrite_a_real_ledger(tmp_path: Path, capsys) -> None:
    db = tmp_path / "real.sqlite"
    Ledger.open(db).close()
    assert main(["--db", str(db), "demo", "--days", "1"]) == 2
    assert "n'est pas un journal de démonstration" in capsys.readouterr().err


def test_demo_covers_a_month_end(tmp_path: Path, capsys) -> None:
    db = tmp_path / "demo.sqlite"
    assert main(["--db", str(db), "demo", "--days", "40", "--quiet"]) == 0
    assert "Journal intègre" in capsys.readouterr().out


def test_close_day_from_the_command_line(tmp_path: Path, monkeypatch, capsys) -> None:
    db = tmp_path / "shop.sqlite"
    monkeypatch.setenv("COMPTOIR_DB", str(db))
    Ledger.open(db).close()
    from tests.helpers import shop_today

    today = shop_today().isoformat()
    assert main(["close", "--day", today, "--cash-counted", "0,00", "--operator", "Gérant"]) == 0
    out = capsys.readouterr().out
    assert "CLÔTURE JOURNALIÈRE (Z) ZJ000001" in out
    assert main(["close", "--day", today]) == 2
    assert "déjà clôturée" in capsys.readouterr().err
    assert main(["close", "--day", "hier"]) == 2
    assert "Date invalide" in capsys.readouterr().err
    assert main(["close", "--month", "2026-13"]) == 2


def test_close_day_twice_a_day_from_the_command_line(tmp_path: Path, monkeypatch, capsys) -> None:
    """Trading goes on after a Z: the next one covers what was sold since."""
    from tests.helpers import ring, shop_today

    db = tmp_path / "shop.sqlite"
    monkeypatch.setenv("COMPTOIR_DB", str(db))
    with Ledger.open(db) as ledger:
        ring(ledger)
    today = shop_today().isoformat()
    assert main(["close", "--day", today, "--operator", "Gérant"]) == 0
    assert "ZJ000001" in capsys.readouterr().out
    with Ledger.open(db) as ledger:
        ring(ledger, ("Vin", 1150, 1, 2000))  # after the Z
    assert main(["close", "--day", today, "--operator", "Gérant"]) == 0
    out = capsys.readouterr().out
    assert "ZJ000002" in out and "11,50" in out
    assert main(["close", "--day", today, "--operator", "Gérant"]) == 2
    assert "rien n'a été vendu depuis" in capsys.readouterr().err
    assert main(["verify"]) == 0


def test_close_day_signs_with_the_ledgers_own_till(tmp_path: Path) -> None:
    """The till id is the ledger's, whichever front-end closes: not the default."""
    from sqlalchemy import select

    from app.ledger import canonical
    from app.ledger.models import JournalRecord
    from app.ledger.preferences import save_till_id
    from app.ledger.records import RecordType
    from tests.helpers import shop_today

    db = tmp_path / "caisse2.sqlite"
    with Ledger.open(db) as ledger, ledger.transaction() as session:
        save_till_id(session, "caisse-2", operator="Camille")
    today = shop_today().isoformat()
    assert main(["--db", str(db), "close", "--day", today, "--operator", "Gérant"]) == 0
    with Ledger.open(db, readonly=True) as ledger, ledger.reader() as session:
        closure = session.scalars(
            select(JournalRecord).where(JournalRecord.record_type == RecordType.DAY_CLOSURE)
        ).one()
    assert closure.till == "CAISSE-2"
    assert canonical.decode(closure.canonical)["till"] == "CAISSE-2"


def test_verify_missing_file_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["--db", str(tmp_path / "none.sqlite"), "verify"]) == 2
    assert "aucun journal" in capsys.readouterr().err


def test_verify_on_the_shop_computer_is_journaled(tmp_path: Path, capsys) -> None:
    db = tmp_path / "shop.sqlite"
    Ledger.open(db).close()
    assert main(["--db", str(db), "verify"]) == 0
    from sqlalchemy import select

    from app.ledger.models import JournalRecord

    with Ledger.open(db) as ledger, ledger.reader() as session:
        kinds = session.scalars(select(JournalRecord.record_type).order_by(JournalRecord.seq)).all()
    assert kinds == ["KEY", "EVENT", "EVENT"]


def test_verify_elsewhere_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    db = tmp_path / "shop.sqlite"
    Ledger.open(db).close()
    before = db.read_bytes()
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(tmp_path / "auditor"))
    assert main(["--db", str(db), "verify"]) == 0
    assert db.read_bytes() == before


def test_invoice_validate_refuses_garbage_and_missing_files(tmp_path: Path, capsys) -> None:
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"not a pdf at all")
    assert main(["invoice", "validate", str(junk)]) == 1
    assert "invalide" in capsys.readouterr().out.lower()
    assert main(["invoice", "validate", str(tmp_path / "none.xml")]) == 2


def test_invoice_export_of_an_unknown_number(tmp_path: Path, capsys) -> None:
    db = tmp_path / "shop.sqlite"
    Ledger.open(db).close()
    assert main(["--db", str(db), "invoice", "export", "F2026-000009"]) == 2
    assert "n'existe pas" in capsys.readouterr().err


def test_pdp_sandbox_serves_until_stopped() -> None:
    import signal
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    child = subprocess.Popen(
        [sys.executable, "-m", "app", "pdp-sandbox", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert "en service sur http://127.0.0.1" in child.stdout.readline()
        import requests

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/v1/healthcheck", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert answer.status_code == 200
    finally:
        child.send_signal(signal.SIGINT)
        child.wait(timeout=10)
        child.stdout.close()


def test_the_command_line_asks_the_operators_pin_and_the_services_check_roles(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    from app.ledger.operators import Role
    from app.staff.service import add_operator
    from tests.helpers import shop_today

    db = tmp_path / "shop.sqlite"
    with Ledger.open(db) as ledger, ledger.transaction() as session:
        add_operator(session, "Camille", Role.MANAGER, "1234", operator="Camille")
        add_operator(session, "Yanis", Role.CASHIER, "5678", operator="Camille")
    today = shop_today()
    last_month = f"{today.year - (today.month == 1)}-{(today.month - 2) % 12 + 1:02d}"
    on, yanis = ["--db", str(db)], ["--operator", "Yanis"]

    monkeypatch.delenv("COMPTOIR_PIN", raising=False)  # and no terminal to type it in
    assert main([*on, "close", "--day", today.isoformat(), *yanis]) == 2
    assert "le code PIN de « Yanis » est demandé" in capsys.readouterr().err
    monkeypatch.setenv("COMPTOIR_PIN", "0000")
    assert main([*on, "close", "--day", today.isoformat(), *yanis]) == 2
    assert "Erreur : Code PIN incorrect." in capsys.readouterr().err
    monkeypatch.setenv("COMPTOIR_PIN", "5678")
    assert main([*on, "close", "--month", last_month, "--operator", "Alice"]) == 2
    assert "Opérateur inconnu" in capsys.readouterr().err

    assert main([*on, "close", "--month", last_month, *yanis]) == 2
    assert (
        "Erreur : Yanis (caissier) n'a pas le droit de clôturer un mois ou un exercice"
        in capsys.readouterr().err
    )
    assert main([*on, "archive", "create", "--year", "2025", *yanis]) == 2
    assert "Yanis (caissier) n'a pas le droit de clôturer" in capsys.readouterr().err
    # A cashier closes the day; the closure is signed with the authenticated name.
    assert main([*on, "close", "--day", today.isoformat(), *yanis]) == 0
    assert "CLÔTURE JOURNALIÈRE (Z) ZJ000001" in capsys.readouterr().out
