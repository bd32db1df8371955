"""The start-of-day check: an incremental verification off the GUI thread, journaled,
and a broken ledger said in the banner."""

from __future__ import annotations

import json

from app.ledger.models import JournalRecord
from app.ledger.records import RecordType
from app.ledger.service import record_verification
from app.ledger.verify.engine import verify_ledger
from app.ui import start_check
from app.ui.start_check import check_at_start
from tests.helpers import ring
from tests.pg import tampering


def _verify_events(ledger) -> list[dict]:  # type: ignore[no-untyped-def]
    with ledger.reader() as session:
        rows = session.query(JournalRecord).filter_by(record_type=RecordType.EVENT.value)
        events = [json.loads(r.canonical)["body"] for r in rows]
    return [e["detail"] for e in events if e["code"] == "VERIFY"]


def test_start_check_verifies_from_the_checkpoint(qtbot, window, shop) -> None:
    ledger = shop["ledger"]
    ring(ledger, operator="Yanis")
    full = verify_ledger(ledger.target)
    with ledger.transaction() as session:
        record_verification(session, full, operator="Camille")
    ring(ledger, operator="Yanis")
    check_at_start(window)
    qtbot.waitUntil(lambda: not window.background.busy, timeout=30_000)
    latest = _verify_events(ledger)[-1]
    assert latest["ok"] is True
    assert latest["since_seq"] == full.last_seq
    assert "checkpoint" in latest
    assert window.integrity_problem is None


def test_start_check_says_a_broken_ledger(qtbot, window, shop, monkeypatch) -> None:
    ledger = shop["ledger"]
    sale = ring(ledger, operator="Yanis")
    said: list[str] = []
    monkeypatch.setattr(start_check.QMessageBox, "warning", lambda _w, _t, text: said.append(text))
    with tampering(ledger.target) as conn:
        conn.execute("UPDATE journal SET operator = ? WHERE seq = ?", ("Mallory", sale.seq))
    check_at_start(window)
    qtbot.waitUntil(lambda: not window.background.busy, timeout=30_000)
    assert window.integrity_problem is not None
    assert "NON intègre" in window.banner.text()
    assert said and f"n°{sale.seq}" in said[0]
