"""The central ledger: uploads from several tills, shop closures, verification."""

from __future__ import annotations

import itertools
from dataclasses import astuple, replace
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select

from app.errors import ClosureRequired, InvalidInput, LedgerError, LedgerMismatch
from app.ledger import chain
from app.ledger.central import upload as central_module
from app.ledger.central.closures import shop_status
from app.ledger.central.models import TillChain, TillRecord, TillUpload
from app.ledger.central.service import (
    CentralKeyMissing,
    ShopClosurePending,
    TillKeyMissing,
    UploadRefused,
    UploadTrace,
    central_snapshot,
    close_shop_day,
    close_shop_month,
    close_shop_year,
    open_central,
    open_central_for_upload,
    upload,
    upload_to,
    verify_central,
)
from app.ledger.closures import close_month, get_closure
from app.ledger.events import EventCode, log_event
from app.ledger.migrate import HEAD_REVISION, backup_copy, current_revision
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType
from app.ledger.store import Ledger
from app.ledger.verify.engine import verify_ledger
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


def _uploads(central: Ledger) -> list[TillUpload]:
    with central.reader() as session:
        return list(session.scalars(select(TillUpload).order_by(TillUpload.id)))


def _central_head(central: Ledger) -> tuple[int, int]:
    """(last seq, KEY records) of the central's own chain."""
    with central.reader() as session:
        last = session.scalar(select(func.max(JournalRecord.seq)))
        keys = session.scalar(
            select(func.count())
            .select_from(JournalRecord)
            .where(JournalRecord.record_type == "KEY")
        )
    return last, keys


def _signed_by_till(row: TillUpload, till: Ledger) -> bool:
    public = till.signer.public_key()
    return row.key_id == till.signer_key_id and UploadTrace.of(row).signed_by(public, row.signature)


# -- uploads ----------------------------------------------------------------------------------
def test_upload_copies_every_record_once_and_traces_it(shop: Shop) -> None:
    till = shop.tills["CAISSE-1"]
    for _ in range(4):
        sell(till)
    central_before = _central_head(shop.central)
    first = upload(till, shop.central)
    local = _local_seqs(till)
    assert (first.records, first.batches, first.skipped) == (len(local), 1, 0)
    assert (first.last_seq, first.pending) == (local[-1], 0)
    again = upload(till, shop.central)
    assert (again.records, again.batches, again.last_seq) == (0, 0, local[-1])
    assert till_rows(shop.central, till.ledger_id) == [(till.ledger_id, s) for s in local]
    [trace] = _uploads(shop.central)
    assert (trace.ledger_id, trace.from_seq, trace.to_seq) == (till.ledger_id, 1, local[-1])
    assert _signed_by_till(trace, till)
    # the till's word only: the central's own chain got nothing, not even a registration
    assert _central_head(shop.central) == central_before
    assert verify_central(shop.central_target).ok


def test_a_till_uploads_without_the_central_key(
    central_target, clock, tmp_path: Path, monkeypatch
) -> None:
    open_central(central_target, clock=clock, create=True).close()
    # The till is another computer: its own data folder, without the central's key.
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(tmp_path / "caisse-data"))
    with pytest.raises(CentralKeyMissing, match="clé de signature du serveur central"):
        open_central(central_target, clock=clock)
    with Ledger.open(tmp_path / "caisse.sqlite", clock=clock, till_id="CAISSE-1") as till:
        for _ in range(3):
            sell(till)
        with open_central(central_target, readonly=True) as central:
            before = _central_head(central)
        result = upload_to(till, central_target)
        assert (result.till_id, result.pending) == ("CAISSE-1", 0)
        assert result.last_seq == _local_seqs(till)[-1]
        with open_central_for_upload(central_target, clock=clock) as central:
            assert central.signer is None
            assert _central_head(central) == before == (before[0], 1)  # no new KEY, nothing
            [trace] = _uploads(central)
            assert _signed_by_till(trace, till)
            with pytest.raises(CentralKeyMissing):
                close_shop_day(central, clock.today, operator="Caissier")
            with pytest.raises(RuntimeError), central.transaction() as session:
                log_event(session, EventCode.START, operator="Caissier")
            assert _central_head(central) == before
    report = verify_central(central_target)
    assert report.ok, report.findings


def test_uploading_needs_the_till_key_and_a_current_central(
    central_target, clock, tmp_path: Path, monkeypatch
) -> None:
    open_central(central_target, clock=clock, create=True).close()
    path = tmp_path / "caisse.sqlite"
    with Ledger.open(path, clock=clock, till_id="CAISSE-1") as till:
        sell(till)
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(tmp_path / "autre-poste"))
    with (
        Ledger.open(path, kind=None, readonly=True) as copy,  # neither key on this computer
        pytest.raises(TillKeyMissing, match="clé de signature de la caisse CAISSE-1"),
    ):
        upload_to(copy, central_target)
    with tampering(central_target) as conn:  # a central of an older version of Comptoir
        conn.execute("UPDATE alembic_version SET version_num = '0005'")
    with pytest.raises(LedgerError, match="n'a pas le format de cette version"):
        open_central_for_upload(central_target)
    with open_central(central_target, readonly=True) as central:
        assert current_revision(central.engine) == "0005" != HEAD_REVISION  # not migrated
        assert count(central, TillChain) == 0


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
    traces = _uploads(shop.central)
    uploads = [(t.from_seq, t.to_seq) for t in traces]
    assert uploads[0] == (1, 5) and uploads[-1][1] == local[-1]
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(uploads))
    assert all(_signed_by_till(t, till) for t in traces)
    assert verify_central(shop.central_target).ok


def test_a_till_is_registered_with_its_first_records_only(shop: Shop, monkeypatch) -> None:
    till = shop.tills["CAISSE-1"]
    sell(till)

    def dies(*args, **kwargs):
        raise RuntimeError("le réseau tombe pendant le premier lot")

    monkeypatch.setattr(central_module, "_store_batch", dies)
    with pytest.raises(RuntimeError):
        upload(till, shop.central)
    assert count(shop.central, TillChain) == 0  # the shop does not wait for it yet
    monkeypatch.undo()
    upload(till, shop.central)
    [trace] = _uploads(shop.central)
    assert trace.from_seq == 1 and count(shop.central, TillChain) == 1
    with shop.central.reader() as session:
        first = session.get(TillRecord, (till.ledger_id, 1))
    assert first.record_type == "KEY"


def test_a_record_already_received_is_skipped_when_sent_again(shop: Shop) -> None:
    till = shop.tills["CAISSE-1"]
    sell(till)
    upload(till, shop.central)
    state = central_module._local_state(till)
    rows = central_module._local_batch(till, 0, state.head)
    signer = central_module._till_signer(till, state, "CAISSE-1")
    named = central_module._Till(till.ledger_id, "CAISSE-1", till.timezone)
    stored = central_module._store_batch(shop.central, named, rows, signer)
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
    with pytest.raises(ShopClosurePending, match="n'est pas terminée"):
        close_shop_day(shop.central, MONDAY, operator="Gérant")  # a till may sell after its Z
    shop.clock.set_local(MONDAY + timedelta(days=1), time(8, 0))
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
    shop.clock.set_local(MONDAY + timedelta(days=1), time(8, 0))
    with pytest.raises(ShopClosurePending, match="la caisse CAISSE-3"):
        close_shop_day(shop.central, MONDAY, operator="Gérant")
    with shop.tills["CAISSE-3"].transaction() as session:  # the till is started next morning
        log_event(session, EventCode.START, operator="système")
    upload(shop.tills["CAISSE-3"], shop.central)
    body = close_shop_day(shop.central, MONDAY, operator="Gérant").body
    assert [t["closure"] is None for t in body["tills"]] == [False, False, True]
    assert verify_central(shop.central_target).ok


def test_a_till_that_sells_after_its_z_is_summed_with_both_zs(shop: Shop) -> None:
    totals = _day_with_sales(shop, MONDAY)
    shop.clock.set_local(MONDAY, time(18, 0))
    for till in shop.tills.values():
        close_till_day(till, MONDAY)
        upload(till, shop.central)
    shop.clock.set_local(MONDAY, time(18, 30))
    late = sell(shop.tills["CAISSE-2"], ("Vin", 1150, 1, 2000))  # after its Z
    upload(shop.tills["CAISSE-2"], shop.central)
    shop.clock.set_local(MONDAY + timedelta(days=1), time(8, 0))
    with pytest.raises(ShopClosurePending, match="la caisse CAISSE-2"):
        close_shop_day(shop.central, MONDAY, operator="Gérant")  # its late sale is not closed
    second = close_till_day(shop.tills["CAISSE-2"], MONDAY)
    upload(shop.tills["CAISSE-2"], shop.central)
    body = close_shop_day(shop.central, MONDAY, operator="Gérant").body
    assert body["total"] == sum(totals.values()) + late.body["total"]
    listed = {t["till"]: t for t in body["tills"]}
    assert listed["CAISSE-2"]["closure"]["hash"] == second.hash  # its last Z of the day
    report = verify_central(shop.central_target)
    assert report.ok, report.findings


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
    shop.clock.set_local(tuesday + timedelta(days=1), time(8, 0))  # the day is over
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
    shop.clock.set_local(MONDAY + timedelta(days=1), time(8, 0))  # the day is over
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


def test_verify_finds_forged_upload_traces_and_names_the_till(shop: Shop) -> None:
    for till in shop.tills.values():
        sell(till)
        upload(till, shop.central)
    assert verify_central(shop.central_target).ok
    one, two, three = (shop.tills[name] for name in ("CAISSE-1", "CAISSE-2", "CAISSE-3"))
    traces = {t.ledger_id: t for t in _uploads(shop.central)}
    # CAISSE-1's trace re-signed by another till's key (whoever forges holds some key)
    forged = replace(UploadTrace.of(traces[one.ledger_id]), key_id=two.signer_key_id)
    signature = chain.sign_hash(two.signer, forged.digest())
    # CAISSE-3's trace signed by a stranger's key under CAISSE-3's key id
    stranger = ec.generate_private_key(ec.SECP256R1())
    with tampering(shop.central_target) as conn:
        conn.execute(
            "UPDATE till_upload SET key_id = ?, signature = ? WHERE id = ?",
            (forged.key_id, signature, traces[one.ledger_id].id),
        )
        conn.execute(
            "UPDATE till_upload SET signature = ? WHERE id = ?",
            (
                chain.sign_hash(stranger, UploadTrace.of(traces[three.ledger_id]).digest()),
                traces[three.ledger_id].id,
            ),
        )
    report = verify_central(shop.central_target)
    messages = [f.message for f in report.findings if f.rule == "upload"]
    assert not report.ok and len(messages) == len(report.findings) == 2, report.findings
    last = traces[one.ledger_id].to_seq
    assert messages[0] == (
        f"Caisse CAISSE-1 : l'envoi des enregistrements n°1 à n°{last} (du 02/03/2026 à "
        f"09:00:00) est signé par la clé {two.signer_key_id}, qui n'est pas la clé de la caisse "
        f"en vigueur au n°{last} ({one.signer_key_id}) : il n'a pas été fait par elle."
    )
    assert messages[1].startswith("Caisse CAISSE-3 : l'envoi des enregistrements n°1 à n°")
    assert "porte une signature invalide" in messages[1]
    assert verify_central(shop.central_target, till="CAISSE-2").ok


def test_verify_finds_uploads_that_overlap_or_leave_a_gap(shop: Shop) -> None:
    till = shop.tills["CAISSE-1"]
    for _ in range(3):
        sell(till)
        upload(till, shop.central)  # three traces: up to the first ticket, then one each
    second = _uploads(shop.central)[1]
    n = second.to_seq
    assert second.from_seq == n
    # a trace signed by the till itself, but claiming records another trace covers
    twice = replace(UploadTrace.of(second), uploaded_at="2026-03-02T09:30:00.000000Z")
    with tampering(shop.central_target) as conn:
        conn.execute(
            "INSERT INTO till_upload (ledger_id, from_seq, to_seq, records, last_hash, "
            "uploaded_at, key_id, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (*astuple(twice), chain.sign_hash(till.signer, twice.digest())),
        )
    messages = [f.message for f in verify_central(shop.central_target).findings]
    assert messages == [
        f"Caisse CAISSE-1 : l'envoi des enregistrements n°{n} à n°{n} (du 02/03/2026 à "
        f"10:30:00) chevauche un envoi précédent (déjà couvert jusqu'au n°{n})."
    ]
    with tampering(shop.central_target) as conn:
        conn.execute("DELETE FROM till_upload WHERE to_seq = ?", (n,))
    messages = [f.message for f in verify_central(shop.central_target).findings]
    assert messages == [
        f"Caisse CAISSE-1 : l'envoi des enregistrements n°{n + 1} à n°{n + 1} (du 02/03/2026 "
        f"à 09:00:00) laisse un trou : aucun envoi ne couvre les n°{n} à n°{n}."
    ]


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
    shop.clock.set_local(MONDAY + timedelta(days=1), time(8, 0))  # the day is over
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
