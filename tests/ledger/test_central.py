"""The central ledger: uploads from several tills, shop closures, verification."""

from __future__ import annotations

import itertools
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.errors import ClosureRequired, InvalidInput, LedgerMismatch
from app.ledger import central_upload as central_module
from app.ledger.central import (
    ShopClosurePending,
    UploadRefused,
    central_snapshot,
    close_shop_day,
    close_shop_month,
    close_shop_year,
    open_central,
    upload,
    verify_central,
)
from app.ledger.central_closures import shop_status
from app.ledger.central_models import TillRecord, TillUpload
from app.ledger.closures import close_month, get_closure
from app.ledger.events import EventCode, log_event
from app.ledger.migrate import backup_copy
from app.ledger.models import JournalRecord, RecordType
from app.ledger.store import Ledger
from app.ledger.verify import verify_ledger
from app.sales.payments import PaymentMethod
from tests.ledger.central_shop import (
    Shop,
    close_till_day,
    count,
    sell,
    till_rows,
)
from tests.pg import tampering

MONDAY = date(2026, 3, 2)


@pytest.fixture
def shop(tmp_path: Path, central_target, clock):
    opened = Shop(tmp_path, central_target, clock)
    yield opened
    opened.close()


def _local_seqs(till: Ledger) -> list[int]:
    with till.reader() as session:
        return list(session.scalars(select(JournalRecord.seq).order_by(JournalRecord.seq)))


def _upload_events(central: Ledger) -> list[dict]:
    from app.ledger import canonical

    with central.reader() as session:
        rows = session.scalars(
            select(JournalRecord.canonical).where(JournalRecord.record_type == "EVENT")
        )
        bodies = [canonical.decode(data)["body"] for data in rows]
    return [b["detail"] for b in bodies if b["code"] == EventCode.UPLOAD.value]


# -- uploads ----------------------------------------------------------------------------------
def test_upload_copies_every_record_once_and_traces_it(shop: Shop) -> None:
    till = shop.tills["CAISSE-1"]
    for _ in range(4):
        sell(till)
    first = upload(till, shop.central)
    local = _local_seqs(till)
    assert (first.records, first.batches, first.skipped) == (len(local), 1, 0)
    assert (first.last_seq, first.pending) == (local[-1], 0)
    again = upload(till, shop.central)
    assert (again.records, again.batches, again.last_seq) == (0, 0, local[-1])
    assert till_rows(shop.central, till.ledger_id) == [(till.ledger_id, s) for s in local]
    assert count(shop.central, TillUpload) == 1
    [event] = _upload_events(shop.central)
    assert (event["till"], event["from_seq"], event["to_seq"]) == ("CAISSE-1", 1, local[-1])
    assert verify_central(shop.central_target).ok


def test_upload_cut_in_the_middle_resumes_without_gap_nor_duplicate(
    shop: Shop, monkeypatch
) -> None:
    till = shop.tills["CAISSE-2"]
    for _ in range(12):
        sell(till)
    real = central_module._store_batch
    calls = []

    def dies_in_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("le processus meurt au milieu du lot")
        return real(*args, **kwargs)

    monkeypatch.setattr(central_module, "_store_batch", dies_in_second_batch)
    with pytest.raises(RuntimeError):
        upload(till, shop.central, batch=5)
    assert [s for _, s in till_rows(shop.central)] == [1, 2, 3, 4, 5]
    monkeypatch.setattr(central_module, "_store_batch", real)
    sell(till)  # the till went on selling meanwhile
    result = upload(till, shop.central, batch=5)
    local = _local_seqs(till)
    assert [s for _, s in till_rows(shop.central)] == local == list(range(1, len(local) + 1))
    assert result.records == len(local) - 5
    uploads = [(e["from_seq"], e["to_seq"]) for e in _upload_events(shop.central)]
    assert uploads[0] == (1, 5) and uploads[-1][1] == local[-1]
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(uploads))
    assert verify_central(shop.central_target).ok


def test_a_record_already_received_is_skipped_when_sent_again(shop: Shop) -> None:
    till = shop.tills["CAISSE-1"]
    sell(till)
    upload(till, shop.central)
    rows = central_module._local_batch(till, 0, 100)
    stored = central_module._store_batch(shop.central, till.ledger_id, "CAISSE-1", rows, "test")
    assert (stored.inserted, stored.skipped) == (0, len(rows))
    assert count(shop.central, TillUpload) == 1


def test_a_copy_of_a_till_that_went_its_own_way_is_refused(shop: Shop, tmp_path) -> None:
    till = shop.tills["CAISSE-1"]
    sell(till)
    upload(till, shop.central)
    clone_path = tmp_path / "clone.sqlite"
    backup_copy(Path(till.path), clone_path)  # same ledger id, same key: a cloned till
    sell(till, ("Croissant", 110, 3, 550))
    upload(till, shop.central)
    before = till_rows(shop.central)
    clone = shop.open_till("CAISSE-1", clone_path)
    try:
        sell(clone, ("Vin", 1290, 1, 2000))
        with pytest.raises(UploadRefused) as refused:
            upload(clone, shop.central)
    finally:
        clone.close()
    assert "ne prolonge pas" in refused.value.message
    assert "CAISSE-1" in refused.value.message
    assert till_rows(shop.central) == before
    assert verify_central(shop.central_target).ok


def test_a_till_restored_from_an_older_copy_is_refused(shop: Shop, tmp_path) -> None:
    till = shop.tills["CAISSE-3"]
    old_copy = tmp_path / "old.sqlite"
    backup_copy(Path(till.path), old_copy)
    sell(till)
    upload(till, shop.central)
    restored = shop.open_till("CAISSE-3", old_copy)
    try:
        with pytest.raises(UploadRefused, match="s'arrête au n°"):
            upload(restored, shop.central)
    finally:
        restored.close()


def test_a_tampered_record_is_refused_and_nothing_of_its_batch_is_kept(shop: Shop) -> None:
    import sqlite3

    till = shop.tills["CAISSE-2"]
    sell(till)
    upload(till, shop.central)
    ticket = sell(till, ("Vin", 1290, 1, 2000))
    sell(till)
    before = till_rows(shop.central)
    conn = sqlite3.connect(till.path)
    try:
        conn.execute("DROP TRIGGER journal_no_update")
        data = conn.execute("SELECT canonical FROM journal WHERE seq = ?", (ticket.seq,)).fetchone()
        conn.execute(
            "UPDATE journal SET canonical = ? WHERE seq = ?",
            (data[0].replace(b"Vin", b"Eau"), ticket.seq),
        )
        conn.commit()
    finally:
        conn.close()
    with pytest.raises(UploadRefused) as refused:
        upload(till, shop.central)
    message = refused.value.message
    assert f"l'enregistrement n°{ticket.seq} de la caisse CAISSE-2 a été modifié" in message
    assert till_rows(shop.central) == before
    assert count(shop.central, TillUpload) == 1


def test_training_ledgers_and_two_tills_of_one_name_are_refused(shop: Shop, tmp_path) -> None:
    from app.training import ensure_training_ledger

    till = shop.tills["CAISSE-1"]
    training_path = ensure_training_ledger(Path(till.path), supervisor="Gérant")
    with (
        Ledger.open(training_path, kind="training", clock=shop.clock) as training,
        pytest.raises(UploadRefused, match="journal réel"),
    ):
        upload(training, shop.central)
    upload(till, shop.central)
    impostor = shop.open_till("CAISSE-1", tmp_path / "impostor.sqlite")
    try:
        with pytest.raises(UploadRefused, match="déjà inscrite"):
            upload(impostor, shop.central)
    finally:
        impostor.close()


def test_a_till_ledger_is_not_a_central(shop: Shop) -> None:
    with pytest.raises(LedgerMismatch, match="pas un serveur central"):
        open_central(shop.tills["CAISSE-1"].path)


# -- shop closures ----------------------------------------------------------------------------
def _day_with_sales(shop: Shop, day: date) -> dict[str, int]:
    """Every till sells on ``day``; returns each till's turnover."""
    shop.clock.set_local(day, time(9, 0))
    sales = {
        "CAISSE-1": [("Pain", 130, 2, 550), ("Vin", 1150, 1, 2000)],
        "CAISSE-2": [("Sandwich", 550, 1, 1000)],
        "CAISSE-3": [("Croissant", 110, 4, 550)],
    }
    totals = {}
    for name, lines in sales.items():
        recorded = [sell(shop.tills[name], line, method=PaymentMethod.CASH) for line in lines]
        totals[name] = sum(r.body["total"] for r in recorded)
    return totals


def test_shop_day_waits_for_every_till_then_sums_them(shop: Shop) -> None:
    totals = _day_with_sales(shop, MONDAY)
    shop.clock.set_local(MONDAY, time(20, 0))
    close_till_day(shop.tills["CAISSE-1"], MONDAY)
    for till in shop.tills.values():
        upload(till, shop.central)
    with pytest.raises(ShopClosurePending) as pending:
        close_shop_day(shop.central, MONDAY, operator="Gérant")
    assert pending.value.missing == ("CAISSE-2", "CAISSE-3")
    assert "02/03/2026" in pending.value.message
    assert "les caisses CAISSE-2, CAISSE-3" in pending.value.message
    status = shop_status(shop.central)
    [day] = [p for p in status.pending if p.kind is RecordType.DAY_CLOSURE]
    assert (day.period, day.missing) == ("2026-03-02", ("CAISSE-2", "CAISSE-3"))

    closures = {"CAISSE-1": None}
    for name in ("CAISSE-2", "CAISSE-3"):
        closures[name] = close_till_day(shop.tills[name], MONDAY)
        upload(shop.tills[name], shop.central)
    record = close_shop_day(shop.central, MONDAY, operator="Gérant")
    body = record.body
    assert body["total"] == sum(totals.values()) == body["grand_total"] == body["perpetual_total"]
    assert body["tickets"] == 4
    assert {p["method"]: p["amount"] for p in body["payments"]} == {"cash": sum(totals.values())}
    listed = {t["till"]: t for t in body["tills"]}
    assert {n: t["total"] for n, t in listed.items()} == totals
    for name in ("CAISSE-2", "CAISSE-3"):
        assert listed[name]["closure"]["hash"] == closures[name].hash
    assert shop_status(shop.central).pending == ()
    report = verify_central(shop.central_target)
    assert report.ok, report.findings
    assert report.records == count(shop.central, TillRecord) + _central_records(shop)


def _central_records(shop: Shop) -> int:
    with shop.central.reader() as session:
        return session.scalar(select(JournalRecord.seq).order_by(JournalRecord.seq.desc()))


def test_a_till_without_sales_blocks_the_day_until_it_sends_a_later_record(shop: Shop) -> None:
    shop.clock.set_local(MONDAY, time(9, 0))
    for name in ("CAISSE-1", "CAISSE-2"):
        sell(shop.tills[name])
        close_till_day(shop.tills[name], MONDAY)
    for till in shop.tills.values():
        upload(till, shop.central)
    with pytest.raises(ShopClosurePending, match="la caisse CAISSE-3"):
        close_shop_day(shop.central, MONDAY, operator="Gérant")
    shop.clock.set_local(MONDAY + timedelta(days=1), time(8, 0))
    with shop.tills["CAISSE-3"].transaction() as session:  # the till is started next morning
        log_event(session, EventCode.START, operator="système")
    upload(shop.tills["CAISSE-3"], shop.central)
    body = close_shop_day(shop.central, MONDAY, operator="Gérant").body
    assert [t["closure"] is None for t in body["tills"]] == [False, False, True]
    assert verify_central(shop.central_target).ok


def test_shop_days_close_in_order_and_months_sum_them(shop: Shop) -> None:
    tuesday = MONDAY + timedelta(days=1)
    first = _day_with_sales(shop, MONDAY)
    shop.clock.set_local(MONDAY, time(20, 0))
    for till in shop.tills.values():
        close_till_day(till, MONDAY)
    second = _day_with_sales(shop, tuesday)
    shop.clock.set_local(tuesday, time(20, 0))
    for till in shop.tills.values():
        close_till_day(till, tuesday)
        upload(till, shop.central)
    with pytest.raises(ClosureRequired, match="02/03/2026"):
        close_shop_day(shop.central, tuesday, operator="Gérant")
    close_shop_day(shop.central, MONDAY, operator="Gérant")
    last_day = close_shop_day(shop.central, tuesday, operator="Gérant").body
    assert last_day["perpetual_total"] == sum(first.values()) + sum(second.values())
    with pytest.raises(InvalidInput, match="pas terminé"):
        close_shop_month(shop.central, "2026-03", operator="Gérant")
    shop.clock.set_local(date(2026, 4, 1), time(8, 0))
    month = close_shop_month(shop.central, "2026-03", operator="Gérant").body
    assert month["total"] == last_day["perpetual_total"] == month["perpetual_total"]
    assert [p["period"] for p in month["parts"]] == ["2026-03-02", "2026-03-03"]
    for till in shop.tills.values():  # the tills close their own month as usual
        with till.transaction() as session:
            close_month(session, "2026-03", operator="Gérant")
        upload(till, shop.central)
    shop.clock.set_local(date(2027, 1, 1), time(8, 0))
    year = close_shop_year(shop.central, 2026, operator="Gérant").body
    assert year["total"] == month["total"] and year["parts"][0]["period"] == "2026-03"
    report = verify_central(shop.central_target)
    assert report.ok, report.findings
    assert get_closure(_reader(shop), RecordType.YEAR_CLOSURE, "2026") is not None


def _reader(shop: Shop):
    return shop.central.reader()


# -- verification -----------------------------------------------------------------------------
def test_verify_finds_a_tampered_till_record_and_names_the_till(shop: Shop) -> None:
    _day_with_sales(shop, MONDAY)
    shop.clock.set_local(MONDAY, time(20, 0))
    for till in shop.tills.values():
        close_till_day(till, MONDAY)
        upload(till, shop.central)
    close_shop_day(shop.central, MONDAY, operator="Gérant")
    assert verify_central(shop.central_target).ok
    victim = shop.tills["CAISSE-2"]
    with shop.central.reader() as session:
        seq, data = session.execute(
            select(TillRecord.seq, TillRecord.canonical).where(
                TillRecord.ledger_id == victim.ledger_id, TillRecord.record_type == "TICKET"
            )
        ).one()
    with tampering(shop.central_target) as conn:
        conn.execute(
            "UPDATE till_record SET canonical = ? WHERE ledger_id = ? AND seq = ?",
            (data.replace(b"550", b"450"), victim.ledger_id, seq),
        )
    report = verify_central(shop.central_target)
    assert not report.ok
    messages = [f.message for f in report.findings]
    assert any(
        m.startswith("Caisse CAISSE-2 : l'enregistrement n°") and "a été modifié" in m
        for m in messages
    ), messages
    assert all("CAISSE-1" not in m and "CAISSE-3" not in m for m in messages)
    alone = verify_central(shop.central_target, till="CAISSE-2")
    assert not alone.ok and alone.notices
    assert verify_central(shop.central_target, till="CAISSE-3").ok


def test_verify_finds_a_record_deleted_from_a_till_chain(shop: Shop) -> None:
    till = shop.tills["CAISSE-1"]
    for _ in range(3):
        sell(till)
    upload(till, shop.central)
    with tampering(shop.central_target) as conn:
        conn.execute("DELETE FROM till_record WHERE ledger_id = ? AND seq = 3", (till.ledger_id,))
    messages = [f.message for f in verify_central(shop.central_target).findings]
    assert any("Caisse CAISSE-1 : la séquence passe de 2 à 4" in m for m in messages), messages


def test_verify_of_an_unknown_till_is_refused(shop: Shop) -> None:
    with pytest.raises(InvalidInput, match="CAISSE-9"):
        verify_central(shop.central_target, till="CAISSE-9")


# -- snapshots --------------------------------------------------------------------------------
def test_snapshots_of_a_till_and_of_the_shop(shop: Shop, tmp_path) -> None:
    _day_with_sales(shop, MONDAY)
    shop.clock.set_local(MONDAY, time(20, 0))
    for till in shop.tills.values():
        close_till_day(till, MONDAY)
        upload(till, shop.central)
    close_shop_day(shop.central, MONDAY, operator="Gérant")
    till = shop.tills["CAISSE-1"]
    copy = central_snapshot(shop.central, tmp_path / "caisse-1.sqlite", till="CAISSE-1")
    report = verify_ledger(copy)
    assert report.ok, report.findings
    assert report.last_seq == _local_seqs(till)[-1]
    with Ledger.open(copy, kind=None, readonly=True) as snapshot:
        assert snapshot.ledger_id == till.ledger_id
    shop_copy = central_snapshot(shop.central, tmp_path / "boutique.sqlite")
    with Ledger.open(shop_copy, kind=None, readonly=True) as snapshot:
        assert (snapshot.kind, snapshot.ledger_id) == ("central", shop.central.ledger_id)
        with snapshot.reader() as session:
            assert get_closure(session, RecordType.DAY_CLOSURE, "2026-03-02") is not None
