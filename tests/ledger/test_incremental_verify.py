"""Incremental verification: from the latest signed checkpoint, with the same checks as a
full verification, and the whole ledger whenever the checkpoint cannot be trusted."""

from __future__ import annotations

import json
from datetime import date, time, timedelta

from app.ledger import canonical, chain
from app.ledger.closures import close_day
from app.ledger.events import EventCode, log_event
from app.ledger.service import record_verification
from app.ledger.store import Ledger
from app.ledger.verify.engine import Report, verify_ledger
from app.sales.payments import PaymentMethod
from tests.helpers import ring
from tests.pg import tampering

MONDAY = date(2026, 3, 2)


def _close(ledger: Ledger, day: date) -> int:
    with ledger.transaction() as session:
        return close_day(session, day, operator="Gérant").seq


def _checkpoint(ledger: Ledger) -> Report:
    """A full verification journaled by the shop's computer: it carries the checkpoint."""
    report = verify_ledger(ledger.target, workers=1)
    assert report.ok, report.findings
    with ledger.transaction() as session:
        record_verification(session, report, operator="Gérant")
    return report


def _a_day_and_a_half(ledger: Ledger, clock) -> None:  # type: ignore[no-untyped-def]
    """Monday closed, Tuesday's morning sold: a checkpoint in the middle of a day."""
    ring(ledger, ("Pain", 130, 2, 550), method=PaymentMethod.CASH)
    ring(ledger, ("Vin", 1150, 1, 2000))
    clock.set_local(MONDAY, time(19, 0))
    _close(ledger, MONDAY)
    clock.set_local(MONDAY + timedelta(days=1), time(9, 0))
    ring(ledger, ("Sandwich", 550, 1, 1000))


def test_incremental_starts_at_the_checkpoint_and_judges_the_day_across_it(
    ledger: Ledger, clock
) -> None:
    _a_day_and_a_half(ledger, clock)
    full = _checkpoint(ledger)
    assert full.checkpoint is not None and full.checkpoint["seq"] == full.last_seq
    # The afternoon after the checkpoint, then the day's closure: its totals need the
    # morning's ticket, which only the checkpoint's running totals remember.
    ring(ledger, ("Pain", 130, 1, 550))
    clock.set_local(MONDAY + timedelta(days=1), time(19, 0))
    closure = _close(ledger, MONDAY + timedelta(days=1))
    report = verify_ledger(ledger.target, incremental=True)
    assert report.ok, report.findings
    assert report.since_seq == full.last_seq
    assert report.last_seq == closure
    assert report.records == closure - full.last_seq  # the VERIFY event, a ticket, a Z
    assert report.closures == 1
    assert "depuis le point de contrôle n°" in report.summary()
    assert any("comptoir verify" in notice for notice in report.notices)
    again = verify_ledger(ledger.target)
    assert again.ok and again.since_seq is None and again.records == closure


def test_without_a_checkpoint_incremental_is_a_full_verification(ledger: Ledger, clock) -> None:
    _a_day_and_a_half(ledger, clock)
    report = verify_ledger(ledger.target, incremental=True)
    assert report.ok and report.since_seq is None
    assert report.records == report.last_seq


def test_a_record_changed_after_the_checkpoint_is_found(ledger: Ledger, clock) -> None:
    _a_day_and_a_half(ledger, clock)
    _checkpoint(ledger)
    late = ring(ledger, ("Pain", 130, 1, 550))
    with tampering(ledger.target) as conn:
        conn.execute("UPDATE journal SET operator = ? WHERE seq = ?", ("Mallory", late.seq))
    report = verify_ledger(ledger.target, incremental=True)
    assert not report.ok and report.since_seq is not None
    assert report.first_problem is not None and report.first_problem.seq == late.seq
    assert report.first_problem.rule == "copy"


def test_a_forged_checkpoint_is_caught_by_its_own_signature(ledger: Ledger, clock) -> None:
    """Whoever moves the checkpoint forward to skip records cannot sign the change."""
    _a_day_and_a_half(ledger, clock)
    full = _checkpoint(ledger)
    event = full.last_seq + 1
    with tampering(ledger.target) as conn:
        row = conn.execute(
            "SELECT canonical, prev_hash FROM journal WHERE seq = ?", (event,)
        ).fetchone()
        envelope = json.loads(bytes(row[0]))
        envelope["body"]["detail"]["checkpoint"]["numbers"]["TICKET"] += 1
        data = canonical.encode(envelope)
        conn.execute(
            "UPDATE journal SET canonical = ?, hash = ? WHERE seq = ?",
            (data, chain.link_hash(row[1], data), event),
        )
    report = verify_ledger(ledger.target, incremental=True)
    assert not report.ok
    assert any(f.seq == event and f.rule == "signature" for f in report.findings)


def test_a_checkpoint_naming_a_changed_closure_falls_back_to_full(ledger: Ledger, clock) -> None:
    _a_day_and_a_half(ledger, clock)
    full = _checkpoint(ledger)
    day = full.checkpoint["closures"]["DAY_CLOSURE"][0]  # type: ignore[index]
    with tampering(ledger.target) as conn:
        row = conn.execute("SELECT canonical FROM journal WHERE seq = ?", (day,)).fetchone()
        changed = bytes(row[0]).replace(b'"tickets":2', b'"tickets":3')
        conn.execute("UPDATE journal SET canonical = ? WHERE seq = ?", (changed, day))
    report = verify_ledger(ledger.target, incremental=True)
    assert report.since_seq is None  # the whole ledger was verified
    assert not report.ok
    assert any(f.seq == day and f.rule == "hash" for f in report.findings)


def test_the_latest_sound_checkpoint_is_used(ledger: Ledger, clock) -> None:
    _a_day_and_a_half(ledger, clock)
    _checkpoint(ledger)
    ring(ledger, ("Pain", 130, 1, 550))
    second = _checkpoint(ledger)
    with ledger.transaction() as session:  # an event that merely mentions a checkpoint
        log_event(session, EventCode.EXPORT, operator="Gérant", note={"checkpoint": {}})
    report = verify_ledger(ledger.target, incremental=True)
    assert report.ok, report.findings
    assert report.since_seq == second.last_seq
