"""The demo shop made in the small hours: its records are never dated after the moment it is
made, so the shop can go on at once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.demo import run_demo
from app.ledger.closures import get_closure
from app.ledger.events import EventCode, log_event
from app.ledger.records import RecordType
from app.ledger.store import Ledger
from tests.conftest import FakeClock


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 31, 23, 30, tzinfo=UTC),  # 00:30 on 1 January in Paris
        datetime(2027, 2, 28, 23, 30, tzinfo=UTC),  # 00:30 on 1 March in Paris
    ],
    ids=["new-year-in-paris", "first-of-march-in-paris"],
)
def test_a_demo_made_after_midnight_in_paris_closes_what_is_due_without_a_future_date(
    tmp_path: Path, moment: datetime
) -> None:
    path = tmp_path / "demo.sqlite"
    run_demo(path, days=3, now=moment).close()
    clock = FakeClock(moment)
    clock.advance(minutes=1)
    month = moment.replace(day=1).strftime("%Y-%m")  # the month just over in Paris
    opened = Ledger.open(path, kind="demo", clock=clock, operator="test")
    with opened as ledger, ledger.transaction() as session:
        assert get_closure(session, RecordType.MONTH_CLOSURE, month) is not None
        log_event(session, EventCode.LOGIN, operator="Camille")  # not refused
