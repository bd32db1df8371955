"""Purge of an archived fiscal year: what goes, what stays, what verification still sees."""

from __future__ import annotations

import hashlib
import zipfile
from contextlib import closing
from datetime import date, time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.errors import InvalidInput
from app.ledger import canonical
from app.ledger.archive.check import verify_archive
from app.ledger.archive.folder import ArchiveError
from app.ledger.archive.format import MANIFEST, TICKETS_CSV
from app.ledger.archive.purge import (
    PurgeRefused,
    plan_purge,
    purge_period,
    retention_years,
)
from app.ledger.archive.write import create_archive
from app.ledger.closures import list_closures
from app.ledger.events import EventCode, log_event
from app.ledger.models import JournalPayment, JournalRecord, JournalVat, PurgeAuthorisation
from app.ledger.preferences import set_preference
from app.ledger.purged import read_purges
from app.ledger.records import CLOSURE_TYPES, RecordType
from app.ledger.reprints import record_duplicate
from app.ledger.store import Ledger
from app.ledger.verify.engine import verify_ledger
from tests.conftest import FakeClock
from tests.helpers import ring
from tests.ledger.old_shop import OPERATOR, OldShop, build_old_shop, old_clock
from tests.pg import RawDb, tampering


@pytest.fixture
def clock() -> FakeClock:
    """The ``ledger`` fixture opens the ledger on this clock: late 2018."""
    return old_clock()


@pytest.fixture
def shop(ledger: Ledger, clock: FakeClock, tmp_path: Path) -> OldShop:
    return build_old_shop(ledger, clock, tmp_path / "archives")


def _seqs(ledger: Ledger) -> list[int]:
    with ledger.reader() as session:
        return list(session.scalars(select(JournalRecord.seq).order_by(JournalRecord.seq)))


def _present(ledger: Ledger, seq: int) -> bool:
    with ledger.reader() as session:
        return session.get(JournalRecord, seq) is not None


def _last_event(ledger: Ledger) -> dict:
    with ledger.reader() as session:
        data = session.scalar(
            select(JournalRecord.canonical)
            .where(JournalRecord.record_type == RecordType.EVENT)
            .order_by(JournalRecord.seq.desc())
            .limit(1)
        )
    return canonical.decode(data)["body"]


def _closures(ledger: Ledger) -> list[tuple[str, str, int, int]]:
    with ledger.reader() as session:
        return [
            (c.record_type.value, c.period, c.seq, c.body["perpetual_total"])
            for kind in CLOSURE_TYPES
            for c in list_closures(session, kind)
        ]


def _refused(ledger: Ledger, year: str, archive: Path, expected: str) -> None:
    before = _seqs(ledger)
    with pytest.raises(PurgeRefused) as refused:
        purge_period(ledger, year, operator=OPERATOR, archive_path=archive)
    assert expected in refused.value.message
    assert _seqs(ledger) == before


# -- the purge ------------------------------------------------------------------------------
def test_purge_removes_the_year_and_keeps_closures_and_totals(ledger: Ledger, shop: OldShop):
    closures = _closures(ledger)
    assert len(closures) == 7  # 3 days, 2 months, 2 years
    plan = plan_purge(ledger, "2018", archive_path=shop.archive_2018)
    assert plan.records == 6
    assert plan.counts == {"TICKET": 4, "REPRINT": 1, "EVENT": 1}
    assert "6 enregistrements seront supprimés" in plan.describe()
    assert _seqs(ledger) == list(range(1, _seqs(ledger)[-1] + 1))  # planning deletes nothing

    result = purge_period(ledger, "2018", operator=OPERATOR, archive_path=shop.archive_2018)

    gone = [r.seq for r in shop.purged_sales] + [shop.reprint.seq]
    assert not any(_present(ledger, seq) for seq in gone)
    assert _present(ledger, shop.kept_sale.seq)  # refunded in 2019: stays with its refund
    assert _present(ledger, shop.refund_2019.seq)
    assert _closures(ledger) == closures  # every closure and its perpetual total
    with ledger.reader() as session:
        types = set(session.scalars(select(JournalRecord.record_type).distinct()))
        copies = session.scalar(
            select(func.count()).select_from(JournalVat).where(JournalVat.seq.in_(gone))
        ) + session.scalar(
            select(func.count()).select_from(JournalPayment).where(JournalPayment.seq.in_(gone))
        )
        authorisations = session.scalar(select(func.count()).select_from(PurgeAuthorisation))
    assert {"KEY", "SETTINGS", "ARCHIVE"} <= types
    assert copies == 0 and authorisations == 0

    event = _last_event(ledger)
    assert event["code"] == "PURGE" and result.recorded.body == event
    detail = event["detail"]
    assert detail["year"] == "2018"
    assert detail["archive"]["file"] == shop.archive_2018.name
    with zipfile.ZipFile(shop.archive_2018) as archive:
        digest = hashlib.sha256(archive.read(MANIFEST)).hexdigest()
    assert detail["archive"]["manifest_sha256"] == digest
    deleted = {s for lo, hi in detail["deleted"] for s in range(lo, hi + 1)}
    assert deleted == {*gone, 2}  # 2: the LEDGER_CREATED event of 2018
    assert detail["records"] == 6
    assert detail["last_numbers"] == {"EVENT": 1, "REPRINT": 1, "TICKET": 5}
    assert detail["numbers"]["TICKET"] == [[2, 5]]
    for seq, link in detail["bridges"]:
        with ledger.reader() as session:
            row = session.get(JournalRecord, seq)
            assert row is not None and row.hash == link
            assert (
                session.scalar(select(JournalRecord.seq).where(JournalRecord.hash == row.prev_hash))
                is None
            )

    report = verify_ledger(ledger.target)
    assert report.ok, report.findings
    assert "2 clôtures vérifiées par leur archive" in "\n".join(report.notices)
    assert any(n.startswith("Exercice 2018 purgé") for n in report.notices)
    assert report.closures == 7
    small = verify_ledger(ledger.target, chunk_size=2, workers=1)  # gaps across chunks
    assert small.ok, small.findings
    assert verify_archive(shop.archive_2018).ok  # the archive still holds it all


def test_numbering_goes_on_after_the_purged_numbers(ledger: Ledger, shop: OldShop) -> None:
    purge_period(ledger, "2018", operator=OPERATOR, archive_path=shop.archive_2018)
    # The only duplicate ever made was purged: the next one must not be n°1 again.
    with ledger.transaction() as session:
        copy = record_duplicate(session, RecordType.TICKET, shop.sale_2019.number, operator="x")
    assert copy.number == 2
    sale = ring(ledger)
    assert sale.number == shop.refund_2019.number + 1
    assert verify_ledger(ledger.target).ok


def test_a_number_given_again_after_a_purge_is_found(ledger: Ledger, shop: OldShop) -> None:
    """Without its floor (a hand-edited database), numbering would start again at n°1:
    verification knows n°1 belonged to a purged duplicate."""
    purge_period(ledger, "2018", operator=OPERATOR, archive_path=shop.archive_2018)
    with closing(RawDb(ledger.target)) as conn:
        conn.execute("DELETE FROM purged_number")
        conn.commit()
    with ledger.transaction() as session:
        copy = record_duplicate(session, RecordType.TICKET, shop.sale_2019.number, operator="x")
    assert copy.number == 1
    report = verify_ledger(ledger.target)
    assert [f.seq for f in report.findings if f.rule == "numbering"] == [copy.seq]
    assert "avait déjà été attribué à un document purgé" in report.summary()


def test_archive_of_a_purged_year_is_not_written_again(
    ledger: Ledger, shop: OldShop, tmp_path: Path
) -> None:
    purge_period(ledger, "2018", operator=OPERATOR, archive_path=shop.archive_2018)
    with pytest.raises(ArchiveError, match="ne sont plus dans le journal"):
        create_archive(ledger, "2018", operator=OPERATOR, out_dir=tmp_path / "again")
    assert not list((tmp_path / "again").glob("*.zip"))


def test_fec_of_a_purged_year_is_refused(ledger: Ledger, shop: OldShop) -> None:
    from app.errors import ComptoirError
    from app.ledger.export.fec import build_fec

    with ledger.reader() as session:
        assert build_fec(session, 2018)  # before the purge, every entry is online
    purge_period(ledger, "2018", operator=OPERATOR, archive_path=shop.archive_2018)
    with ledger.reader() as session, pytest.raises(ComptoirError, match="a été purgé"):
        build_fec(session, 2018)


def test_failed_purge_deletes_nothing(
    ledger: Ledger, shop: OldShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _seqs(ledger)

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("app.ledger.archive.purge.log_event", broken)
    with pytest.raises(RuntimeError):
        purge_period(ledger, "2018", operator=OPERATOR, archive_path=shop.archive_2018)
    assert _seqs(ledger) == before
    with ledger.reader() as session:
        assert session.scalar(select(func.count()).select_from(PurgeAuthorisation)) == 0
    assert verify_ledger(ledger.target).ok


def test_invoices_stay_ten_years_after_the_cash_data_goes(
    ledger: Ledger, clock: FakeClock, tmp_path: Path
) -> None:
    shop = build_old_shop(ledger, clock, tmp_path / "archives", with_invoice=True)
    assert shop.invoice is not None
    plan = plan_purge(ledger, "2018", archive_path=shop.archive_2018)
    assert "INVOICE" not in plan.counts and plan.counts["TICKET"] == 4
    purge_period(ledger, "2018", operator=OPERATOR, archive_path=shop.archive_2018)
    assert _present(ledger, shop.invoice.seq)  # 2026: the invoice's ten years run to 2028
    assert not any(_present(ledger, r.seq) for r in shop.purged_sales)
    report = verify_ledger(ledger.target)
    assert report.ok, report.findings


def test_invoices_go_once_their_ten_years_are_over(
    ledger: Ledger, clock: FakeClock, tmp_path: Path
) -> None:
    shop = build_old_shop(ledger, clock, tmp_path / "archives", with_invoice=True)
    assert shop.invoice is not None
    clock.set_local(date(2029, 1, 8), time(9))
    plan = plan_purge(ledger, "2018", archive_path=shop.archive_2018)
    assert plan.counts["INVOICE"] == 1


# -- refusals -------------------------------------------------------------------------------
def test_refused_when_too_recent(ledger: Ledger, shop: OldShop) -> None:
    assert shop.archive_2019 is not None
    with ledger.transaction() as session:
        set_preference(session, "retention_years", "7")
    _refused(ledger, "2019", shop.archive_2019, "conservé jusqu'au 31/12/2026")
    _refused(ledger, "2020", shop.archive_2019, "durée de conservation : 7 ans")
    with ledger.transaction() as session:
        assert retention_years(session) == 7
        set_preference(session, "retention_years", "3")  # never below six years
        assert retention_years(session) == 6
        set_preference(session, "retention_years", "beaucoup")
        assert retention_years(session) == 6
    _refused(ledger, "2020", shop.archive_2019, "durée de conservation : 6 ans")


def test_refused_when_not_closed_or_not_archived(
    ledger: Ledger, clock: FakeClock, tmp_path: Path
) -> None:
    shop = build_old_shop(ledger, clock, tmp_path / "archives", archive_2019=False)
    _refused(ledger, "2017", shop.archive_2018, "L'exercice 2017 n'est pas clôturé")
    _refused(ledger, "2019", shop.archive_2018, "Aucune archive de l'exercice 2019")
    with pytest.raises(InvalidInput, match="AAAA"):
        purge_period(ledger, "18", operator=OPERATOR, archive_path=shop.archive_2018)


def test_refused_with_the_wrong_or_a_tampered_archive(
    ledger: Ledger, shop: OldShop, tmp_path: Path
) -> None:
    assert shop.archive_2019 is not None
    _refused(ledger, "2018", shop.archive_2019, "n'est pas une archive de l'exercice 2018")

    # A readable file changed: the manifest is the recorded one, the archive no longer verifies.
    edited = tmp_path / "edited.zip"
    _copy_zip(shop.archive_2018, edited, TICKETS_CSV, lambda data: data.replace(b"14,", b"15,"))
    _refused(ledger, "2018", edited, "ne se vérifie pas")

    # The manifest changed (re-signed by someone else): not the archive the ledger recorded.
    resigned = tmp_path / "resigned.zip"
    _copy_zip(
        shop.archive_2018, resigned, MANIFEST, lambda data: data.replace(b'"label"', b'"Label"')
    )
    _refused(ledger, "2018", resigned, "ne correspond à aucune des archives")

    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("rien")
    _refused(ledger, "2018", not_zip, "n'est pas une archive Comptoir lisible")


def test_refused_twice(ledger: Ledger, shop: OldShop) -> None:
    purge_period(ledger, "2018", operator=OPERATOR, archive_path=shop.archive_2018)
    _refused(ledger, "2018", shop.archive_2018, "L'exercice 2018 a déjà été purgé le 05/01/2026")


def _copy_zip(source: Path, target: Path, member: str, change) -> None:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            data = old.read(name)
            new.writestr(name, change(data) if name == member else data)


# -- what verification still finds ----------------------------------------------------------
def _delete(target: Path | str, seq: int) -> None:
    with tampering(target) as conn:
        for table in ("journal_vat", "journal_payment", "journal"):
            conn.execute(f"DELETE FROM {table} WHERE seq = ?", (seq,))


@pytest.mark.parametrize("which", ["day_closure", "kept_sale", "sale_2019", "bridge", "purge"])
def test_other_deletions_are_still_found(ledger: Ledger, shop: OldShop, which: str) -> None:
    result = purge_period(ledger, "2018", operator=OPERATOR, archive_path=shop.archive_2018)
    with ledger.reader() as session:
        first_day = list_closures(session, RecordType.DAY_CLOSURE)[0].seq
    seq = {
        "day_closure": first_day,  # a closure kept in the purged range
        "kept_sale": shop.kept_sale.seq,  # a record kept in the purged range
        "sale_2019": shop.sale_2019.seq,  # outside every purged range
        "bridge": result.plan.bridges[-1][0],  # a kept record right after a purged one
        "purge": result.recorded.seq,  # the purge event itself: the gaps are unexplained
    }[which]
    _delete(ledger.target, seq)
    report = verify_ledger(ledger.target)
    assert not report.ok
    rules = {f.rule for f in report.findings}
    assert rules & {"sequence", "chain"}, report.findings
    if which != "purge":  # reported at the next record still there
        following = min(s for s in _seqs(ledger) if s > seq)
        assert any(
            f.seq == following and f.rule in ("sequence", "chain") for f in report.findings
        ), report.findings


def test_a_forged_gap_next_to_a_purged_range_is_found(ledger: Ledger, shop: OldShop) -> None:
    """Deleting the record right before a purged range widens the gap: not covered."""
    result = purge_period(ledger, "2018", operator=OPERATOR, archive_path=shop.archive_2018)
    lo, _hi = result.plan.deleted[1]
    assert _present(ledger, lo - 1)
    _delete(ledger.target, lo - 1)
    report = verify_ledger(ledger.target)
    assert any(f.rule == "sequence" for f in report.findings), report.findings


def test_a_bare_authorisation_lets_nothing_be_deleted(ledger: Ledger, shop: OldShop) -> None:
    """Without its PURGE record, newest of the chain, an authorisation cannot be written."""
    with ledger.reader() as session:
        day = list_closures(session, RecordType.DAY_CLOSURE)[0].seq
        head = session.scalar(select(func.max(JournalRecord.seq)))
    sale = shop.purged_sales[3].seq
    with closing(RawDb(ledger.target)) as conn:
        with pytest.raises(conn.Error, match="ajout seul"):
            conn.execute("DELETE FROM journal WHERE seq = ?", (sale,))
        conn.rollback()
        for sql, params in (
            ("INSERT INTO purge_authorisation (id, year, first_seq, last_seq) "
             "VALUES (1, ?, 1, ?)", ("2018", day + 20)),
            ("INSERT INTO purge_authorisation (id, year, first_seq, last_seq, purge_seq) "
             "VALUES (1, ?, 1, ?, ?)", ("2018", day + 20, head)),
        ):  # fmt: skip
            with pytest.raises(conn.Error, match="enregistrement PURGE"):
                conn.execute(sql, params)
            conn.rollback()
            with pytest.raises(conn.Error, match="ajout seul"):
                conn.execute("DELETE FROM journal WHERE seq = ?", (sale,))
            conn.rollback()
    assert _present(ledger, sale)
    assert verify_ledger(ledger.target).ok


class _Undo(Exception):
    """Rolls the test's transaction back."""


def test_guards_let_through_only_what_a_purge_authorises(ledger: Ledger, shop: OldShop) -> None:
    with ledger.reader() as session:
        day = list_closures(session, RecordType.DAY_CLOSURE)[0].seq
        head = session.scalar(select(func.max(JournalRecord.seq)))
    sale = shop.purged_sales[3].seq  # referred to by no other record
    assert sale < head
    authorise = text(
        "INSERT INTO purge_authorisation (id, year, first_seq, last_seq, purge_seq) "
        "VALUES (1, '2018', 1, :last, :purge)"
    )
    delete = "DELETE FROM {} WHERE seq = :seq"
    with pytest.raises(_Undo), ledger.transaction() as session:
        purge = log_event(session, EventCode.PURGE, operator=OPERATOR, year="2018",
                          first_seq=1, last_seq=head)  # fmt: skip
        conn = session.connection()
        conn.execute(authorise, {"last": head, "purge": purge.seq})
        for forbidden in (day, shop.sale_2019.seq, 1):  # a closure, another year, the key
            savepoint = conn.begin_nested()
            with pytest.raises(DBAPIError, match="ajout seul"):
                conn.execute(text(delete.format("journal")), {"seq": forbidden})
            savepoint.rollback()
        for table in ("journal_vat", "journal_payment", "journal"):
            conn.execute(text(delete.format(table)), {"seq": sale})
        savepoint = conn.begin_nested()
        with pytest.raises(DBAPIError, match="ajout seul"):
            conn.execute(text("UPDATE journal SET operator = 'x' WHERE seq = :seq"),
                         {"seq": sale + 1})  # fmt: skip
        savepoint.rollback()
        savepoint = conn.begin_nested()
        with pytest.raises(DBAPIError, match="enregistrement PURGE"):
            conn.execute(text("UPDATE purge_authorisation SET last_seq = last_seq + 1000"))
        savepoint.rollback()
        raise _Undo
    assert _present(ledger, sale)
    assert verify_ledger(ledger.target).ok


@pytest.mark.sqlite_only("worker processes receive the purge map; the database does not matter")
def test_verification_in_worker_processes(ledger: Ledger, shop: OldShop) -> None:
    purge_period(ledger, "2018", operator=OPERATOR, archive_path=shop.archive_2018)
    report = verify_ledger(ledger.target, chunk_size=4, workers=2)
    assert report.ok, report.findings
    assert "2 clôtures vérifiées par leur archive" in "\n".join(report.notices)


# -- reading PURGE events -------------------------------------------------------------------
def _event(seq: int, detail: dict) -> tuple[int, bytes]:
    body = {"code": "PURGE", "detail": detail}
    return seq, canonical.encode({"type": "EVENT", "body": body, "seq": seq})


def test_read_purges_merges_events_and_ignores_what_follows_them() -> None:
    base = {"year": "2018", "records": 3, "archive": {"file": "a.zip"}, "numbers": {}}
    purged = read_purges(
        [
            _event(50, {**base, "deleted": [[2, 4], [60, 70]], "bridges": [[5, "aa"], [71, "bb"]]}),
            _event(
                80,
                {
                    **base,
                    "deleted": [[5, 9]],
                    "bridges": [[10, "cc"]],
                    "numbers": {"TICKET": [[1, 3]]},
                },
            ),
            (90, b"not json"),
        ]
    )
    assert purged.covers(2, 9) and not purged.covers(2, 10)
    assert not purged.intersects(60, 70)  # listed by an event older than the range
    assert purged.bridged(1, 10, "cc") and not purged.bridged(1, 10, "dd")
    assert not purged.bridged(1, 11, "cc")
    assert purged.numbers_cover("TICKET", 2, 3) and not purged.numbers_cover("INVOICE", 1, 1)
    assert purged.number_purged("TICKET", 1) and not purged.number_purged("TICKET", 4)
    assert [n.seq for n in purged.notes] == [50, 80]
    assert not read_purges([])
