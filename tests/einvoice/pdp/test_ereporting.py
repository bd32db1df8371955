"""B2C e-reporting built from the day closures, sent to the platform and journaled."""

from __future__ import annotations

from datetime import date, time
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select

from app.demo import DEMO_SHOP
from app.einvoice.pdp.client import HttpFlowClient
from app.einvoice.pdp.config import PlatformSettings
from app.einvoice.pdp.ereporting import NAMESPACE, build_report, send_report
from app.einvoice.pdp.sandbox import SandboxPlatform
from app.errors import InvalidInput
from app.ledger import canonical
from app.ledger.closures import close_day
from app.ledger.models import JournalRecord
from app.ledger.settings import record_fiscal_settings
from tests.helpers import ring

MARCH = (date(2026, 3, 2), date(2026, 3, 31))


def _ring_days(ledger, clock) -> None:
    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
    for day, tickets in ((date(2026, 3, 2), 2), (date(2026, 3, 3), 1)):
        clock.set_local(day, time(10))
        for _ in range(tickets):
            clock.advance(minutes=1)
            ring(ledger, ("Pain", 130, 2, 550), ("Vin", 1150, 1, 2000))
        clock.set_local(day, time(19))
        with ledger.transaction() as session:
            close_day(session, day, operator="Gérant")


def test_report_per_day_and_rate(ledger, clock) -> None:
    _ring_days(ledger, clock)
    with ledger.reader() as session:
        report = build_report(session, *MARCH)
    assert [d.day for d in report.days] == ["2026-03-02", "2026-03-03"]
    first = {line.rate_bp: line for line in report.days[0].lines}
    assert first[2000].transactions == 2 and first[550].transactions == 2
    assert first[2000].base_cents + first[2000].vat_cents == 2300
    root = ET.fromstring(report.content)
    rates = root.findall(f"{{{NAMESPACE}}}Day/{{{NAMESPACE}}}VatRate")
    assert {r.get("rate") for r in rates} == {"20.00", "5.50"}


def test_an_unclosed_day_blocks_the_report(ledger, clock) -> None:
    _ring_days(ledger, clock)
    clock.set_local(date(2026, 3, 4), time(10))
    ring(ledger)
    with pytest.raises(InvalidInput, match="04/03/2026"), ledger.reader() as session:
        build_report(session, *MARCH)


def test_sent_to_the_platform_and_journaled(ledger, clock) -> None:
    _ring_days(ledger, clock)
    with SandboxPlatform() as platform:
        client = HttpFlowClient(
            PlatformSettings(platform.url, platform.token_url, "comptoir", "secret")
        )
        try:
            report, ref = send_report(ledger, client, *MARCH, operator="Gérant")
        finally:
            client.close()
        [stored] = platform.reports
    assert stored.content == report.content
    with ledger.reader() as session:
        last = session.scalar(select(JournalRecord).order_by(JournalRecord.seq.desc()).limit(1))
    body = canonical.decode(last.canonical)["body"]
    assert body["code"] == "EREPORTING" and body["detail"]["flow_id"] == ref.flow_id
