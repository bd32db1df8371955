"""The till's background sender: uploads while the till sells, backs off while the
central is unreachable, catches up when it is back, and says what waits."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from app import config
from app.errors import InvalidInput, LedgerMismatch
from app.ledger.central.service import (
    local_head,
    open_central,
    open_central_for_upload,
    upload_to,
    verify_central,
)
from app.ledger.central.sync import (
    SyncWorker,
    banner_text,
    configured_central,
    save_central_url,
    upload_once,
)
from app.ledger.store import Ledger
from tests.ledger.central_shop import sell


def _until(condition, what: str, limit: float = 60.0) -> None:
    """Wait for the worker's thread to get there (a deadline against a hang, not a
    measure of speed)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"the worker never got there: {what}")
        time.sleep(0.01)


@pytest.fixture
def till(tmp_path: Path, clock):
    with Ledger.open(tmp_path / "caisse.sqlite", clock=clock, till_id="CAISSE-1") as opened:
        yield opened


def test_worker_uploads_backs_off_and_catches_up(till: Ledger, central_target) -> None:
    with open_central(central_target, create=True) as central:
        central_id = central.ledger_id
    # The till's computer does not hold the central's key: it needs none to upload.
    (config.data_dir() / "keys" / f"{central_id}.pem").unlink()
    reachable = threading.Event()

    def opener(target):
        if not reachable.is_set():
            raise OperationalError("connect", {}, ConnectionRefusedError("connexion refusée"))
        return open_central_for_upload(target)

    worker = SyncWorker(
        lambda: till,
        lambda _ledger: central_target,
        interval=0.01,
        min_gap=0,
        max_backoff=0.05,
        opener=opener,
    )
    for _ in range(5):
        sell(till)
    worker.start()
    try:
        _until(lambda: worker.failures >= 3, "three failed attempts")
        assert worker.delay() > worker.interval
        state = worker.state
        assert not state.refused and state.pending == local_head(till)
        text = banner_text(state, till.timezone)
        assert text == (
            f"Serveur central injoignable depuis 09:00 — {local_head(till)} "
            "enregistrements en attente"
        )
        worker.wake()  # a sale while failing does not cut the back-off short
        assert not worker._wake.is_set()

        reachable.set()
        _until(lambda: worker.state.last_error is None, "the central reached again")
        sell(till)
        worker.wake()
        _until(lambda: worker.state.pending == 0 and worker.state.last_result.last_seq
               == local_head(till), "everything sent")  # fmt: skip
    finally:
        assert worker.stop(10)
    assert banner_text(worker.state, till.timezone) is None
    report = verify_central(central_target)
    assert report.ok, report.findings


def test_a_refusal_is_said_as_such(till: Ledger) -> None:
    sell(till)
    worker = SyncWorker(lambda: till, lambda _ledger: till.path)  # a till is no central
    with pytest.raises(LedgerMismatch, match="n'est pas un serveur central"):
        worker.sync_now()
    assert worker.state.refused
    assert banner_text(worker.state, till.timezone).startswith("Serveur central : ")


def test_the_default_opener_needs_no_central_key(till: Ledger, central_target) -> None:
    with open_central(central_target, create=True) as central:
        central_id = central.ledger_id
    (config.data_dir() / "keys" / f"{central_id}.pem").unlink()
    sell(till)
    worker = SyncWorker(lambda: till, lambda _ledger: central_target)
    try:
        result = worker.sync_now()
    finally:
        worker.stop(10)
    assert result is not None and result.last_seq == local_head(till)
    assert worker.state.last_error is None
    assert upload_to(till, central_target).records == 0  # idempotent
    assert verify_central(central_target).ok


def test_where_the_central_is(till: Ledger, monkeypatch, tmp_path: Path) -> None:
    assert configured_central(till) is None
    with pytest.raises(InvalidInput, match="Aucun serveur central"):
        upload_once(till)
    with till.transaction() as session:
        save_central_url(session, str(tmp_path / "central.sqlite"), operator="Camille")
    assert configured_central(till) == tmp_path / "central.sqlite"
    monkeypatch.setenv("COMPTOIR_CENTRAL_URL", "postgresql://comptoir@serveur/boutique")
    assert configured_central(till) == "postgresql+psycopg://comptoir@serveur/boutique"
    with till.transaction() as session, pytest.raises(InvalidInput, match="mot de passe"):
        save_central_url(
            session, "postgresql+psycopg://comptoir:secret@serveur/boutique", operator="Camille"
        )
