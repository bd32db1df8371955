"""A shop of several tills and one central ledger, for the central ledger's tests.

Each till is its own SQLite ledger; the central is a SQLite file or a PostgreSQL
database (a URL). They share one FakeClock: the tills of one shop live in the same day.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from app.ledger.central.models import TillRecord
from app.ledger.central.service import open_central
from app.ledger.closures import close_day
from app.ledger.store import Ledger
from app.sales.payments import Payment, PaymentMethod
from app.sales.service import record_sale
from tests.helpers import cart_of

TILLS = ("CAISSE-1", "CAISSE-2", "CAISSE-3")


class Shop:
    """Tills by name and the central; ``close()`` closes them all."""

    def __init__(self, folder: Path, central_target: str | Path, clock, tills=TILLS) -> None:
        self.folder = folder
        self.clock = clock
        self.central_target = central_target
        self.central = open_central(central_target, clock=clock, create=True)
        self.tills = {name: self.open_till(name) for name in tills}

    def open_till(self, name: str, path: Path | None = None) -> Ledger:
        return Ledger.open(
            path or self.folder / f"{name.lower()}.sqlite",
            clock=self.clock,
            till_id=name,
            operator="test",
        )

    def close(self) -> None:
        for till in self.tills.values():
            till.close()
        self.central.close()


def sell(
    till: Ledger,
    *lines: tuple[str, int, str | int, int],
    method: PaymentMethod = PaymentMethod.CARD,
    operator: str = "Alice",
):
    """One sale on ``till``, paid exactly with one method."""
    cart = cart_of(*(lines or (("Baguette", 130, 2, 550),)))
    with till.transaction() as session:
        return record_sale(session, cart, [Payment(method, cart.totals().total_cents)], operator)


def close_till_day(till: Ledger, day: date):
    with till.transaction() as session:
        return close_day(session, day, operator="Gérant")


def till_rows(central: Ledger, ledger_id: str | None = None) -> list[tuple[str, int]]:
    """(ledger id, seq) of every record the central holds, in order."""
    query = select(TillRecord.ledger_id, TillRecord.seq).order_by(
        TillRecord.ledger_id, TillRecord.seq
    )
    if ledger_id is not None:
        query = query.where(TillRecord.ledger_id == ledger_id)
    with central.reader() as session:
        return [tuple(row) for row in session.execute(query)]


def count(central: Ledger, model) -> int:
    with central.reader() as session:
        return session.scalar(select(func.count()).select_from(model))
