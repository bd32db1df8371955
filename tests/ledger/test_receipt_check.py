"""A document's verification code checked against a ledger (and an archive loaded as one):
confirmed, altered, absent, another ledger's, or outside what the archive covers."""

from __future__ import annotations

import uuid
from datetime import date, time
from pathlib import Path

import pytest

from app.errors import InvalidInput
from app.ledger import canonical
from app.ledger.archive.reopen import load_archive_as_ledger
from app.ledger.archive.write import create_archive
from app.ledger.closures import close_day, close_pending
from app.ledger.journal import Recorded, signature_excerpt
from app.ledger.store import Ledger
from app.ledger.verify.receipt import (
    ReceiptCode,
    Verdict,
    check_code,
    check_receipt,
    parse_check_code,
)
from tests.conftest import FakeClock
from tests.helpers import ring
from tests.pg import tampering

LEDGER_ID = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
HASH = "ab" * 32


def _code(ledger: Ledger, sale: Recorded) -> str:
    return check_code(ledger.ledger_id, sale.seq, sale.hash, sale.signature)


def test_the_code_is_short_plain_and_names_the_record() -> None:
    signature = bytes(range(70))
    code = check_code(LEDGER_ID, 1234, HASH, signature)
    version, ledger, seq, digest, sig = code.split("-")
    assert (version, seq) == ("C1", "1234")
    assert (len(ledger), len(digest), len(sig)) == (8, 16, 8)
    # QR "alphanumeric" characters only, so that the QR code stays small.
    assert set(code) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567890-1")
    # The signature part is the start of the excerpt printed above it on the receipt.
    assert signature_excerpt(signature).startswith(sig)
    assert parse_check_code(code) == ReceiptCode(ledger, 1234, digest, sig)


def test_a_code_typed_by_hand_is_read_leniently() -> None:
    code = check_code(LEDGER_ID, 42, HASH, bytes(range(70)))
    expected = parse_check_code(code)
    typed = " ".join(code.lower().replace("-", " ").replace("o", "0").split())
    assert parse_check_code(typed) == expected
    assert parse_check_code(code.replace("-", "")) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "commence par « C1- »"),
        ("X1-AAAAAAAA-3-AAAAAAAAAAAAAAAA-AAAAAAAA", "commence par « C1- »"),
        ("C1-AAAAAAAA-AAAAAAAAAAAAAAAA-AAAAAAAA", "commence par « C1- »"),
        ("C1-AAAAAAAA-0-AAAAAAAAAAAAAAAA-AAAAAAAA", "numéro d'enregistrement"),
        ("C1-AAAAAAAA-3X-AAAAAAAAAAAAAAAA-AAAAAAAA", "numéro d'enregistrement"),
        (f"C1-AAAAAAAA-{2**63}-AAAAAAAAAAAAAAAA-AAAAAAAA", "numéro d'enregistrement"),
        ("C1-AAAAAAAA-3-AAAAAAAAAAAAAAA9-AAAAAAAA", "caractères inattendus"),
    ],
)
def test_an_unreadable_code_is_refused_in_french(text: str, says: str) -> None:
    with pytest.raises(InvalidInput, match="Code de vérification illisible") as refused:
        parse_check_code(text)
    assert says in refused.value.message


def test_an_untouched_ledger_confirms_the_record(ledger: Ledger) -> None:
    sale = ring(ledger, ("Vin", 1150, 1, 2000))
    ring(ledger)
    result = check_receipt(str(ledger.target), _code(ledger, sale))
    assert result.verdict is Verdict.CONFIRMED and result.ok
    assert result.message.startswith("CONFORME")
    assert result.document == f"Ticket T000001 du {sale.business_date:%d/%m/%Y}, 11,50 €"


def test_a_changed_record_is_reported_altered(ledger: Ledger) -> None:
    sale = ring(ledger, ("Vin", 1150, 1, 2000))
    code = _code(ledger, sale)
    ledger.close()
    with tampering(ledger.target) as conn:
        row = conn.execute("SELECT canonical FROM journal WHERE seq = ?", (sale.seq,)).fetchone()
        envelope = canonical.decode(bytes(row[0]))
        envelope["body"]["total"] = 150
        forged = canonical.encode(envelope)
        conn.execute("UPDATE journal SET canonical = ? WHERE seq = ?", (forged, sale.seq))
    result = check_receipt(str(ledger.target), code)
    assert result.verdict is Verdict.ALTERED and not result.ok
    assert "son contenu ne correspond plus à son empreinte" in result.message
    assert result.message.startswith(f"MODIFIÉ — l'enregistrement n°{sale.seq} ")


def test_another_record_at_that_number_is_reported_altered(ledger: Ledger) -> None:
    sale = ring(ledger)
    other = ring(ledger)
    stolen = check_code(ledger.ledger_id, sale.seq, other.hash, other.signature)
    result = check_receipt(str(ledger.target), stolen)
    assert result.verdict is Verdict.ALTERED
    assert "son empreinte n'est pas celle du document" in result.message
    resigned = check_code(ledger.ledger_id, sale.seq, sale.hash, other.signature)
    result = check_receipt(str(ledger.target), resigned)
    assert result.verdict is Verdict.ALTERED
    assert "sa signature n'est pas celle du document" in result.message


def test_a_number_past_the_end_is_reported_absent(ledger: Ledger) -> None:
    sale = ring(ledger)
    code = check_code(ledger.ledger_id, sale.seq + 5, sale.hash, sale.signature)
    result = check_receipt(str(ledger.target), code)
    assert result.verdict is Verdict.ABSENT
    assert f"le journal s'arrête au n°{sale.seq}" in result.message


def test_another_ledgers_code_is_named_so(ledger: Ledger) -> None:
    sale = ring(ledger)
    code = check_code(str(uuid.uuid4()), sale.seq, sale.hash, sale.signature)
    result = check_receipt(str(ledger.target), code)
    assert result.verdict is Verdict.OTHER_LEDGER
    assert result.message.startswith("Ce document ne vient pas de ce journal")


@pytest.mark.sqlite_only("an archive is opened as a SQLite file")
def test_an_archive_checks_the_codes_of_its_period(ledger: Ledger, clock: FakeClock) -> None:
    clock.set_local(date(2026, 3, 2), time(9))
    archived = ring(ledger)
    clock.set_local(date(2026, 3, 2), time(19))
    with ledger.transaction() as session:
        close_day(session, date(2026, 3, 2), operator="Gérant")
    clock.set_local(date(2026, 4, 1), time(8))
    with ledger.transaction() as session:
        close_pending(session, operator="Gérant")
    later = ring(ledger)
    out = Path(str(ledger.target)).parent / "archives"
    archive = create_archive(ledger, "2026-03", operator="Gérant", out_dir=out).path
    loaded = str(load_archive_as_ledger(archive, out / "loaded.sqlite"))
    found = check_receipt(loaded, _code(ledger, archived), archive=True)
    assert found.verdict is Verdict.CONFIRMED
    outside = check_receipt(loaded, _code(ledger, later), archive=True)
    assert outside.verdict is Verdict.OUTSIDE
    assert "n'est pas dans cette archive, qui couvre les n°1 à " in outside.message
    # A live ledger whose first records were purged (archived) sends the auditor there.
    with tampering(ledger.target) as conn:
        conn.execute("DELETE FROM journal_vat WHERE seq = 1")
        conn.execute("DELETE FROM journal_payment WHERE seq = 1")
        conn.execute("DELETE FROM journal WHERE seq = 1")
    code = check_code(ledger.ledger_id, 1, "00" * 32, b"\0" * 70)
    before = check_receipt(str(ledger.target), code)
    assert before.verdict is Verdict.OUTSIDE
    assert "vérifiez le document dans l'archive de sa période" in before.message


def test_a_file_that_is_no_ledger_is_refused_in_french(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(InvalidInput, match="ne peut pas être lu comme un journal"):
        check_receipt(str(junk), check_code(LEDGER_ID, 1, HASH, b"\0" * 70))
