"""Screens date things in the shop's time zone by the ledger's clock, not by the computer's:
at 23:30 UTC on 31 December it is already 1 January in Paris."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from app.einvoice.drafts import save_draft
from app.ui.archive_viewer.viewer import ArchiveViewer
from app.ui.context import AppContext
from app.ui.invoices.drafts_dialog import DraftsDialog
from app.ui.invoices.invoices_screen import InvoicesScreen

NEW_YEAR_IN_PARIS = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)


@pytest.fixture
def utc_computer(monkeypatch):
    """A computer set to UTC, as many servers and fresh installations are."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_date_filters_start_from_the_shops_day(qtbot, shop, clock, utc_computer) -> None:
    clock.now = NEW_YEAR_IN_PARIS
    ctx = AppContext(shop["ledger"], shop["manager"])

    invoices = InvoicesScreen(ctx)
    qtbot.addWidget(invoices)
    assert invoices.end.date().toString("dd/MM/yyyy") == "01/01/2027"
    assert invoices.start.date().toString("dd/MM/yyyy") == "01/01/2027"

    viewer = ArchiveViewer(ctx)
    qtbot.addWidget(viewer)
    assert viewer.filters.date_to.date().toString("dd/MM/yyyy") == "01/01/2027"
    assert viewer.filters.date_from.date().toString("dd/MM/yyyy") == "01/01/2027"


def test_drafts_show_when_they_were_kept_in_shop_time(qtbot, shop, clock, utc_computer) -> None:
    clock.now = NEW_YEAR_IN_PARIS
    ledger = shop["ledger"]
    with ledger.transaction() as session:
        save_draft(session, {"lines": []}, operator="Camille", label="Vergers du Lyonnais")
    dialog = DraftsDialog(AppContext(ledger, shop["manager"]))
    qtbot.addWidget(dialog)
    assert dialog.table.model().index(0, 0).data() == "01/01/2027 00:30"
