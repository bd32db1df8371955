"""Date certaine: closures time-stamped by an RFC 3161 authority (tests/tsa.py on
127.0.0.1), queued while it is down, and every token checked offline by verify."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.ledger import closing
from app.ledger.closures import close_day
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType
from app.ledger.store import Ledger
from app.ledger.timestamps import queue
from app.ledger.timestamps.token import TokenInvalid, check_response, make_request
from app.ledger.verify.engine import verify_ledger
from app.timestamping.service import stamp_pending, try_authority
from tests.helpers import ring
from tests.tsa import reply


def choose(ledger: Ledger, url: str) -> None:
    with ledger.transaction() as session:
        queue.set_tsa_url(session, url, operator="Gérant")


def close(ledger: Ledger, clock) -> int:
    ring(ledger)
    with ledger.transaction() as session:
        recorded = close_day(session, clock.today, operator="Gérant")
    clock.advance(days=1)
    return recorded.seq


def rules(ledger: Ledger) -> list[str]:
    return [finding.rule for finding in verify_ledger(ledger.target).findings]


def test_a_closure_is_stamped_after_it_is_recorded(ledger, clock, local_tsa) -> None:
    choose(ledger, local_tsa.url)
    ring(ledger)
    closed = closing.close_and_follow_up(
        ledger, RecordType.DAY_CLOSURE, clock.today, operator="Gérant", stamp=stamp_pending
    )
    assert closed.follow_up.warning is None
    assert closed.follow_up.stamps is not None and len(closed.follow_up.stamps.stamped) == 1
    assert "1 horodatage obtenu" in closed.follow_up.stamp_notice
    with ledger.reader() as session:
        row = queue.token_of(session, closed.recorded.seq)
        record = session.get(JournalRecord, closed.recorded.seq)
        assert row is not None and row.digest == record.hash
        assert queue.pending(session) == []
    stamp = check_response(row.response, record.hash)
    assert stamp.tsa == "CN=Comptoir Test TSA" and stamp.certificates == 2
    report = verify_ledger(ledger.target)
    assert report.ok, report.findings
    assert any("1 horodatage RFC 3161 vérifié" in notice for notice in report.notices)


def test_an_authority_down_queues_the_stamp_and_a_later_round_gets_it(
    ledger, clock, local_tsa, closed_port
) -> None:
    choose(ledger, closed_port)
    ring(ledger)
    closed = closing.close_and_follow_up(
        ledger, RecordType.DAY_CLOSURE, clock.today, operator="Gérant", stamp=stamp_pending
    )
    # The closure stands, says nothing went wrong with it, and its stamp waits.
    assert closed.follow_up.warning is None
    assert "Horodatage en attente" in closed.follow_up.stamp_notice
    assert closed.follow_up.stamps.pending == 1
    # Waiting for an authority that does not answer is a remark, not a finding.
    report = verify_ledger(ledger.target)
    assert report.ok
    assert any(notice.startswith("En attente d'horodatage (1)") for notice in report.notices)
    clock.advance(days=1)
    second = close(ledger, clock)
    with ledger.reader() as session:
        assert [t.seq for t in queue.pending(session)] == [closed.recorded.seq, second]
    choose(ledger, local_tsa.url)
    outcome = stamp_pending(ledger)
    assert outcome.error is None and outcome.pending == 0
    assert [t.seq for t in outcome.stamped] == [closed.recorded.seq, second]
    assert verify_ledger(ledger.target).ok


def test_an_authority_that_fails_leaves_the_stamp_queued(ledger, clock, local_tsa) -> None:
    choose(ledger, local_tsa.url)
    local_tsa.mode = "http500"
    close(ledger, clock)
    outcome = stamp_pending(ledger)
    assert outcome.pending == 1 and "erreur HTTP 500" in outcome.error
    local_tsa.mode = "ok"
    assert stamp_pending(ledger).pending == 0


def test_a_token_for_another_hash_is_refused_and_never_kept(ledger, clock, local_tsa) -> None:
    choose(ledger, local_tsa.url)
    close(ledger, clock)
    local_tsa.mode = "other_digest"
    outcome = stamp_pending(ledger)
    assert outcome.pending == 1 and "autre empreinte" in outcome.error
    with ledger.reader() as session:
        assert queue.stamped_count(session) == 0


def _forge(ledger: Ledger, seq: int, response: bytes, digest: str) -> None:
    with ledger.transaction() as session:
        session.add(
            queue.TimeStamp(
                seq=seq,
                digest=digest,
                response=response,
                gen_time="2026-01-01T00:00:00.000000Z",
                tsa_url="http://forger",
                stored_at="2026-01-01T00:00:00.000000Z",
            )
        )


def _hash_of(ledger: Ledger, seq: int) -> str:
    with ledger.reader() as session:
        return session.get(JournalRecord, seq).hash


def test_verify_names_a_tampered_token(ledger, clock, local_tsa) -> None:
    first = close(ledger, clock)
    digest = _hash_of(ledger, first)
    answer = bytearray(reply(local_tsa.config, make_request(digest).der))
    answer[-10] ^= 0x01  # inside the signature
    _forge(ledger, first, bytes(answer), digest)
    findings = verify_ledger(ledger.target).findings
    assert [f.rule for f in findings] == ["tsa_invalid"]
    assert findings[0].seq == first and "horodatage" in findings[0].message


def test_verify_names_a_token_of_another_record(ledger, clock, local_tsa) -> None:
    first, second = close(ledger, clock), close(ledger, clock)
    other = reply(local_tsa.config, make_request(_hash_of(ledger, first)).der)
    _forge(ledger, second, other, _hash_of(ledger, second))
    findings = verify_ledger(ledger.target).findings
    assert [f.rule for f in findings] == ["tsa_invalid"]
    assert "autre empreinte" in findings[0].message


def test_verify_names_a_token_dated_before_the_records_it_covers(ledger, clock, local_tsa) -> None:
    # The closure is recorded a year ahead of the authority's clock: its token cannot be it.
    clock.advance(days=800)
    choose(ledger, local_tsa.url)
    close(ledger, clock)
    assert stamp_pending(ledger).pending == 0
    findings = verify_ledger(ledger.target).findings
    assert [f.rule for f in findings] == ["tsa_early"]
    assert "avant les enregistrements qu'il couvre" in findings[0].message


def test_tokens_are_due_from_the_choice_of_an_authority(ledger, clock, local_tsa) -> None:
    close(ledger, clock)  # no authority: nothing due
    assert rules(ledger) == []
    clock.advance(days=8)
    choose(ledger, local_tsa.url)  # chosen since: that closure is due too, and overdue
    assert rules(ledger) == ["tsa_missing"]
    stamp_pending(ledger)
    choose(ledger, "")
    close(ledger, clock)  # no authority any more: not due
    assert rules(ledger) == []


def test_a_token_missing_before_a_stamped_one_was_removed(ledger, clock, local_tsa) -> None:
    choose(ledger, local_tsa.url)
    first, second = close(ledger, clock), close(ledger, clock)
    # The queue is stamped oldest first: only a removal leaves the first without its token.
    with ledger.reader() as session:
        target = next(t for t in queue.pending(session) if t.seq == second)
    answer = reply(local_tsa.config, make_request(target.digest).der)
    with ledger.transaction() as session:
        queue.store_token(session, target, answer, local_tsa.url)
    findings = verify_ledger(ledger.target).findings
    assert [(f.seq, f.rule) for f in findings] == [(first, "tsa_missing")]
    assert "il a été supprimé" in findings[0].message


def test_a_stamp_waiting_too_long_is_a_finding(ledger, clock, closed_port) -> None:
    choose(ledger, closed_port)
    close(ledger, clock)
    clock.advance(days=8)
    ring(ledger)  # the shop trades on, the authority still away
    assert rules(ledger) == ["tsa_missing"]


def test_the_token_table_is_append_only(ledger, clock, local_tsa) -> None:
    choose(ledger, local_tsa.url)
    close(ledger, clock)
    stamp_pending(ledger)
    with pytest.raises(Exception, match="ajout seul"), ledger.transaction() as session:
        row = session.scalars(select(queue.TimeStamp)).one()
        row.tsa_url = "http://elsewhere"


def test_trying_an_authority(local_tsa, closed_port) -> None:
    stamp = try_authority(local_tsa.url)
    assert stamp.tsa == "CN=Comptoir Test TSA"
    with pytest.raises(Exception, match="ne répond pas"):
        try_authority(closed_port, timeout=1)


def test_a_bad_address_is_refused_in_french(ledger) -> None:
    with pytest.raises(Exception, match="commence par http"), ledger.transaction() as session:
        queue.set_tsa_url(session, "ftp://x", operator="Gérant")


def test_the_token_check_refuses_a_garbled_answer() -> None:
    with pytest.raises(TokenInvalid, match="illisible"):
        check_response(b"\x30\x03\x02\x01\x00", "00" * 32)


def test_the_choice_of_an_authority_is_journaled(ledger, local_tsa) -> None:
    choose(ledger, local_tsa.url)
    with ledger.reader() as session:
        last = session.scalars(select(JournalRecord).order_by(JournalRecord.seq.desc())).first()
    assert last.record_type == RecordType.EVENT and b"TSA_SET" in last.canonical
