"""Close and follow up: the closure stands whatever happens to what follows it."""

from __future__ import annotations

import pytest

from app.ledger import closing
from app.ledger.closures import get_closure
from app.ledger.records import RecordType
from tests.helpers import ring

pytestmark = pytest.mark.sqlite_only("a day closure is followed by a copy of the SQLite file")


def test_a_day_closure_is_backed_up(ledger, clock) -> None:
    ring(ledger)
    closed = closing.close_and_follow_up(
        ledger, RecordType.DAY_CLOSURE, clock.today, operator="Gérant"
    )
    assert closed.recorded.record_type is RecordType.DAY_CLOSURE
    assert closed.follow_up.backup is not None and closed.follow_up.backup.path.exists()
    assert closed.follow_up.warning is None


def test_a_failed_follow_up_is_a_warning_and_the_closure_stands(ledger, clock, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(closing, "backup_now", broken)
    ring(ledger)
    closed = closing.close_and_follow_up(
        ledger, RecordType.DAY_CLOSURE, clock.today, operator="Gérant"
    )
    assert closed.follow_up.backup is None
    assert (
        "La clôture" in closed.follow_up.warning and "est enregistrée" in closed.follow_up.warning
    )
    with ledger.reader() as session:
        assert get_closure(session, RecordType.DAY_CLOSURE, clock.today.isoformat()) is not None
