"""``comptoir invoice mandate add|list|end`` and ``invoice self-bill|self-credit|self-billed``:
the whole self-billing path from the command line, with French errors on bad input."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.cli import main
from app.demo import DEMO_SHOP
from app.einvoice.validate import validate_invoice
from app.ledger.settings import record_fiscal_settings
from app.ledger.store import Ledger
from app.ledger.verify.engine import verify_ledger

MANDATE = (
    "invoice", "mandate", "add", "--reference", "MAND-2026-01", "--prefix", "AFVERGER",
    "--start", "2026-01-01", "--name", "Vergers du Lyonnais", "--siret", "73282932000074",
    "--vat-number", "FR44732829320", "--address", "3 chemin des Pommiers",
    "--postcode", "69390", "--city", "Vourles",
)  # fmt: skip


@pytest.fixture
def shop_db(tmp_path: Path) -> Path:
    path = tmp_path / "shop.sqlite"
    with Ledger.open(path) as ledger, ledger.transaction() as session:
        record_fiscal_settings(session, DEMO_SHOP, operator="Gérant")
    return path


def _run(db: Path, capsys, *words: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), *words])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_mandate_self_bill_credit_and_list(shop_db, capsys) -> None:
    code, out, err = _run(shop_db, capsys, *MANDATE)
    assert code == 0, err
    assert "Mandat enregistré : MAND-2026-01  Vergers du Lyonnais (SIREN 732829320)" in out
    code, out, _ = _run(shop_db, capsys, "invoice", "mandate", "list")
    assert code == 0 and "préfixe AFVERGER" in out and "1 mandat d'autofacturation." in out

    code, out, err = _run(
        shop_db, capsys, "invoice", "self-bill", "--mandate", "AFVERGER",
        "--line", "Pommes Golden (kg);40;1,80;5,5", "--line", "Cagettes;4;2;20",
    )  # fmt: skip
    assert code == 0, err
    assert "Autofacture AFVERGER-000001 au nom de Vergers du Lyonnais" in out
    pdf = Path(out.rsplit("Factur-X écrit : ", 1)[1].strip())
    report = validate_invoice(pdf.read_bytes(), filename=pdf.name)
    assert report.ok and "V1.4.0.03" in report.rules_line()

    code, out, err = _run(
        shop_db, capsys, "invoice", "self-credit", "AFVERGER-000001", "--reason", "Casse",
        "--line", "2:1",
    )  # fmt: skip
    assert code == 0, err
    assert "Avoir d'autofacturation AFVERGER-000002 sur AFVERGER-000001 : 2,40 € TTC" in out

    code, out, _ = _run(shop_db, capsys, "invoice", "self-billed")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("AFVERGER-000002") and "Avoir d'autofacturation" in lines[0]
    assert lines[1].startswith("AFVERGER-000001") and "Autofacture" in lines[1]
    assert lines[-1] == "2 documents d'autofacturation."

    out_dir = f"{shop_db.parent / 'export'}/"
    code, out, _ = _run(shop_db, capsys, "invoice", "export", "AFVERGER-000001", "--out", out_dir)
    assert code == 0 and (shop_db.parent / "export" / "AFVERGER-000001.pdf").is_file()

    today = datetime.now(ZoneInfo("Europe/Paris")).date()  # the shop's day, as issued
    code, out, err = _run(shop_db, capsys, "invoice", "mandate", "end", "MAND-2026-01",
                          "--on", today.isoformat())  # fmt: skip
    assert code == 0, err
    assert f"au {today:%d/%m/%Y}" in out
    assert verify_ledger(shop_db).ok


def test_bad_input_is_refused_in_french(shop_db, capsys) -> None:
    code, _, err = _run(shop_db, capsys, *MANDATE[:-2], "--city", "Vourles", "--siret", "123")
    assert code == 2 and "SIRET invalide : 14 chiffres dont la clé." in err
    code, _, err = _run(shop_db, capsys, *MANDATE)
    assert code == 0
    code, _, err = _run(shop_db, capsys, "invoice", "self-bill", "--mandate", "AFVERGER",
                        "--line", "Pommes;beaucoup;1,80;5,5")  # fmt: skip
    assert code == 2 and "quantité ou taux illisible" in err
    code, _, err = _run(shop_db, capsys, "invoice", "self-bill", "--mandate", "INCONNU",
                        "--line", "Pommes;1;1,80;5,5")  # fmt: skip
    assert code == 2 and "Aucun mandat d'autofacturation « INCONNU »." in err
    code, _, err = _run(shop_db, capsys, "invoice", "mandate", "end", "AFVERGER",
                        "--on", "2025-12-31")  # fmt: skip
    assert code == 2 and "commence le 01/01/2026 : il ne peut finir avant" in err
    code, _, _ = _run(shop_db, capsys, "invoice", "mandate", "end", "AFVERGER",
                      "--on", "2026-02-28")  # fmt: skip
    assert code == 0
    code, _, err = _run(shop_db, capsys, "invoice", "self-bill", "--mandate", "AFVERGER",
                        "--line", "Pommes;1;1,80;5,5")  # fmt: skip
    assert code == 2 and "a pris fin le 28/02/2026 : aucune autofacture" in err
