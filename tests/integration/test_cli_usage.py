"""Usage of the command line: global options on either side of the command, French
messages and exit code 2 for every mistake, checked values."""

from __future__ import annotations

import argparse
import ast
import inspect
from datetime import date
from pathlib import Path

import pytest

from app.cli import main
from app.cli.french import MESSAGES, PLURALS
from app.demo import run_demo


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    path = tmp_path / "boutique.sqlite"
    # Days of a fixed year: the invoices are numbered F2026-… whenever the suite runs.
    run_demo(path, days=2, kind="real", with_invoices=True, today=date(2026, 3, 4)).close()
    return path


def test_every_message_of_argparse_has_its_french() -> None:
    """argparse's own texts (this Python's) all have an entry: none is shown in English."""
    tree = ast.parse(inspect.getsource(argparse))
    singular, plural = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            texts = tuple(a.value for a in node.args if isinstance(a, ast.Constant))
            if node.func.id == "_" and texts:
                singular.add(texts[0])
            elif node.func.id == "ngettext" and len(texts) == 2:
                plural.add(texts)
    assert singular and plural
    assert singular - MESSAGES.keys() == set()
    assert plural - PLURALS.keys() == set()


@pytest.mark.parametrize(
    "argv",
    [
        ["verify", "--db", "{db}"],
        ["--db", "{db}", "verify"],
        ["verify", "-v", "--db", "{db}"],
        ["backup", "--db", "{db}", "list"],
        ["backup", "list", "--db", "{db}"],
        ["--db", "{db}", "backup", "list"],
        ["archive", "list", "--db={db}", "--verbose"],
        ["invoice", "--db", "{db}", "export", "F2026-000001", "--out", "{out}"],
        ["invoice", "export", "F2026-000001", "--db", "{db}", "--out", "{out}"],
        ["export", "csv", "--out", "{out}/vue.csv", "--db", "{db}"],
        ["export", "--db", "{db}", "csv", "--out", "{out}/vue.csv"],
    ],
)
def test_global_options_before_or_after_the_command(shop, tmp_path, capsys, argv) -> None:
    filled = [word.format(db=shop, out=tmp_path / "sortie") for word in argv]
    (tmp_path / "sortie").mkdir()
    assert main(filled) == 0, capsys.readouterr().err


def test_training_and_supervisor_after_the_command(shop, capsys) -> None:
    assert main(["verify", "--db", str(shop), "--training", "--supervisor", "Gérant"]) == 0
    assert "Journal de FORMATION vérifié" in capsys.readouterr().out
    assert shop.with_name("boutique.formation.sqlite").exists()


def test_a_value_given_twice_keeps_the_last(shop, tmp_path, capsys) -> None:
    assert main(["--db", str(tmp_path / "absent.sqlite"), "verify", "--db", str(shop)]) == 0
    assert main(["--db", str(shop), "verify", "--db", str(tmp_path / "absent.sqlite")]) == 2
    assert "aucun journal" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["close", "--year", "99999"], "--year : Exercice invalide : '99999' (attendu AAAA"),
        (["close", "--year", "0"], "Exercice invalide : '0'"),
        (["close", "--year", "-1"], "Exercice invalide : '-1'"),
        (["close", "--year", "0000"], "Exercice invalide : '0000'"),
        (["close", "--day", ""], "--day : Date invalide : ''"),
        (["close", "--day", "2026-13-45"], "Date invalide : '2026-13-45'"),
        (["close", "--day", "0001-01-01"], "Date invalide : '0001-01-01'"),
        (["close", "--month", "2026-13"], "--month : Période invalide : '2026-13'"),
        (["close", "--month", "2026-1"], "Période invalide : '2026-1'"),
        (["close", "--day", "2026-01-05", "--cash-counted", "abc"], "Espèces comptées : « abc »"),
        (["close", "--day", "2026-01-05", "--cash-counted", "1,234"], "deux décimales au plus"),
        (["close"], "précisez l'une de ces options : --day --month --year"),
        (["close", "--day", "2026-01-05", "--year", "2025"], "--year : incompatible avec --day"),
        (["close", "--day"], "--day : une valeur est attendue"),
        (["clore"], "COMMANDE : choix invalide : 'clore' (possibles : 'verify', 'close'"),
        (["verify", "--vite"], "arguments non reconnus : --vite"),
        (["pdp", "envoyer"], "ACTION : choix invalide : 'envoyer'"),
        (["pdp", "report", "--month", "octobre"], "--month : Période invalide : 'octobre'"),
        (["pdp-sandbox", "--port", "65536"], "--port : 65536 : attendu de 1 à 65535."),
        (["pdp-sandbox", "--port", "huit"], "--port : nombre entier attendu : 'huit'."),
        (["demo", "--days", "0"], "--days : 0 : attendu de 1 à 3660."),
        (["verify", "--workers", "0"], "--workers : 0 : attendu de 1 à 256."),
        (["export"], "à préciser : FORMAT"),
        (["export", "fec"], "à préciser : --year"),
        (["export", "csv", "--out", ""], "--out : indiquez le fichier à écrire."),
        (["export", "csv", "--out", "v.csv", "--min", "dix"], "Montant min. : « dix »"),
        (["export", "csv", "--out", "v.csv", "--from", "2026-02-30"], "--from : Date invalide"),
        (["invoice", "validate", "absente.pdf"], "FICHIER : fichier introuvable : 'absente.pdf'."),
        (["archive", "verify", "absente.zip"], "fichier introuvable : 'absente.zip'"),
        (["backup", "restore", "absente.sqlite"], "fichier introuvable : 'absente.sqlite'"),
        (
            ["archive", "purge", "--year", "2019", "--archive", "absente.zip"],
            "--archive : fichier introuvable",
        ),
        (["--db", "", "verify"], "--db : indiquez le fichier du journal"),
        (["--db", ".", "verify"], "--db : . est un dossier"),
        (["--training=oui", "verify"], "--training : cette option ne prend pas de valeur : 'oui'"),
        (["verify", "--till"], "--till : une valeur est attendue"),
        (["central", "upload"], "à préciser : --to"),
        (["central", "close", "--day", "21/11/2026"], "--day : Date invalide : '21/11/2026'"),
        (["verify", "\ufffe"], "l'argument n°2 contient un caractère non permis (U+FFFE)"),
        (
            ["--db", "a\ud800b", "verify"],
            "l'argument n°2 contient un caractère non permis (U+D800)",
        ),
        (["verify", "--db", "a\x00b"], "l'argument n°3 contient un caractère non permis (U+0000)"),
    ],
)
def test_usage_errors_are_french_and_exit_2(argv, message, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert message in err
    assert err.rstrip().splitlines()[-1].startswith("Erreur : ")
    assert out == ""


def test_usage_and_help_are_french(capsys) -> None:
    assert main(["close", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage : comptoir close")
    assert "options :" in out and "options globales (avant ou après la commande) :" in out
    assert "-h, --help" in out and "afficher cette aide" in out
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "arguments :" in out and "COMMANDE" in out
    assert main(["close"]) == 2
    assert capsys.readouterr().err.startswith("usage : comptoir close")


def test_version_anywhere(capsys) -> None:
    assert main(["--version"]) == 0
    assert main(["archive", "list", "--version"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"Comptoir {app_version()}"] * 2


def app_version() -> str:
    from app import __version__

    return __version__


def test_a_file_that_is_not_a_ledger(tmp_path, capsys) -> None:
    text = tmp_path / "notes.sqlite"
    text.write_text("des notes, pas un journal\n")
    assert main(["archive", "list", "--db", str(text)]) == 2
    assert f"{text} n'est pas un journal Comptoir." in capsys.readouterr().err


def test_an_invoice_exported_into_a_new_folder(shop, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["invoice", "export", "F2026-000001", "--out", "factures/", "--db", str(shop)]) == 0
    assert (tmp_path / "factures" / "F2026-000001.pdf").read_bytes()[:5] == b"%PDF-"
