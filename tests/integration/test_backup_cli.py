"""`comptoir backup create|list|restore` and the backup that follows `close --day`."""

from __future__ import annotations

from pathlib import Path

from app.cli import main
from app.ledger.backup.copies import save_backup_settings
from app.ledger.backup.restore import read_identity
from app.ledger.store import Ledger
from tests.helpers import ring, shop_today


def _shop(tmp_path: Path, sales: int = 2) -> Path:
    db = tmp_path / "shop.sqlite"
    with Ledger.open(db, operator="test") as ledger:
        for _ in range(sales):
            ring(ledger)
    return db


def _unplugged(db: Path, tmp_path: Path) -> Path:
    """A folder chosen in the settings, then gone (a USB drive pulled out)."""
    usb = tmp_path / "usb"
    usb.mkdir()
    with Ledger.open(db, create=False) as ledger, ledger.transaction() as session:
        save_backup_settings(session, str(usb), 5, operator="Camille")
    usb.rmdir()
    return usb


def test_create_list_and_restore(tmp_path: Path, capsys) -> None:
    db = _shop(tmp_path)
    assert main(["--db", str(db), "backup", "create"]) == 0
    out = capsys.readouterr().out
    [copy] = (tmp_path / "shop-sauvegardes").glob("shop-*.sqlite")
    assert f"Sauvegarde écrite : {copy}" in out
    usb = tmp_path / "usb"
    usb.mkdir()
    assert main(["--db", str(db), "backup", "create", "--to", str(usb)]) == 0
    [on_usb] = usb.glob("shop-*.sqlite")
    capsys.readouterr()

    assert main(["--db", str(db), "backup", "list"]) == 0
    listed = capsys.readouterr().out
    assert f"Dossier de sauvegarde : {tmp_path / 'shop-sauvegardes'} (14 copies" in listed
    assert str(copy) in listed
    assert f"Dernière sauvegarde : {on_usb} (" in listed

    # Two BACKUP events were journaled after the copy: restoring it loses them.
    assert main(["--db", str(db), "backup", "restore", str(copy)]) == 2
    refused = capsys.readouterr().err
    assert "Restauration refusée" in refused and "--force" in refused
    assert main(["--db", str(db), "backup", "restore", str(copy), "--force"]) == 0
    out = capsys.readouterr().out
    assert "Ancien journal conservé : " in out
    assert "Restauration inscrite au journal" in out
    assert "Journal intègre" in out
    assert read_identity(db).last_seq == read_identity(copy).last_seq + 1  # + RESTORE


def test_restore_refuses_a_file_that_is_no_ledger(tmp_path: Path, capsys) -> None:
    db = _shop(tmp_path)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"rien" * 1000)
    before = db.read_bytes()
    assert main(["--db", str(db), "backup", "restore", str(junk)]) == 2
    assert "n'est pas une sauvegarde lisible" in capsys.readouterr().err
    assert main(["--db", str(db), "backup", "restore", str(tmp_path / "none.sqlite")]) == 2
    assert "introuvable" in capsys.readouterr().err
    assert db.read_bytes() == before


def test_create_into_a_missing_folder_fails(tmp_path: Path, capsys) -> None:
    db = _shop(tmp_path)
    usb = _unplugged(db, tmp_path)
    assert main(["--db", str(db), "backup", "create"]) == 1
    err = capsys.readouterr().err
    assert f"Erreur : Sauvegarde impossible : le dossier {usb} est introuvable" in err
    assert main(["--db", str(db), "backup", "list"]) == 0
    assert "Dernière sauvegarde : échec : le dossier" in capsys.readouterr().out


def test_close_day_backs_up_and_the_z_says_where(tmp_path: Path, capsys) -> None:
    db = _shop(tmp_path)
    today = shop_today().isoformat()
    assert main(["--db", str(db), "close", "--day", today, "--operator", "Gérant"]) == 0
    captured = capsys.readouterr()
    [copy] = (tmp_path / "shop-sauvegardes").glob("shop-*.sqlite")
    assert f"Sauvegarde écrite : {copy}" in captured.err
    z = captured.out
    assert "CLÔTURE JOURNALIÈRE (Z) ZJ000001" in z
    # The line is wrapped to the receipt's width: the path may run over several lines.
    assert "\nDernière sauvegarde :" in z
    assert str(copy) in z.replace("\n", "")
    closure = read_identity(copy)
    assert closure is not None and closure.last_seq >= 4  # key, created, 2 sales, closure


def test_close_day_with_a_failed_backup_warns_and_exits_1(tmp_path: Path, capsys) -> None:
    db = _shop(tmp_path)
    usb = _unplugged(db, tmp_path)
    today = shop_today().isoformat()
    assert main(["--db", str(db), "close", "--day", today, "--operator", "Gérant"]) == 1
    captured = capsys.readouterr()
    assert "CLÔTURE JOURNALIÈRE (Z) ZJ000001" in captured.out  # the closure stands
    assert "Dernière sauvegarde : échec : le dossier" in captured.out.replace("\n", " ")
    assert f"Attention : sauvegarde impossible : le dossier {usb} est introuvable" in captured.err
