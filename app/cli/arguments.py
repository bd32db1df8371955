"""The values the command line accepts, checked as it is parsed: a wrong date, period,
amount, number or file is a usage error (exit code 2) before any ledger is opened.

Each function takes the text typed and returns the value, or raises ArgumentTypeError
with a French sentence that argparse prints after the option's name.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from app.errors import ComptoirError

# A fiscal year, or the year of a day or a month: four digits, within what the ledger's
# dates (and the day before the first, the day after the last) can hold.
FIRST_YEAR, LAST_YEAR = 1900, 9998
YEARS = f"de {FIRST_YEAR} à {LAST_YEAR}"


def _year_number(text: str) -> int | None:
    if len(text) != 4 or not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if FIRST_YEAR <= number <= LAST_YEAR else None


def year(text: str) -> str:
    """A fiscal year, AAAA."""
    if _year_number(text) is None:
        raise argparse.ArgumentTypeError(f"Exercice invalide : {text!r} (attendu AAAA, {YEARS}).")
    return text


def month(text: str) -> str:
    """A month, AAAA-MM."""
    head, dash, tail = text.partition("-")
    if (
        not dash
        or _year_number(head) is None
        or len(tail) != 2
        or not tail.isascii()
        or not tail.isdigit()
        or not 1 <= int(tail) <= 12
    ):
        raise argparse.ArgumentTypeError(
            f"Période invalide : {text!r} (attendu un mois AAAA-MM, {YEARS})."
        )
    return text


def day(text: str) -> date:
    """A day, AAAA-MM-JJ."""
    wrong = argparse.ArgumentTypeError(f"Date invalide : {text!r} (attendu AAAA-MM-JJ, {YEARS}).")
    if len(text) != 10 or not text.isascii():
        raise wrong
    try:
        chosen = date.fromisoformat(text)
    except ValueError:
        raise wrong from None
    if not FIRST_YEAR <= chosen.year <= LAST_YEAR:
        raise wrong
    return chosen


def amount(what: str) -> Callable[[str], int]:
    """An amount in euros as typed in France (152,40) read as cents."""

    def cents(text: str) -> int:
        from app.values.money import parse_cents

        try:
            return parse_cents(text, what)
        except ComptoirError as exc:
            raise argparse.ArgumentTypeError(exc.message) from None

    return cents


def whole(low: int, high: int) -> Callable[[str], int]:
    """A whole number from ``low`` to ``high``."""

    def number(text: str) -> int:
        stripped = text.strip()
        digits = stripped.removeprefix("-")
        if not digits.isascii() or not digits.isdigit() or len(digits) > 12:
            raise argparse.ArgumentTypeError(f"nombre entier attendu : {text!r}.")
        value = int(stripped)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} : attendu de {low} à {high}.")
        return value

    return number


def existing_file(text: str) -> Path:
    """A file that exists and can be read."""
    path = Path(text)
    try:
        found = bool(text) and path.is_file()
    except (OSError, ValueError):  # a name too long for the system, a NUL byte
        found = False
    if not found:
        raise argparse.ArgumentTypeError(f"fichier introuvable : {text!r}.")
    return path


def _is(test: Callable[[Path], bool], text: str) -> bool:
    try:
        return test(Path(text).expanduser())
    except (OSError, ValueError):  # a name too long for the system: said when it is used
        return False
    except RuntimeError:  # « ~name » of a user who has no home folder here
        return False


def output_file(text: str) -> str:
    """A file to write (an export): neither empty nor a folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("indiquez le fichier à écrire.")
    if _is(Path.is_dir, text):
        raise argparse.ArgumentTypeError(f"{text} est un dossier : indiquez le fichier à écrire.")
    return text


def folder(text: str) -> str:
    """A folder to write into, made if need be: neither empty nor a file."""
    if not text.strip():
        raise argparse.ArgumentTypeError("indiquez un dossier.")
    if _is(Path.exists, text) and not _is(Path.is_dir, text):
        raise argparse.ArgumentTypeError(f"{text} est un fichier, pas un dossier.")
    return text


def file_or_folder(text: str) -> str:
    """Where to write a document: a file, or a folder (one that exists, or a name ending
    with « / »)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("indiquez un fichier ou un dossier.")
    return text


def ledger_target(text: str) -> str:
    """``--db``: a ledger file's path or a database URL; never empty."""
    if not text.strip():
        raise argparse.ArgumentTypeError("indiquez le fichier du journal ou l'adresse de la base.")
    try:
        Path(text).expanduser()
    except RuntimeError:
        raise argparse.ArgumentTypeError(
            f"{text} : ce dossier personnel n'existe pas sur cet ordinateur."
        ) from None
    if _is(Path.is_dir, text):
        raise argparse.ArgumentTypeError(
            f"{text} est un dossier : indiquez le fichier du journal qu'il contient."
        )
    return text


def unusable_character(words: Sequence[str]) -> str | None:
    """A French sentence naming the first character in ``words`` that no file name, name
    or label may hold (a surrogate left by bytes that are not UTF-8, a non-character such
    as U+FFFE, a control character), or None when every word is clean."""
    for position, word in enumerate(words, start=1):
        for char in word:
            code = ord(char)
            if (
                0xD800 <= code <= 0xDFFF
                or code in (0xFFFE, 0xFFFF)
                or (code < 0x20 and char not in "\t\n\r")
            ):
                return (
                    f"l'argument n°{position} contient un caractère non permis (U+{code:04X}) : "
                    "retapez-le, ou renommez le fichier qu'il désigne."
                )
    return None


def line_quantity(text: str) -> tuple[int, Decimal]:
    """« 2:1,5 »: a document's line number (from 1) and a quantity of it."""
    number, colon, qty = text.partition(":")
    wrong = argparse.ArgumentTypeError(
        f"ligne et quantité attendues sous la forme N:QTÉ (ex. 2:1,5), pas {text!r}."
    )
    if not colon or not number.strip().isdigit() or not number.strip().isascii():
        raise wrong
    try:
        quantity = Decimal(qty.strip().replace(",", "."))
    except ArithmeticError:
        raise wrong from None
    if not quantity.is_finite() or quantity <= 0 or int(number) < 1:
        raise wrong
    return int(number), quantity
