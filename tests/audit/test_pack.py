"""The tax-audit pack of a demo year, checked file by file against the ledger."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.audit.pack import DEMO_NOTICE, build_audit_pack, verify_pack
from app.errors import ComptoirError, InvalidInput
from app.ledger import canonical
from app.ledger.closures import list_closures
from app.ledger.export.fec import read_fec
from app.ledger.export.fec_check import check_fec, check_fec_bytes
from app.ledger.models import JournalRecord
from app.ledger.records import RecordType
from app.ledger.store import Ledger
from tests.ledger.demo_ledger import demo_copy

YEAR = 2026


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return demo_copy(tmp_path)


def _pack(path: Path, out: Path, **kwargs):  # type: ignore[no-untyped-def]
    with Ledger.open(path, kind="demo", create=False, operator="Contrôle") as ledger:
        return build_audit_pack(ledger, YEAR, out, operator="Contrôle", **kwargs)


def _csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text("utf-8-sig")), delimiter=";"))


def test_pack_holds_every_piece_and_matches_the_ledger(demo: Path, tmp_path: Path) -> None:
    steps: list[str] = []
    pack = _pack(demo, tmp_path / "out", progress=lambda done, total, label: steps.append(label))
    folder = pack.folder
    names = {f.name for f in pack.files}
    for expected in (
        "LISEZMOI.txt",
        "01-attestation-editeur.pdf",
        "02-description-conditions.pdf",
        "03-verification.pdf",
        "03-verification.json",
        "04-clotures.pdf",
        "04-clotures.csv",
        "05-evenements-techniques.pdf",
        "05-evenements-techniques.csv",
        "06-archives/liste.csv",
        "06-archives/comment-verifier.txt",
        "07-FEC/controle-A47A-1.txt",
        "cle-publique.pem",
    ):
        assert expected in names, expected
    assert len(steps) >= 6
    # A demo ledger's pack says so, in its name, its README, its CSV files and its JSON.
    assert pack.mark == DEMO_NOTICE and folder.name.startswith("DEMO-")
    assert DEMO_NOTICE.upper() in (folder / "LISEZMOI.txt").read_text("utf-8")
    assert _csv_rows(folder / "04-clotures.csv")[0] == [DEMO_NOTICE]

    verification = json.loads((folder / "03-verification.json").read_text("utf-8"))
    assert verification["ok"] is True and pack.verified
    with (
        Ledger.open(demo, kind="demo", create=False, operator="Contrôle") as ledger,
        ledger.reader() as session,
    ):
        days = list_closures(session, RecordType.DAY_CLOSURE, period_prefix=str(YEAR))
        last = session.scalar(select(JournalRecord).order_by(JournalRecord.seq.desc()))
        assert last is not None
        # The events of the year before the pack's own, which is dated when the pack is
        # made: in the year, or in the next one from 1 January on.
        events = session.scalar(
            select(func.count())
            .select_from(JournalRecord)
            .where(
                JournalRecord.record_type == RecordType.EVENT,
                JournalRecord.business_date.like(f"{YEAR}-%"),
                JournalRecord.seq < last.seq,
            )
        )
        body = canonical.decode(last.canonical)["body"]
    # The verification covered the ledger as it was; the pack was then journaled.
    assert verification["records"] >= 1 and verification["keys"]
    assert body["code"] == "AUDIT_PACK" and body["detail"]["year"] == YEAR
    assert body["detail"]["manifest_sha256"] == pack.manifest_sha256

    closures = _csv_rows(folder / "04-clotures.csv")[2:]
    assert [row[1] for row in closures] == ["/".join(reversed(c.period.split("-"))) for c in days]
    assert [row[-1] for row in closures] == [c.hash for c in days]
    events_csv = _csv_rows(folder / "05-evenements-techniques.csv")[2:]
    # Every event of the year up to the pack's own (journaled after the files were written).
    assert 0 < len(events_csv) <= events

    fec_files = [
        p for p in (folder / "07-FEC").iterdir() if p.name.endswith(".txt") and "FEC" in p.name
    ]
    assert len(fec_files) == 1
    check = check_fec(fec_files[0])
    assert check.ok, check.findings
    assert check.entries == read_fec(fec_files[0]).entries
    assert "conforme" in (folder / "07-FEC/controle-A47A-1.txt").read_text("utf-8")

    # Signed, zipped, and every file as the manifest lists it.
    assert verify_pack(folder) == []
    with zipfile.ZipFile(pack.zip_path) as archive:
        assert {n.split("/", 1)[1] for n in archive.namelist()} == names | {
            "MANIFESTE.json",
            "MANIFESTE.sig",
        }
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert oct((folder / "LISEZMOI.txt").stat().st_mode & 0o777) == "0o600"
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_a_changed_file_in_the_pack_is_named(demo: Path, tmp_path: Path) -> None:
    pack = _pack(demo, tmp_path / "out")
    path = pack.folder / "04-clotures.csv"
    path.write_bytes(path.read_bytes().replace(b";", b",", 1))
    (pack.folder / "en-plus.txt").write_text("ajout")
    assert verify_pack(pack.folder) == [
        "Fichier modifié : 04-clotures.csv.",
        "Fichier ajouté : en-plus.txt.",
    ]


def test_a_tampered_ledger_gives_a_pack_that_says_so(demo: Path, tmp_path: Path) -> None:
    with closing(sqlite3.connect(demo)) as conn:
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='trigger'"
        ).fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        seq = conn.execute(
            "SELECT seq FROM journal WHERE record_type = 'TICKET' ORDER BY seq LIMIT 1"
        ).fetchone()[0]
        conn.execute("UPDATE journal SET total_cents = total_cents - 100 WHERE seq = ?", (seq,))
        conn.commit()
    pack = _pack(demo, tmp_path / "out")
    verification = json.loads((pack.folder / "03-verification.json").read_text("utf-8"))
    assert verification["ok"] is False and not pack.verified
    assert any(f["seq"] == seq for f in verification["findings"])
    assert "ANOMALIES" in (pack.folder / "LISEZMOI.txt").read_text("utf-8")


@pytest.mark.parametrize("year", ["1999", "abc", "99999", "0"])
def test_a_year_without_records_or_unreadable_is_refused(
    demo: Path, tmp_path: Path, year: str
) -> None:
    with (
        Ledger.open(demo, kind="demo", create=False, operator="Contrôle") as ledger,
        pytest.raises((InvalidInput, ComptoirError)),
    ):
        build_audit_pack(ledger, year, tmp_path / "out", operator="Contrôle")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def _line(*fields: str) -> str:
    return "\t".join(fields)


def test_fec_checker_names_each_broken_rule() -> None:
    from app.ledger.export.fec_check import COLUMNS

    header = "\t".join(COLUMNS)
    day = "20260317"
    good = _line("VE", "Ventes", "1", day, "530000", "Caisse", "", "", "T1", day, "Ticket")
    good += "\t" + _line("12,00", "0,00", "", "", day, "", "")
    unbalanced = _line("VE", "Ventes", "1", day, "707000", "Ventes", "C1", "Dupont", "T1", day)
    unbalanced += "\t" + _line("Ticket", "0,00", "11,00", "", "", "2026031", "", "")
    data = "\r\n".join([header, good, unbalanced, "VE\tVentes\t2"]) + "\r\n"
    check = check_fec_bytes("123456789FEC20261231.txt", data.encode())
    rules = {f.rule for f in check.findings}
    assert {"A47A-1 équilibre", "A47A-1 tiers", "A47A-1 date", "A47A-1 colonnes"} <= rules
    assert check_fec_bytes("fec.txt", data.encode()).findings[0].rule == "A47A-1 nom"


def test_audit_pack_from_the_command_line(demo: Path, tmp_path: Path, capsys) -> None:
    from app.cli import main

    out = tmp_path / "dossiers"
    assert main(["--db", str(demo), "audit", "pack", "--year", "2026", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "Dossier de contrôle fiscal de l'exercice 2026" in printed.out
    assert "DÉMONSTRATION" in printed.out
    assert "[1/8] Vérification du journal" in printed.err
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert len(folders) == 1 and verify_pack(folders[0]) == []
    assert main(["--db", str(demo), "audit", "pack", "--year", "1999"]) == 2
    assert "aucun enregistrement de l'exercice 1999" in capsys.readouterr().err


def test_a_pack_killed_half_way_leaves_nothing_after_the_next_start(demo: Path) -> None:
    """A staging folder whose writer is gone is removed when the ledger is next opened."""
    from app.audit.pack import default_pack_dir

    with Ledger.open(demo, kind="demo", create=False, operator="Contrôle") as ledger:
        folder = default_pack_dir(ledger)
    folder.mkdir(parents=True)
    leftover = folder / ".controle-fiscal-2026-123456782-20261204-120000.999999.tmp"
    (leftover / "07-FEC").mkdir(parents=True)
    (leftover / "04-clotures.csv").write_text("clients")
    with Ledger.open(demo, kind="demo", create=False, operator="Contrôle"):
        pass
    assert not leftover.exists()


def test_a_cashier_may_not_hand_over_the_journal(demo: Path, tmp_path: Path, monkeypatch, capsys):
    from app.cli import main
    from app.ledger.operators import Role
    from app.staff.service import add_operator

    with (
        Ledger.open(demo, kind="demo", create=False, operator="Gérant") as ledger,
        ledger.transaction() as session,
    ):
        add_operator(session, "Gérant", Role.MANAGER, "1234", operator="Gérant")
        add_operator(session, "Yanis", Role.CASHIER, "5678", operator="Gérant")
        add_operator(session, "Sophie", Role.ACCOUNTANT, "4321", operator="Gérant")
    out = tmp_path / "dossiers"
    base = ["--db", str(demo), "audit", "pack", "--year", "2026", "--out", str(out)]
    monkeypatch.setenv("COMPTOIR_PIN", "5678")
    assert main([*base, "--operator", "Yanis"]) == 2
    assert "Yanis (caissier) n'a pas le droit de consulter le journal" in capsys.readouterr().err
    assert not out.exists() or not list(out.iterdir())
    monkeypatch.setenv("COMPTOIR_PIN", "4321")
    assert main([*base, "--operator", "Sophie"]) == 0
