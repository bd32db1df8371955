"""Training never charges a card: the real terminal is not copied into the training ledger,
and a training ledger only talks to the simulator on this computer."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import InvalidInput
from app.ledger.store import Ledger
from app.sales.terminal.settings import save_terminal_config, terminal_config
from app.training import open_training_ledger


def _save(session, host: str) -> None:
    save_terminal_config(
        session, host=host, port=8888, terminal_id="1", till_number="01", operator="test"
    )


def test_training_charges_no_real_card(tmp_path: Path) -> None:
    real_path = tmp_path / "shop.sqlite"
    with Ledger.open(real_path, operator="test") as real:
        with real.transaction() as session:
            _save(session, "192.168.1.30")
            assert terminal_config(session).host == "192.168.1.30"
        training = open_training_ledger(real_path, supervisor="test", source=real)
    try:
        with training.transaction() as session:
            assert terminal_config(session) is None  # the shop's terminal stayed behind
            with pytest.raises(InvalidInput, match="seul le terminal simulé"):
                _save(session, "192.168.1.30")
            _save(session, "127.0.0.1")
            assert terminal_config(session).host == "127.0.0.1"
    finally:
        training.close()
