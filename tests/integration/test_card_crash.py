"""A card payment accepted by the terminal is never lost nor taken twice, even when the
till is killed between the terminal's answer and the ticket."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.errors import InvalidInput
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType
from app.ledger.store import Ledger
from app.ledger.verify.engine import verify_ledger
from app.sales.service import _ticket_from_row
from app.sales.terminal import pending
from app.sales.terminal.sandbox import TerminalSandbox

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("card_crash_child.py")


def _tickets(ledger: Ledger) -> list:
    with ledger.reader() as session:
        rows = session.scalars(
            select(JournalRecord).where(JournalRecord.record_type == RecordType.TICKET)
        )
        return [_ticket_from_row(row) for row in rows]


def _events(ledger: Ledger) -> list[dict]:
    from app.ledger import canonical

    with ledger.reader() as session:
        rows = session.scalars(
            select(JournalRecord).where(JournalRecord.record_type == RecordType.EVENT)
        )
        bodies = [canonical.decode(row.canonical)["body"] for row in rows]
    return [b for b in bodies if b["code"] == "CARD_SETTLEMENT"]


def _killed_child(ledger_path: Path, port: int, stage: str) -> str:
    done = subprocess.run(
        [sys.executable, str(CHILD), str(ledger_path), str(port), stage],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("stage", ["answer-kept", "answer-lost"])
def test_a_kill_between_approval_and_ticket_loses_and_doubles_nothing(
    ledger_path: Path, stage: str
) -> None:
    Ledger.open(ledger_path, operator="test").close()
    sandbox = TerminalSandbox(0).start()
    try:
        authorisation = _killed_child(ledger_path, sandbox.port, stage)
        with Ledger.open(ledger_path, operator="test") as ledger:
            assert _tickets(ledger) == []
            with ledger.reader() as session:
                (left,) = pending.unsettled(session)
            assert left.amount_cents == 1000
            if stage == "answer-lost":
                # No answer was kept: the cashier reads it off the terminal's ticket.
                assert left.state == pending.SENT
                with ledger.transaction() as session:
                    pending.confirm(
                        session, left.id, approved=True, operator="test",
                        authorisation=authorisation,
                    )  # fmt: skip
            else:
                assert left.state == pending.APPROVED
                assert left.authorisation == authorisation
            with ledger.transaction() as session:
                recorded = pending.record_leftover(session, left.id, operator="test")
            with pytest.raises(InvalidInput), ledger.transaction() as session:
                pending.record_leftover(session, left.id, operator="test")
            with ledger.reader() as session:
                assert pending.unsettled(session) == []
            (ticket,) = _tickets(ledger)
            assert ticket.number == recorded.number
            assert ticket.body["payments"] == [
                {"method": "cash", "amount": 260},
                {"method": "card", "amount": 1000, "reference": authorisation},
            ]
            assert [e["detail"]["outcome"] for e in _events(ledger)][-1] == "recorded"
        assert verify_ledger(ledger_path, workers=1).ok
        assert [(t.kind, t.amount_cents) for t in sandbox.transactions] == [("debit", 1000)]
    finally:
        sandbox.stop()


def test_a_leftover_payment_can_be_refunded_on_the_terminal(ledger_path: Path) -> None:
    from app.sales.terminal.protocol import Exchange, TerminalConfig

    Ledger.open(ledger_path, operator="test").close()
    sandbox = TerminalSandbox(0).start()
    try:
        _killed_child(ledger_path, sandbox.port, "answer-kept")
        with Ledger.open(ledger_path, operator="test") as ledger:
            with ledger.reader() as session:
                (left,) = pending.unsettled(session)
            refund = Exchange(TerminalConfig("127.0.0.1", sandbox.port)).pay(
                left.amount_cents, credit=True
            )
            with ledger.transaction() as session:
                pending.mark_refunded(session, left.id, refund.authorisation, operator="test")
            with ledger.reader() as session:
                assert pending.unsettled(session) == []
            assert _tickets(ledger) == []
            assert _events(ledger)[-1]["detail"]["outcome"] == "refunded"
        assert [(t.kind, t.amount_cents) for t in sandbox.transactions] == [
            ("debit", 1000),
            ("credit", 1000),
        ]
    finally:
        sandbox.stop()
