"""``comptoir terminal-sandbox`` and ``comptoir terminal test|pending|settle``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from app.cli.terminal import SANDBOX_MODES
from app.ledger.store import Ledger
from app.sales.terminal import pending
from app.sales.terminal.protocol import Exchange, TerminalConfig
from app.sales.terminal.sandbox import MODES, TerminalSandbox
from app.sales.terminal.settings import save_terminal_config
from tests.helpers import cart_of

ROOT = Path(__file__).resolve().parents[2]


def test_the_sandbox_prints_its_address_first_and_each_transaction() -> None:
    assert SANDBOX_MODES == MODES
    child = subprocess.Popen(
        [sys.executable, "-m", "app", "terminal-sandbox", "--port", "0", "--delay", "0"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        address = child.stdout.readline().strip()
        host, port = address.split(":")
        assert host == "127.0.0.1" and int(port) > 0
        config = TerminalConfig(host, int(port))
        assert Exchange(config).pay(1250).approved
        assert not Exchange(config).pay(1291).approved
        assert child.stdout.readline().split() == ["debit", "1250", "approve", "100001"]
        assert child.stdout.readline().split() == ["debit", "1291", "refuse"]
    finally:
        child.send_signal(signal.SIGINT)
        child.wait(timeout=10)


def test_a_taken_port_is_said_in_french(capsys) -> None:
    taken = TerminalSandbox(0).start()
    try:
        assert main(["terminal-sandbox", "--port", str(taken.port)]) == 2
    finally:
        taken.stop()
    assert "impossible d'ouvrir le port" in capsys.readouterr().err


@pytest.fixture
def shop(tmp_path: Path, monkeypatch):
    db = tmp_path / "shop.sqlite"
    monkeypatch.setenv("COMPTOIR_DB", str(db))
    sandbox = TerminalSandbox(0).start()
    with Ledger.open(db, operator="test") as ledger, ledger.transaction() as session:
        save_terminal_config(
            session, host="127.0.0.1", port=sandbox.port, terminal_id="1",
            till_number="01", operator="test",
        )  # fmt: skip
        for key, cents in (("a", 1000), ("b", 700)):
            attempt = pending.begin(
                session, sale_key=key, amount_cents=cents, operator="test",
                cart=cart_of(("Vin", cents, 1, 2000)),
            )  # fmt: skip
            pending.mark_unknown(session, attempt.id, "connexion coupée")
    yield db, sandbox
    sandbox.stop()


def test_test_pending_and_settle(shop, capsys) -> None:
    _db, sandbox = shop
    assert main(["terminal", "test"]) == 0
    assert "joignable" in capsys.readouterr().out
    assert main(["terminal", "pending"]) == 1
    out = capsys.readouterr().out
    assert "n°1" in out and "n°2" in out and "sans réponse du terminal" in out
    assert main(["terminal", "settle", "1"]) == 2
    assert "--record, --refund ou --not-charged" in capsys.readouterr().err
    assert main(["terminal", "settle", "1", "--record"]) == 0
    assert "Ticket" in capsys.readouterr().out
    assert main(["terminal", "settle", "2", "--refund"]) == 0
    assert "remboursée sur le terminal" in capsys.readouterr().out
    assert [(t.kind, t.amount_cents) for t in sandbox.transactions] == [("credit", 700)]
    assert main(["terminal", "pending"]) == 0
    assert "Aucune transaction" in capsys.readouterr().out
    assert main(["terminal", "settle", "2", "--record"]) == 2
