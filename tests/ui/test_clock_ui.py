"""At start, a clock far ahead of the last record is confirmed by a manager's PIN."""

from __future__ import annotations

from typing import ClassVar

import pytest
from sqlalchemy import func, select

from app.ledger import canonical
from app.ledger.models import JournalRecord
from app.ledger.store import Ledger
from app.ui.clock_dialog import ClockJumpDialog, journal_start


@pytest.fixture(autouse=True)
def _default_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPTOIR_CLOCK_JUMP_LIMIT_HOURS")


def _typing(pin: str) -> type[ClockJumpDialog]:
    class Typed(ClockJumpDialog):
        shown: ClassVar[list[str]] = []

        def exec(self) -> int:
            Typed.shown.append(self.findChild(type(self.error), "clockJumpText").text())
            self.pin.setText(pin)
            self.try_accept()
            Typed.shown.append(self.error.text())
            return self.result()

    return Typed


def _count(ledger: Ledger) -> int:
    with ledger.reader() as session:
        return session.scalar(select(func.count()).select_from(JournalRecord))


def test_a_manager_confirms_the_date_at_start(qtbot, shop, clock) -> None:
    shop["ledger"].close()
    ledger = Ledger.open(shop["ledger"].target, clock=clock)  # the next start
    clock.advance(days=5)  # the same computer, five days later: a long week-end, or a wrong clock
    before = _count(ledger)
    wrong = _typing("0000")
    assert not journal_start(ledger, "test", ask=wrong)
    assert "5 jours après le dernier enregistrement" in wrong.shown[0]
    assert "comptoir clock confirm" not in wrong.shown[0]
    assert wrong.shown[1] == "Code PIN de gérant incorrect."
    assert _count(ledger) == before
    assert journal_start(ledger, "test", ask=_typing("1234"))
    with ledger.reader() as session:
        rows = session.scalars(
            select(JournalRecord.canonical).where(JournalRecord.seq > before)
        ).all()
    jump, start = (canonical.decode(row) for row in rows)
    assert jump["body"]["code"] == "CLOCK_JUMP" and jump["operator"] == "Camille"
    assert start["body"]["code"] == "START"
    ledger.close()
