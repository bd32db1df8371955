"""A clock far ahead of the last record needs a manager's confirmation before the first
write; a verification run with a wrong clock dates nothing in the future."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import ClockJump
from app.ledger import canonical
from app.ledger.events import EventCode, log_event
from app.ledger.models import JournalRecord
from app.ledger.service import verify_and_record
from app.ledger.store import Ledger
from app.ledger.verify.engine import verify_ledger
from tests.helpers import ring


@pytest.fixture(autouse=True)
def _default_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPTOIR_CLOCK_JUMP_LIMIT_HOURS")


def _login(ledger: Ledger):
    """A write that needs no open day (a sale on a later day would need the Z first)."""
    with ledger.transaction() as session:
        return log_event(session, EventCode.LOGIN, operator="Gérant")


def _last(target) -> dict:
    with Ledger.open(target, kind=None, readonly=True) as ledger, ledger.reader() as session:
        data = session.scalar(
            select(JournalRecord.canonical).order_by(JournalRecord.seq.desc()).limit(1)
        )
    return canonical.decode(data)


def test_verify_with_the_clock_in_2030_does_not_lock_the_till(ledger_target, clock) -> None:
    with Ledger.open(ledger_target, clock=clock) as ledger:
        ring(ledger)
    last = _last(ledger_target)
    real_time = clock.now
    clock.now = real_time.replace(year=2030)
    report = verify_and_record(ledger_target, clock=clock)
    assert report.ok
    assert any("horloge" in notice for notice in report.notices)
    assert _last(ledger_target) == last  # nothing dated 2030
    clock.now = real_time + timedelta(minutes=5)
    with Ledger.open(ledger_target, clock=clock) as ledger:
        ring(ledger)  # a sale at the right time is accepted
    assert verify_ledger(ledger_target).ok


def test_a_jump_needs_a_manager_and_is_journaled_with_both_times(ledger_target, clock) -> None:
    with Ledger.open(ledger_target, clock=clock) as ledger:
        ring(ledger)
    last = _last(ledger_target)
    clock.advance(days=3)
    with (
        Ledger.open(ledger_target, clock=clock) as ledger,
        pytest.raises(ClockJump, match="comptoir clock confirm") as refused,
    ):
        _login(ledger)
    assert "3 jours après le dernier enregistrement" in refused.value.message
    assert _last(ledger_target) == last
    with Ledger.open(ledger_target, clock=clock, clock_confirmed_by="Gérant") as ledger:
        sale = _login(ledger)
    with Ledger.open(ledger_target, kind=None, readonly=True) as ledger, ledger.reader() as s:
        jump = canonical.decode(
            s.scalar(select(JournalRecord.canonical).where(JournalRecord.seq == sale.seq - 1))
        )
    assert jump["body"]["code"] == "CLOCK_JUMP"
    assert jump["operator"] == "Gérant"
    assert jump["body"]["detail"]["last_record"] == last["ts"]
    assert jump["body"]["detail"]["observed"] == jump["ts"]
    assert verify_ledger(ledger_target).ok


def test_within_the_limit_and_after_the_first_write_nothing_is_asked(ledger_target, clock) -> None:
    with Ledger.open(ledger_target, clock=clock) as ledger:
        ring(ledger)
    clock.advance(hours=20)
    with Ledger.open(ledger_target, clock=clock) as ledger:
        _login(ledger)
        clock.advance(days=2)  # the same handle, in use: checked at its first write only
        _login(ledger)


@pytest.mark.sqlite_only("a shop preference, read the same way on both")
def test_the_limit_is_a_shop_preference(ledger_target, clock) -> None:
    from app.documents.preferences import set_preference

    with Ledger.open(ledger_target, clock=clock) as ledger:
        ring(ledger)
        with ledger.transaction() as session:
            set_preference(session, "clock_jump_limit_hours", "72")
    clock.advance(days=2, hours=12)
    with Ledger.open(ledger_target, clock=clock) as ledger:
        _login(ledger)
    clock.advance(days=4)
    with Ledger.open(ledger_target, clock=clock) as ledger, pytest.raises(ClockJump):
        _login(ledger)


def test_a_shop_shut_properly_reopens_after_a_weekend_without_a_confirmation(
    ledger_target, clock
) -> None:
    from datetime import time

    from app.ledger.closures import close_day

    saturday = clock.today
    with Ledger.open(ledger_target, clock=clock) as ledger:
        ring(ledger)
        clock.set_local(saturday, time(19, 0))
        with ledger.transaction() as session:
            close_day(session, saturday, operator="Gérant")
        _login(ledger)  # the Z printed or anything else after it, the same day
    monday = saturday + timedelta(days=2)
    clock.set_local(monday, time(9, 0))
    with Ledger.open(ledger_target, clock=clock) as ledger:
        ring(ledger)
        clock.set_local(monday, time(19, 0))
        with ledger.transaction() as session:
            close_day(session, monday, operator="Gérant")
    clock.advance(days=40)  # a shop shut longer than a month: the date is confirmed
    with Ledger.open(ledger_target, clock=clock) as ledger, pytest.raises(ClockJump):
        _login(ledger)


def test_comptoir_stopped_then_started_days_later_is_no_jump(ledger_target, clock) -> None:
    with Ledger.open(ledger_target, clock=clock) as ledger:
        ring(ledger)
        with ledger.transaction() as session:
            log_event(session, EventCode.STOP, operator="Gérant")
    clock.advance(days=3)
    with Ledger.open(ledger_target, clock=clock) as ledger:
        _login(ledger)
