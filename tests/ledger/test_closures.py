"""Day, month and year closures: totals, grand totals and enforcement."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from app.errors import ClosureRequired, InvalidInput, PeriodClosed
from app.ledger.closures import (
    close_day,
    close_month,
    close_pending,
    close_year,
    get_closure,
    pending_closures,
    x_report,
)
from app.ledger.periods import ensure_open_for_sale
from app.ledger.records import RecordType
from app.ledger.store import Ledger
from app.ledger.verify.engine import verify_ledger
from app.sales.payments import PaymentMethod
from app.sales.service import cancel_ticket
from tests.helpers import ring

MONDAY = date(2026, 3, 2)


def _close(ledger: Ledger, day: date, **kwargs):
    with ledger.transaction() as session:
        return close_day(session, day, operator="Gérant", **kwargs)


def test_day_closure_totals_per_rate_and_method(ledger: Ledger, clock) -> None:
    ring(ledger, ("Pain", 130, 2, 550), ("Vin", 1150, 1, 2000), method=PaymentMethod.CASH)
    ring(ledger, ("Sandwich", 550, 1, 1000), method=PaymentMethod.CARD)
    clock.set_local(MONDAY, time(19, 0))
    record = _close(ledger, MONDAY, counted={"cash": 1400})
    body = record.body
    assert body["tickets"] == 2
    assert body["total"] == 260 + 1150 + 550
    assert {v["rate"]: v["total"] for v in body["vat"]} == {2000: 1150, 1000: 550, 550: 260}
    assert all(v["base"] + v["vat"] == v["total"] for v in body["vat"])
    assert body["total_excl"] + body["total_vat"] == body["total"]
    assert {p["method"]: p["amount"] for p in body["payments"]} == {"cash": 1410, "card": 550}
    cash = next(c for c in body["counted"] if c["method"] == "cash")
    assert (cash["expected"], cash["counted"], cash["difference"]) == (1410, 1400, -10)
    assert body["grand_total"] == 1960
    assert body["perpetual_total"] == 1960
    assert body["last_seq"] == record.seq - 1


def test_perpetual_total_runs_across_days_and_counts_cancellations(ledger, clock) -> None:
    first = ring(ledger, ("Pain", 130, 1, 550))
    _close(ledger, MONDAY)
    clock.set_local(MONDAY + timedelta(days=1))
    ring(ledger, ("Vin", 1000, 1, 2000))
    with ledger.transaction() as session:
        cancel_ticket(session, first.number, operator="Gérant", reason="erreur")
    tuesday = _close(ledger, MONDAY + timedelta(days=1)).body
    assert tuesday["grand_total"] == 1000 - 130
    assert tuesday["perpetual_total"] == 130 + 870
    assert tuesday["perpetual_abs_total"] == 130 + 1000 + 130
    assert tuesday["refunds"] == 1
    assert verify_ledger(ledger.target).ok


def test_rate_sold_and_cancelled_the_same_day_still_verifies(ledger, clock) -> None:
    wine = ring(ledger, ("Vin", 1150, 1, 2000))
    ring(ledger, ("Pain", 130, 1, 550))
    with ledger.transaction() as session:
        cancel_ticket(session, wine.number, operator="Gérant", reason="erreur")
    body = _close(ledger, MONDAY).body
    assert {v["rate"]: v["total"] for v in body["vat"]}.get(2000, 0) == 0
    report = verify_ledger(ledger.target)
    assert report.ok, report.summary()


def test_sale_refused_while_an_earlier_day_is_unclosed(ledger, clock) -> None:
    ring(ledger)
    clock.set_local(MONDAY + timedelta(days=1))
    with pytest.raises(ClosureRequired, match="02/03/2026") as caught:
        ring(ledger)
    assert caught.value.period == "2026-03-02"
    _close(ledger, MONDAY)
    assert ring(ledger).number == 2


def test_days_without_sales_need_no_closure(ledger, clock) -> None:
    ring(ledger)
    _close(ledger, MONDAY)
    clock.set_local(MONDAY + timedelta(days=3))
    assert ring(ledger).number == 2


def test_a_closed_day_goes_on_into_its_next_closure(ledger, clock) -> None:
    """A Z no longer shuts the day: the sale after it is recorded and the next Z of the
    same day covers it. What stays refused: a Z with nothing sold since the last one, and
    any record dated before the last closed day."""
    ring(ledger)
    _close(ledger, MONDAY)
    clock.advance(minutes=5)
    with pytest.raises(PeriodClosed, match="déjà clôturée"):
        _close(ledger, MONDAY)
    assert ring(ledger).number == 2
    assert _close(ledger, MONDAY).body["tickets"] == 1
    with pytest.raises(PeriodClosed, match="clôturée"), ledger.reader() as session:
        ensure_open_for_sale(session, MONDAY - timedelta(days=1))


def test_future_day_and_out_of_order_closures_are_refused(ledger, clock) -> None:
    with pytest.raises(InvalidInput, match="pas encore commencée"):
        _close(ledger, MONDAY + timedelta(days=1))
    ring(ledger)
    clock.set_local(MONDAY + timedelta(days=2))
    with pytest.raises(ClosureRequired):
        _close(ledger, MONDAY + timedelta(days=1))


def test_month_closes_after_its_end_and_its_days(ledger, clock) -> None:
    ring(ledger)
    clock.set_local(date(2026, 3, 31), time(18, 0))
    with pytest.raises(InvalidInput, match="pas terminé"), ledger.transaction() as session:
        close_month(session, "2026-03", operator="Gérant")
    clock.set_local(date(2026, 4, 1))
    with pytest.raises(ClosureRequired, match="02/03/2026"), ledger.transaction() as session:
        close_month(session, "2026-03", operator="Gérant")
    _close(ledger, MONDAY)
    with ledger.transaction() as session:
        month = close_month(session, "2026-03", operator="Gérant")
    assert month.body["total"] == 260
    assert [p["period"] for p in month.body["parts"]] == ["2026-03-02"]
    with pytest.raises(PeriodClosed), ledger.transaction() as session:
        close_month(session, "2026-03", operator="Gérant")


def test_sale_in_a_new_month_requires_the_previous_month_closed(ledger, clock) -> None:
    ring(ledger)
    _close(ledger, MONDAY)
    clock.set_local(date(2026, 4, 1))
    with pytest.raises(ClosureRequired, match="mars 2026"):
        ring(ledger)
    with ledger.reader() as session:
        assert [p.kind for p in pending_closures(session)] == [RecordType.MONTH_CLOSURE]
    with ledger.transaction() as session:
        done = close_pending(session, operator="Gérant")
    assert [r.record_type for r in done] == [RecordType.MONTH_CLOSURE]
    assert ring(ledger).number == 2


def test_year_builds_on_months_and_new_year_needs_it(ledger, clock) -> None:
    totals = 0
    for month in (3, 4, 12):
        clock.set_local(date(2026, month, 2))
        with ledger.transaction() as session:
            close_pending(session, operator="Gérant")
        totals += ring(ledger, ("Pain", 130, month, 550)).body["total"]
        _close(ledger, date(2026, month, 2))
    clock.set_local(date(2027, 1, 4))
    with pytest.raises(ClosureRequired, match="décembre 2026"):
        ring(ledger)
    with ledger.reader() as session:
        assert [p.kind for p in pending_closures(session)] == [
            RecordType.MONTH_CLOSURE,
            RecordType.YEAR_CLOSURE,
        ]
    with ledger.transaction() as session:
        close_month(session, "2026-12", operator="Gérant")
    with pytest.raises(ClosureRequired, match="exercice 2026"):
        ring(ledger)
    with ledger.transaction() as session:
        year = close_year(session, 2026, operator="Gérant")
    assert year.body["total"] == totals
    assert [p["period"] for p in year.body["parts"]] == ["2026-03", "2026-04", "2026-12"]
    assert year.body["perpetual_total"] == totals
    ring(ledger)
    assert verify_ledger(ledger.target).ok


def test_year_cannot_close_before_its_end(ledger, clock) -> None:
    with pytest.raises(InvalidInput, match="pas terminé"), ledger.transaction() as session:
        close_year(session, 2026, operator="Gérant")
    with pytest.raises(InvalidInput, match="Mois invalide"), ledger.transaction() as session:
        close_month(session, "2026-13", operator="Gérant")


def test_x_report_shows_running_totals_without_recording(ledger, clock) -> None:
    ring(ledger, ("Pain", 130, 1, 550))
    with ledger.reader() as session:
        before = session.info["ledger"]
        totals = x_report(session)
    assert before is ledger
    assert totals.total == 130 and totals.tickets == 1
    with ledger.reader() as session:
        assert get_closure(session, RecordType.DAY_CLOSURE, MONDAY.isoformat()) is None


def test_counted_cash_must_be_cents(ledger, clock) -> None:
    ring(ledger, method=PaymentMethod.CASH)
    with pytest.raises(InvalidInput):
        _close(ledger, MONDAY, counted={"cash": 12.5})
    with pytest.raises(InvalidInput):
        _close(ledger, MONDAY, counted={"cash": -1})
