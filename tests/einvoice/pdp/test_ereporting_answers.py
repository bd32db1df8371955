"""What becomes of an e-report once sent: the platform's acknowledgement and the PPF's
300 Déposé / 301 Rejeté, read back at sync and shown with the reason; and the periods a
closure completes, sent right after it. Against the sandbox on 127.0.0.1; every report
is held to the official Flux 10 rules before it leaves (``build_report``)."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest

from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.issuing import issue_invoice
from app.einvoice.pdp.autoreport import send_due_after_closure
from app.einvoice.pdp.ereporting.report import send_due
from app.einvoice.pdp.ereporting.sent import period_states, sent_reports
from app.einvoice.pdp.sandbox import SandboxPlatform
from app.einvoice.pdp.worker import sync_channel
from app.ledger.closing import close_and_follow_up
from app.ledger.records import RecordType
from tests.einvoice.pdp.test_ereporting import (
    FIRST_DECADE,
    _client,
    _close,
    _sell,
    _two_days,
    make_shop,
)


@pytest.fixture(autouse=True)
def matricule(monkeypatch) -> None:
    monkeypatch.setenv("COMPTOIR_PDP_MATRICULE", "0042")


@pytest.fixture
def shop(ledger):
    return make_shop(ledger)


def _state(ledger, period=FIRST_DECADE):
    with ledger.reader() as session:
        [row] = [row for row in period_states(session) if row.period == period]
    return row


def _send_first_decade(shop, clock, platform):
    _two_days(shop, clock)
    clock.set_local(date(2026, 4, 2), time(9))
    with _client(platform) as client:
        send_due(shop["ledger"], client, operator="Gérant", periods=[FIRST_DECADE])


def _sync(ledger, platform) -> None:
    with _client(platform) as client:
        sync_channel(ledger, "pdp", client, eager=True)


def test_the_ppf_s_300_is_read_back(shop, clock) -> None:
    ledger = shop["ledger"]
    with SandboxPlatform() as platform:
        platform.set_ack_delay(3600)
        _send_first_decade(shop, clock, platform)
        assert _state(ledger).state == "Transmis"  # acknowledgement pending
        _sync(ledger, platform)
        assert _state(ledger).state == "Transmis"
        platform.advance()  # Ok, then the PPF's 300
        _sync(ledger, platform)
    row = _state(ledger)
    assert (row.state, row.reason, row.rejected) == ("Déposé", "", False)


def test_the_ppf_s_301_rejects_the_period_with_its_reason(shop, clock) -> None:
    ledger = shop["ledger"]
    with SandboxPlatform() as platform:
        platform.set_report_outcome("301", "Période déjà déclarée par un autre émetteur")
        _send_first_decade(shop, clock, platform)
        _sync(ledger, platform)
    row = _state(ledger)
    assert row.rejected and row.state == "Rejeté"
    assert row.reason == "PPF (301) — Période déjà déclarée par un autre émetteur"


def test_an_acknowledgement_in_error_rejects_the_period_then_a_new_initial_goes(
    shop, clock
) -> None:
    ledger = shop["ledger"]
    with SandboxPlatform() as platform:
        platform.nack_next(1, rule="G6.22", message="Matricule de plateforme inconnu")
        _send_first_decade(shop, clock, platform)
        _sync(ledger, platform)
        row = _state(ledger)
        assert row.rejected
        assert row.reason == "Plateforme — Règle G6.22 : Matricule de plateforme inconnu"
        assert platform.reports == []  # the platform did not take it
        # The rejected report does not count: the period is sent again as an initial one.
        with _client(platform) as client:
            [(report, _)] = send_due(ledger, client, operator="Gérant", periods=[FIRST_DECADE])
        assert report.type_code == "IN"
        _sync(ledger, platform)
    assert _state(ledger).state == "Déposé"


def test_due_periods_leave_after_the_closure_that_completes_them(shop, clock, monkeypatch) -> None:
    ledger = shop["ledger"]
    with SandboxPlatform() as platform:
        monkeypatch.setenv("COMPTOIR_PDP_URL", platform.url)
        monkeypatch.setenv("COMPTOIR_PDP_TOKEN_URL", platform.token_url)
        monkeypatch.setenv("COMPTOIR_PDP_CLIENT_ID", platform.client_id)
        monkeypatch.setenv("COMPTOIR_PDP_CLIENT_SECRET", platform.client_secret)
        clock.set_local(date(2026, 3, 9), time(10))
        _sell(ledger, (shop["pain"], 130, 2, 550))
        clock.set_local(date(2026, 3, 9), time(19))
        first = close_and_follow_up(
            ledger, RecordType.DAY_CLOSURE, date(2026, 3, 9), operator="Gérant",
            then=(send_due_after_closure,),
        )  # fmt: skip
        assert first.follow_up.notes == () and platform.reports == []  # not complete yet
        clock.set_local(date(2026, 3, 10), time(10))
        _sell(ledger, (shop["vin"], 1150, 1, 2000))
        clock.set_local(date(2026, 3, 10), time(19))
        last = close_and_follow_up(
            ledger, RecordType.DAY_CLOSURE, date(2026, 3, 10), operator="Gérant",
            then=(send_due_after_closure,),
        )  # fmt: skip
        assert last.follow_up.error is None
        assert last.follow_up.notes == (
            f"E-reporting transmis après la clôture : {FIRST_DECADE.label()}.",
        )
        assert len(platform.reports) == 1
        with ledger.reader() as session:
            assert [s.period for s in sent_reports(session)] == [FIRST_DECADE]
        # Nothing is sent twice: the next closure finds nothing due.
        clock.set_local(date(2026, 3, 11), time(10))
        _sell(ledger, (shop["pain"], 130, 1, 550))
        _close(ledger, clock, date(2026, 3, 11))
        assert send_due_after_closure(ledger, RecordType.DAY_CLOSURE, "2026-03-11", "G") is None
        assert len(platform.reports) == 1


def test_nothing_is_sent_after_a_closure_without_a_platform(shop, clock) -> None:
    ledger = shop["ledger"]
    clock.set_local(date(2026, 3, 10), time(10))
    _sell(ledger, (shop["pain"], 130, 2, 550))
    clock.set_local(date(2026, 3, 10), time(19))
    closed = close_and_follow_up(
        ledger, RecordType.DAY_CLOSURE, date(2026, 3, 10), operator="Gérant",
        then=(send_due_after_closure,),
    )  # fmt: skip
    assert closed.follow_up.notes == () and closed.follow_up.error is None
    assert _state(ledger).due  # still listed as due on the e-reporting screen


@pytest.mark.parametrize("code", ["302", ""])
def test_the_ppf_answers_only_300_or_301(code: str) -> None:
    with SandboxPlatform() as platform, pytest.raises(Exception, match="300"):
        platform.set_report_outcome(code)


def test_a_report_of_invoices_abroad_alone_is_b2bint(shop, clock) -> None:
    ledger = shop["ledger"]
    clock.set_local(date(2026, 3, 2), time(10))
    with ledger.transaction() as session:
        belgian = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[1])).id
        line = InvoiceLineInput("Farine", Decimal(1), 5000, 550, nature="goods")
        issue_invoice(session, InvoiceDraft(belgian, (line,)), operator="Camille")
    _close(ledger, clock, date(2026, 3, 2))
    clock.set_local(date(2026, 4, 2), time(9))
    with SandboxPlatform() as platform, _client(platform) as client:
        [(report, _)] = send_due(ledger, client, operator="Gérant", periods=[FIRST_DECADE])
        [flow] = platform.reports
    assert report.processing_rule == flow.processing_rule == "B2BInt"
    assert flow.flow_type == "UnitaryCustomerTransactionReport"
