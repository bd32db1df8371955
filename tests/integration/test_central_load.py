"""Load: four till processes ring at full speed, each into its own ledger, while their
senders upload to one central; one till is cut off from the central and reconnected
twice. At the end everything is on the central, once, without gap, and it verifies.

The numbers are small here (the full 10,000 tickets per till run is the ``central``
benchmark, which also gives tickets per second)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.ledger.central.models import TillChain, TillRecord, TillUpload
from app.ledger.central.service import close_shop_day, open_central, verify_central
from app.ledger.models import JournalRecord
from app.ledger.store import Ledger
from benchmarks.central_case import TillPlan, run_shop
from tests.helpers import shop_today

TICKETS = 300
CUTS = ((50, 110), (170, 230))  # the second till: no central between these tickets


@pytest.fixture
def central_target(ledger_backend: str, request, tmp_path: Path) -> str:
    if ledger_backend == "postgresql":
        return request.getfixturevalue("pg_url_factory")()
    return str(tmp_path / "central.sqlite")


@pytest.mark.slow
@pytest.mark.parametrize("ledger_backend", ["sqlite", "postgresql"], indirect=True)
def test_four_tills_one_cut_off_twice_everything_arrives_once(
    tmp_path: Path, central_target: str
) -> None:
    open_central(central_target, create=True).close()
    plans = [
        TillPlan(
            f"CAISSE-{n}",
            str(tmp_path / f"caisse-{n}.sqlite"),
            TICKETS,
            CUTS if n == 2 else (),
            upload_gap=0.05,  # many uploads, and cuts, within a few hundred tickets
        )
        for n in range(1, 5)
    ]
    day = shop_today() - timedelta(days=1)
    run = run_shop(central_target, tmp_path, plans, day, os.environ["COMPTOIR_DATA_DIR"])

    cut_off = run.outcomes["CAISSE-2"]
    assert len(cut_off.failures_per_cut) == 2 and all(cut_off.failures_per_cut)
    with open_central(central_target, operator="test") as central:
        with central.reader() as session:
            for plan in plans:
                outcome = run.outcomes[plan.name]
                with Ledger.open(plan.ledger, kind=None, readonly=True) as till:
                    assert till.ledger_id == outcome.ledger_id
                    local = _hashes(till)
                seqs = session.execute(
                    select(TillRecord.seq, TillRecord.hash)
                    .where(TillRecord.ledger_id == outcome.ledger_id)
                    .order_by(TillRecord.seq)
                ).all()
                assert [tuple(row) for row in seqs] == local  # no gap, no duplicate, same
                head = session.get(TillChain, outcome.ledger_id)
                assert (head.head_seq, head.till_id) == (len(local), plan.name)
                assert outcome.last_seq == len(local)
            batches = session.scalar(
                select(func.count())
                .select_from(TillUpload)
                .where(TillUpload.ledger_id == cut_off.ledger_id)
            )
            assert batches >= 3  # before, between and after the cuts
            # Uploads are the tills' word (verified below): the central's own chain holds
            # nothing of theirs, only its KEY record and its creation.
            assert session.scalar(select(func.count()).select_from(JournalRecord)) == 2
        closed = close_shop_day(central, day, operator="test").body
    assert closed["tickets"] == 4 * TICKETS
    assert all(t["closure"] is not None for t in closed["tills"])
    report = verify_central(central_target)
    assert report.ok, report.findings


def _hashes(till: Ledger) -> list[tuple[int, str]]:
    with till.reader() as session:
        rows = session.execute(
            select(JournalRecord.seq, JournalRecord.hash).order_by(JournalRecord.seq)
        ).all()
    return [tuple(row) for row in rows]
