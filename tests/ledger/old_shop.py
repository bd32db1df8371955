"""A shop whose first fiscal year is old enough to be purged (shared by the purge tests).

2018: sales on 27 and 28 December, one cancelled, one reprinted; the days, December and the
year are closed on 02/01/2019 at 8:00 and the year is archived at 8:05.
2019: on 02/01/2019 a sale and a partial refund of the first sale of 2018 (so that sale
stays online after a purge of 2018); the day, January and the year are closed on
03/01/2020 and the year 2019 is archived unless ``archive_2019`` is false.
The clock is then left on 05/01/2026: 2018 is past six years of retention, 2019 is too
with the default retention but not with seven years.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from pathlib import Path

from app.customers.service import CustomerInfo, save_customer
from app.demo import DEMO_CUSTOMERS, DEMO_SHOP
from app.einvoice.invoices import InvoiceDraft, InvoiceLineInput
from app.einvoice.issuing import issue_invoice
from app.ledger.archive.write import create_archive
from app.ledger.closures import close_day, close_pending
from app.ledger.journal import Recorded
from app.ledger.records import RecordType
from app.ledger.reprints import record_duplicate
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from app.sales.service import cancel_ticket, refund_lines
from tests.conftest import FakeClock
from tests.helpers import ring

OPERATOR = "Gérant"
START = date(2018, 12, 27)
NOW = date(2026, 1, 5)


@dataclass(frozen=True)
class OldShop:
    archive_2018: Path
    archive_2019: Path | None
    kept_sale: Recorded  # 2018, refunded in 2019: stays online
    purged_sales: tuple[Recorded, ...]  # the other 2018 tickets (cancellation included)
    reprint: Recorded  # 2018 duplicate of a purged sale
    sale_2019: Recorded
    refund_2019: Recorded
    invoice: Recorded | None = None  # 2018, when asked for: kept ten years


def old_clock() -> FakeClock:
    clock = FakeClock()
    clock.set_local(START, time(9))
    return clock


def build_old_shop(
    ledger: Ledger,
    clock: FakeClock,
    archives: Path,
    *,
    archive_2019: bool = True,
    with_invoice: bool = False,
) -> OldShop:
    """Fill ``ledger`` (opened on ``old_clock()``) as the module docstring says; with
    ``with_invoice``, an invoice to a company is also issued on 28/12/2018."""
    with ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator=OPERATOR)
    clock.advance(minutes=10)
    kept = ring(ledger, ("Vin", 1150, 1, 2000), ("Pain", 130, 2, 550))
    second = ring(ledger, ("Café", 180, 2, 1000))
    third = ring(ledger, ("Pommes", 349, "0.75", 550))
    with ledger.transaction() as session:
        cancelled = cancel_ticket(session, second.number, operator=OPERATOR, reason="erreur")
        reprint = record_duplicate(session, RecordType.TICKET, third.number, operator=OPERATOR)
    _close_day(ledger, clock, START)
    clock.set_local(date(2018, 12, 28), time(9))
    fourth = ring(ledger, ("Fromage", 420, 1, 550))
    invoice = _invoice(ledger) if with_invoice else None
    _close_day(ledger, clock, date(2018, 12, 28))

    clock.set_local(date(2019, 1, 2), time(8))
    with ledger.transaction() as session:
        close_pending(session, operator=OPERATOR)
    clock.advance(minutes=5)
    first_archive = create_archive(ledger, "2018", operator=OPERATOR, out_dir=archives)
    clock.set_local(date(2019, 1, 2), time(9))
    sale_2019 = ring(ledger, ("Thé", 250, 1, 550))
    with ledger.transaction() as session:
        refund = refund_lines(
            session, kept.number, [(1, 1)], operator=OPERATOR, reason="pain rassis"
        )
    _close_day(ledger, clock, date(2019, 1, 2))

    clock.set_local(date(2020, 1, 3), time(8))
    with ledger.transaction() as session:
        close_pending(session, operator=OPERATOR)
    clock.advance(minutes=5)
    second_archive = None
    if archive_2019:
        second_archive = create_archive(ledger, "2019", operator=OPERATOR, out_dir=archives).path
    clock.set_local(NOW, time(9))
    return OldShop(
        archive_2018=first_archive.path,
        archive_2019=second_archive,
        kept_sale=kept,
        purged_sales=(second, third, cancelled, fourth),
        reprint=reprint,
        sale_2019=sale_2019,
        refund_2019=refund,
        invoice=invoice,
    )


def _invoice(ledger: Ledger) -> Recorded:
    with ledger.transaction() as session:
        buyer = save_customer(session, CustomerInfo(**DEMO_CUSTOMERS[0])).id
        line = InvoiceLineInput("Plateau de fromages", Decimal(1), 4500, 550)
        return issue_invoice(session, InvoiceDraft(buyer, (line,)), operator=OPERATOR)


def _close_day(ledger: Ledger, clock: FakeClock, day: date) -> None:
    clock.set_local(day, time(19))
    with ledger.transaction() as session:
        close_day(session, day, operator=OPERATOR)
