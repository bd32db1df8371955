"""Signed period archives: writing, journaling, verification anywhere, tampering, reopening."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import sqlite3
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.demo import DEMO_SHOP
from app.errors import ComptoirError, InvalidInput
from app.ledger import chain
from app.ledger.archive.check import verify_archive
from app.ledger.archive.folder import (
    ARCHIVE_DIR_PREFERENCE,
    ArchiveError,
    default_archive_dir,
    list_archives,
)
from app.ledger.archive.format import ALL_FILES, CHAIN, KEYS, MANIFEST, SIGNATURE
from app.ledger.archive.reopen import load_archive_as_ledger
from app.ledger.archive.write import archive_after_closure, create_archive
from app.ledger.closures import close_day, close_pending, get_closure
from app.ledger.preferences import set_preference
from app.ledger.records import RecordType
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from app.sales.service import cancel_ticket
from tests.conftest import FakeClock
from tests.helpers import ring

OPERATOR = "Gérant"


@pytest.fixture
def shop(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Ledger, FakeClock]]:
    """A ledger opened on 30/12/2025 with sales on three days: December 2025 and the fiscal
    year 2025 are closed on 02/01/2026, January and February 2026 and the year 2026 on
    04/01/2027. The year 2026 therefore starts with the closures of 2025. Parametrized
    with "rotate", the signing key is renewed on the evening of 02/01/2026."""
    rotate = getattr(request, "param", None) == "rotate"
    clock = FakeClock()
    clock.set_local(date(2025, 12, 30))
    with Ledger.open(tmp_path / "shop.sqlite", clock=clock, operator="test") as ledger:
        with ledger.transaction() as session:
            record_fiscal_settings(session, DEMO_SHOP, operator=OPERATOR)
        ring(ledger, ("Pain; « spécial »", 130, 2, 550))
        _close_day(ledger, clock, date(2025, 12, 30))
        for day in (date(2026, 1, 2), date(2026, 2, 3)):
            clock.set_local(day, time(8))
            with ledger.transaction() as session:
                close_pending(session, operator=OPERATOR)
            clock.set_local(day, time(9))
            sold = ring(ledger, ("Vin", 1150, 1, 2000), ("Pommes", 349, "0.75", 550))
            ring(ledger)
            with ledger.transaction() as session:
                cancel_ticket(session, sold.number, operator=OPERATOR, reason="erreur de saisie")
            _close_day(ledger, clock, day)
            if rotate and day.month == 1:
                ledger.rotate_key(OPERATOR, "renouvellement annuel")
        clock.set_local(date(2027, 1, 4), time(8))
        with ledger.transaction() as session:
            close_pending(session, operator=OPERATOR)
        clock.advance(minutes=5)
        yield ledger, clock


def _close_day(ledger: Ledger, clock: FakeClock, day: date) -> None:
    clock.set_local(day, time(19))
    with ledger.transaction() as session:
        close_day(session, day, operator=OPERATOR)


def _rows(path: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, params).fetchall()


def _rewrite(
    source: Path,
    target: Path,
    *,
    change: dict[str, Callable[[bytes], bytes]] | None = None,
    drop: tuple[str, ...] = (),
    add: dict[str, bytes] | None = None,
) -> Path:
    """Copy a ZIP member by member, changing, dropping or adding some: what someone
    editing an extracted archive and zipping it again would produce."""
    change = change or {}
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            if name in drop:
                continue
            data = old.read(name)
            new.writestr(name, change[name](data) if name in change else data)
        for name, data in (add or {}).items():
            new.writestr(name, data)
    return target


def _one_byte(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        assert old in data
        return data.replace(old, new, 1)

    return edit


def _messages(report) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(f.message for f in report.findings)


# -- writing ------------------------------------------------------------------------------------
def test_year_archive_holds_the_period_and_is_journaled(shop, tmp_path: Path) -> None:
    ledger, _clock = shop
    result = create_archive(ledger, "2026", operator=OPERATOR, out_dir=tmp_path / "out")

    db = ledger.path
    first = _rows(db, "SELECT MIN(seq) FROM journal WHERE business_date >= '2026-01-01'")[0][0]
    with ledger.reader() as session:
        year = get_closure(session, RecordType.YEAR_CLOSURE, "2026")
    assert year is not None
    assert (result.period, result.first_seq, result.last_seq) == ("2026", first, year.seq)
    assert result.records == year.seq - first + 1
    assert result.path.parent == tmp_path / "out"
    assert result.path.name == "archive-2026-20270104-080500.zip"

    with zipfile.ZipFile(result.path) as archive:
        assert archive.namelist() == sorted(ALL_FILES)
        manifest_bytes = archive.read(MANIFEST)
        manifest = json.loads(manifest_bytes)
        for name, digest in manifest["files"].items():
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest
        tickets = archive.read("tickets.csv").decode("utf-8")
        chain_lines = archive.read(CHAIN).splitlines()
    assert set(manifest["files"]) == set(ALL_FILES) - {MANIFEST, SIGNATURE}
    assert manifest["format"] == "comptoir-archive/1"
    assert manifest["ledger_id"] == ledger.ledger_id and manifest["ledger_kind"] == "real"
    assert manifest["shop"]["siret"] == DEMO_SHOP.siret
    assert manifest["shop"]["name"] == DEMO_SHOP.name
    assert (manifest["period"], manifest["first_seq"], manifest["last_seq"]) == (
        "2026",
        first,
        year.seq,
    )
    prev = _rows(db, "SELECT prev_hash FROM journal WHERE seq = ?", first)[0][0]
    assert manifest["first_prev_hash"] == prev
    assert manifest["last_hash"] == year.hash
    assert manifest["records"] == len(chain_lines) == result.records
    assert manifest["counts"]["TICKET"] == 6 and manifest["counts"]["YEAR_CLOSURE"] == 2
    assert manifest["key_id"] == ledger.signer_key_id
    assert manifest["created_at"] == "2027-01-04T07:05:00Z"

    # Excel-FR friendly: BOM, ';', decimal comma; the cancellation points to its sale.
    assert tickets.startswith("\ufeffseq;numero;nature;date;heure;")
    rows = [line.split(";") for line in tickets.splitlines()[1:]]
    assert [r[2] for r in rows] == ["vente", "vente", "annulation"] * 2
    assert rows[0][9] == "14,12" and rows[2][9] == "-14,12"
    assert rows[2][12] == rows[0][1] and rows[2][13] == "erreur de saisie"
    assert rows[0][3] == "02/01/2026"

    # Journaled: an ARCHIVE record, to the second, binding the manifest.
    recorded = result.recorded
    assert recorded.record_type is RecordType.ARCHIVE
    assert recorded.body["manifest_sha256"] == hashlib.sha256(manifest_bytes).hexdigest()
    assert recorded.body["file"] == result.path.name
    assert (recorded.body["first_seq"], recorded.body["last_seq"]) == (first, year.seq)
    assert recorded.body["records"] == result.records
    assert recorded.ts.startswith("2027-01-04T07:05:00")
    with ledger.reader() as session:
        entries = list_archives(session)
    assert [(e.period, e.file_name, e.seq) for e in entries] == [
        ("2026", result.path.name, recorded.seq)
    ]


def test_archive_is_reproducible_but_for_the_signature(shop, tmp_path: Path) -> None:
    ledger, _clock = shop
    first = create_archive(ledger, "2026", operator=OPERATOR, out_dir=tmp_path)
    second = create_archive(ledger, "2026", operator=OPERATOR, out_dir=tmp_path)
    assert second.path.name == first.path.name.replace(".zip", "-2.zip")
    with zipfile.ZipFile(first.path) as a, zipfile.ZipFile(second.path) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            if name != SIGNATURE:  # ECDSA signatures are randomised
                assert a.read(name) == b.read(name), name
    with ledger.reader() as session:
        assert [e.period for e in list_archives(session)] == ["2026", "2026"]


def test_month_archive_on_demand(shop, tmp_path: Path) -> None:
    ledger, _clock = shop
    result = create_archive(ledger, "2026-1", operator=OPERATOR, out_dir=tmp_path)
    assert result.period == "2026-01"
    with ledger.reader() as session:
        month = get_closure(session, RecordType.MONTH_CLOSURE, "2026-01")
    assert month is not None and result.last_seq == month.seq
    report = verify_archive(result.path)
    assert report.ok, _messages(report)
    assert report.summary().startswith("Archive intègre : le mois de janvier 2026")


def test_unclosed_or_invalid_period_is_refused(shop, tmp_path: Path) -> None:
    ledger, _clock = shop
    out = tmp_path / "out"
    with pytest.raises(ComptoirError, match="l'exercice 2027 n'est pas clôturé"):
        create_archive(ledger, "2027", operator=OPERATOR, out_dir=out)
    with pytest.raises(ComptoirError, match="mois de décembre 2026 n'est pas clôturé"):
        create_archive(ledger, "2026-12", operator=OPERATOR, out_dir=out)
    for bad in ("2026-13", "26", "mars"):
        with pytest.raises(InvalidInput, match="Période invalide"):
            create_archive(ledger, bad, operator=OPERATOR, out_dir=out)
    assert not out.exists()
    with ledger.reader() as session:
        assert list_archives(session) == []


def test_a_failed_journal_write_removes_the_file(shop, tmp_path, monkeypatch) -> None:
    ledger, _clock = shop

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disque plein")

    monkeypatch.setattr("app.ledger.archive.write.append", refuse)
    with pytest.raises(RuntimeError, match="disque plein"):
        create_archive(ledger, "2026", operator=OPERATOR, out_dir=tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


# -- verifying ----------------------------------------------------------------------------------
def test_archive_verifies_elsewhere_without_the_ledger(shop, tmp_path: Path) -> None:
    ledger, _clock = shop
    result = create_archive(ledger, "2026", operator=OPERATOR, out_dir=tmp_path / "out")
    assert ledger.signer is not None
    fingerprint = chain.fingerprint_of(ledger.signer.public_key())
    elsewhere = tmp_path / "auditor"
    elsewhere.mkdir()
    copy = Path(shutil.copy2(result.path, elsewhere))
    ledger.close()
    for leftover in ledger.path.parent.glob(f"{ledger.path.name}*"):
        leftover.unlink()
    shutil.rmtree(result.path.parent)

    seen: list[tuple[int, int]] = []
    report = verify_archive(copy, progress=lambda done, total: seen.append((done, total)))
    assert report.ok, _messages(report)
    assert report.records == result.records
    assert seen[-1] == (result.records, result.records)
    assert report.key_fingerprint == fingerprint
    assert report.closures_checked == 5  # 2 days, 2 months and the year of 2026
    assert report.closures_partial == 2  # December 2025 and 2025, begun before the archive
    summary = report.summary()
    assert summary.startswith("Archive intègre : l'exercice 2026, 13 enregistrements")
    assert ledger.signer_key_id in summary and fingerprint in summary


def test_a_changed_csv_is_named(shop, tmp_path: Path) -> None:
    ledger, _clock = shop
    result = create_archive(ledger, "2026", operator=OPERATOR, out_dir=tmp_path)
    tampered = _rewrite(
        result.path,
        tmp_path / "tampered.zip",
        change={"tickets.csv": _one_byte(b";14,12;", b";14,13;")},
    )
    report = verify_archive(tampered)
    assert not report.ok
    named = [f for f in report.findings if f.file == "tickets.csv"]
    assert named[0].message == (
        "Le fichier tickets.csv a été modifié : son empreinte ne correspond pas au manifeste."
    )
    assert "ne reproduit pas fidèlement les données signées" in named[1].message
    assert "T000002" in named[1].message
    assert {f.file for f in report.findings} == {"tickets.csv"}
    assert report.summary().startswith(
        "Archive NON intègre (l'exercice 2026) : le fichier tickets.csv a été modifié"
    )


def test_a_changed_chain_record_breaks_its_hash(shop, tmp_path: Path) -> None:
    ledger, _clock = shop
    result = create_archive(ledger, "2026", operator=OPERATOR, out_dir=tmp_path)
    ticket_seq = result.first_seq + 2

    def raise_a_total(data: bytes) -> bytes:
        lines = data.splitlines(keepends=True)
        index = ticket_seq - result.first_seq
        line = json.loads(lines[index])
        assert line["record_type"] == "TICKET"
        canonical = base64.b64decode(line["canonical"]).replace(b'"total":1412', b'"total":1413')
        line["canonical"] = base64.b64encode(canonical).decode()
        lines[index] = json.dumps(line, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        return b"".join(lines)

    tampered = _rewrite(result.path, tmp_path / "t.zip", change={CHAIN: raise_a_total})
    report = verify_archive(tampered)
    messages = _messages(report)
    assert "Le fichier chaine.jsonl a été modifié" in messages
    assert any(
        f.seq == ticket_seq and "son empreinte ne correspond plus à son contenu" in f.message
        for f in report.findings
    ), messages


def test_a_changed_manifest_breaks_its_signature(shop, tmp_path: Path) -> None:
    ledger, _clock = shop
    result = create_archive(ledger, "2026", operator=OPERATOR, out_dir=tmp_path)
    tampered = _rewrite(
        result.path,
        tmp_path / "t.zip",
        change={MANIFEST: _one_byte("Épicerie".encode(), b"Epicerie")},
    )
    report = verify_archive(tampered)
    assert [(f.file, f.message) for f in report.findings] == [
        (
            MANIFEST,
            "La signature du manifeste est invalide : le manifeste a été modifié après sa "
            "signature, ou n'a pas été signé par la clé indiquée.",
        )
    ]
    assert not report.summary().endswith("qu'elle en provient.")  # no key vouches for it


def test_an_archive_rebuilt_by_someone_else_shows_another_key(shop, tmp_path: Path) -> None:
    """Whoever rewrites a readable file and re-signs the manifest with a key of their own
    gets a valid manifest signature, but the copy no longer matches the signed records and
    the fingerprint reported is not the shop's."""
    ledger, _clock = shop
    result = create_archive(ledger, "2026", operator=OPERATOR, out_dir=tmp_path)
    forger = ec.generate_private_key(ec.SECP256R1())
    with zipfile.ZipFile(result.path) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        tickets = archive.read("tickets.csv").replace(b";14,12;", b";4,12;", 1)
    pem = forger.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forged_id = chain.key_id_of(forger.public_key())
    manifest["key_id"] = forged_id
    manifest["keys"].append({"key_id": forged_id, "registered_seq": None})
    manifest["files"]["tickets.csv"] = hashlib.sha256(tickets).hexdigest()
    with zipfile.ZipFile(result.path) as archive:
        keys = pem + archive.read(KEYS)
    manifest["files"][KEYS] = hashlib.sha256(keys).hexdigest()
    data = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
    signature = chain.sign_hash(forger, hashlib.sha256(data).hexdigest())
    forged = _rewrite(
        result.path,
        tmp_path / "forged.zip",
        change={
            MANIFEST: lambda _old: data,
            SIGNATURE: lambda _old: signature,
            KEYS: lambda _old: keys,
            "tickets.csv": lambda _old: tickets,
        },
    )
    report = verify_archive(forged)
    assert [f.file for f in report.findings] == ["tickets.csv"]
    assert "ne reproduit pas fidèlement les données signées" in report.findings[0].message
    assert report.key_fingerprint == chain.fingerprint_of(forger.public_key())
    assert forged_id in report.summary()


def test_missing_and_added_files_are_named(shop, tmp_path: Path) -> None:
    ledger, _clock = shop
    result = create_archive(ledger, "2026", operator=OPERATOR, out_dir=tmp_path)
    tampered = _rewrite(
        result.path,
        tmp_path / "t.zip",
        drop=("evenements.csv",),
        add={"notes.txt": b"ajout"},
    )
    report = verify_archive(tampered)
    assert ("evenements.csv", "Le fichier evenements.csv manque dans l'archive.") in [
        (f.file, f.message) for f in report.findings
    ]
    assert any(
        f.file == "notes.txt" and "ne figure pas au manifeste" in f.message for f in report.findings
    )


def test_a_truncated_chain_is_reported(shop, tmp_path: Path) -> None:
    ledger, _clock = shop
    result = create_archive(ledger, "2026", operator=OPERATOR, out_dir=tmp_path)
    tampered = _rewrite(
        result.path,
        tmp_path / "t.zip",
        change={CHAIN: lambda data: b"".join(data.splitlines(keepends=True)[:-1])},
    )
    messages = _messages(verify_archive(tampered))
    assert "le manifeste en annonce 13" in messages
    assert "ne se termine pas par la clôture de l'exercice 2026" in messages


def test_a_file_that_is_not_an_archive(tmp_path: Path) -> None:
    junk = tmp_path / "archive.zip"
    junk.write_bytes(b"pas une archive")
    report = verify_archive(junk)
    assert not report.ok
    assert report.summary().startswith("Archive NON intègre : ce fichier n'est pas une archive")
    with pytest.raises(ComptoirError, match="n'est pas une archive Comptoir lisible"):
        load_archive_as_ledger(junk, tmp_path / "vue.sqlite")
    assert not (tmp_path / "vue.sqlite").exists()


def test_cancelled_verification(shop, tmp_path: Path) -> None:
    ledger, _clock = shop
    result = create_archive(ledger, "2026", operator=OPERATOR, out_dir=tmp_path)
    report = verify_archive(result.path, cancelled=lambda: True)
    assert report.cancelled and not report.ok
    assert report.summary() == "Vérification de l'archive interrompue avant la fin."


@pytest.mark.parametrize("shop", ["rotate"], indirect=True)
def test_archives_across_a_key_renewal(shop, tmp_path: Path) -> None:
    ledger, _clock = shop
    year = create_archive(ledger, "2026", operator=OPERATOR, out_dir=tmp_path)
    february = create_archive(ledger, "2026-02", operator=OPERATOR, out_dir=tmp_path)
    with zipfile.ZipFile(year.path) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        assert len(manifest["keys"]) == 2 and manifest["keys"][0]["key_id"] == manifest["key_id"]
        assert archive.read(KEYS).count(b"BEGIN PUBLIC KEY") == 2
    for archive_path in (year.path, february.path):  # February starts after the renewal
        report = verify_archive(archive_path)
        assert report.ok, _messages(report)
        assert "remplacée depuis" not in report.summary()


def test_manifest_signed_by_a_key_made_after_the_period(shop, tmp_path: Path) -> None:
    """The key was lost after the year closure: the archive is signed by the new key, whose
    introduction is not in the archive; the summary says which key signs the records."""
    ledger, clock = shop
    old_key = ledger.signer_key_id
    ledger.close()
    (Path(os.environ["COMPTOIR_DATA_DIR"]) / "keys" / f"{ledger.ledger_id}.pem").unlink()
    with Ledger.open(
        ledger.path, clock=clock, operator="test", new_key_reason="clé perdue"
    ) as reopened:
        assert reopened.signer_key_id != old_key
        result = create_archive(reopened, "2026", operator=OPERATOR, out_dir=tmp_path)
    report = verify_archive(result.path)
    assert report.ok, _messages(report)
    assert f"signés par la clé {old_key}, remplacée depuis." in report.summary()


# -- reopening ----------------------------------------------------------------------------------
def test_loaded_archive_has_the_ledger_rows(shop, tmp_path: Path) -> None:
    ledger, _clock = shop
    result = create_archive(ledger, "2026", operator=OPERATOR, out_dir=tmp_path)
    view = load_archive_as_ledger(result.path, tmp_path / "vue.sqlite")
    assert view == tmp_path / "vue.sqlite"
    span = (result.first_seq, result.last_seq)
    for table in ("journal", "journal_vat", "journal_payment"):
        sql = f"SELECT * FROM {table} WHERE seq BETWEEN ? AND ? ORDER BY 1, 2"
        live = _rows(ledger.path, sql, *span)
        assert live and _rows(view, sql, *span) == live, table
    assert _rows(view, "SELECT COUNT(*) FROM journal")[0][0] == result.records
    meta = _rows(view, "SELECT ledger_id, kind, timezone FROM ledger_meta")
    assert meta == [(ledger.ledger_id, "real", "Europe/Paris")]
    keys = "SELECT key_id, public_key, registered_seq FROM signing_key"
    assert _rows(view, keys) == _rows(ledger.path, keys)
    with Ledger.open(view, kind=None, readonly=True) as opened, opened.reader() as session:
        assert get_closure(session, RecordType.YEAR_CLOSURE, "2026") is not None


# -- after a year closure -----------------------------------------------------------------------
def test_a_year_closure_is_archived_in_the_chosen_folder(shop, tmp_path: Path) -> None:
    ledger, _clock = shop
    assert archive_after_closure(ledger, RecordType.MONTH_CLOSURE, "2026-02", OPERATOR) is None
    result = archive_after_closure(ledger, RecordType.YEAR_CLOSURE, "2026", OPERATOR)
    assert result is not None
    assert result.path.parent == default_archive_dir(ledger.path)
    assert default_archive_dir(ledger.path) == tmp_path / "shop-archives"
    chosen = tmp_path / "clé USB"
    with ledger.transaction() as session:
        set_preference(session, ARCHIVE_DIR_PREFERENCE, str(chosen))
    again = archive_after_closure(ledger, RecordType.YEAR_CLOSURE, "2026", OPERATOR)
    assert again is not None and again.path.parent == chosen
    assert verify_archive(again.path).ok


def test_a_failed_automatic_archive_keeps_the_closure(shop, tmp_path: Path) -> None:
    ledger, _clock = shop
    blocked = tmp_path / "fichier"
    blocked.write_text("pas un dossier")
    with ledger.transaction() as session:
        set_preference(session, ARCHIVE_DIR_PREFERENCE, str(blocked))
    with pytest.raises(ArchiveError, match="La clôture de l'exercice 2026 est enregistrée, mais"):
        archive_after_closure(ledger, RecordType.YEAR_CLOSURE, "2026", OPERATOR)
    with ledger.reader() as session:
        assert get_closure(session, RecordType.YEAR_CLOSURE, "2026") is not None
        assert list_archives(session) == []


def test_a_month_with_two_zs_of_a_day_archives_and_verifies(tmp_path: Path) -> None:
    """Trading after a Z: the archive holds both Zs of the day and checks the month's sum."""
    clock = FakeClock()
    day = date(2026, 3, 2)
    clock.set_local(day, time(9))
    with Ledger.open(tmp_path / "shop.sqlite", clock=clock, operator="test") as ledger:
        with ledger.transaction() as session:
            record_fiscal_settings(session, DEMO_SHOP, operator=OPERATOR)
        ring(ledger)
        _close_day(ledger, clock, day)
        clock.set_local(day, time(20))
        ring(ledger, ("Vin", 1150, 1, 2000))  # after the Z
        clock.set_local(day, time(21))
        with ledger.transaction() as session:
            close_day(session, day, operator=OPERATOR)
        clock.set_local(date(2026, 4, 1), time(8))
        with ledger.transaction() as session:
            [month] = close_pending(session, operator=OPERATOR, on=date(2026, 4, 1))
        assert [p["period"] for p in month.body["parts"]] == ["2026-03-02", "2026-03-02"]
        clock.advance(minutes=5)
        result = create_archive(ledger, "2026-03", operator=OPERATOR, out_dir=tmp_path)
        report = verify_archive(result.path)
        assert report.ok, _messages(report)
        assert report.closures_checked == 3  # two Zs and the month
