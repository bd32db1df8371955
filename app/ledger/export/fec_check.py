"""A FEC held to the rules of article A47 A-1 of the LPF, as the tax administration's own
checker applies them, so that the file handed to an auditor is refused by nobody.

The checks read the file as the administration will, from its bytes: name, header, the 18
columns, the separator, dates, amounts, the balance of every entry and the third-party
columns. Each problem is a finding with the line it was seen on; the checker never stops
at the first one, since an accountant fixes them all at once.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO

from app.ledger.export.fec import FEC_COLUMNS

COLUMNS = FEC_COLUMNS
"""The 18 columns of a FEC kept in debit/credit form, in the order the article sets."""

REQUIRED = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "ValidDate",
)
DATES = ("EcritureDate", "PieceDate", "ValidDate")
THIRD_PARTY_PREFIXES = ("40", "41")
"""Suppliers (40x) and customers (41x): the only accounts that carry an auxiliary account."""

_NAME_RE = re.compile(r"(?P<siren>[0-9]{9})FEC(?P<closing>[0-9]{8})\.(?:txt|csv)")
_AMOUNT_RE = re.compile(r"-?[0-9]+(?:,[0-9]{1,2})?")
_MAX_FINDINGS = 200


@dataclass(frozen=True)
class FecFinding:
    line: int  # 0: the file itself
    rule: str
    message: str


@dataclass
class FecCheck:
    """What the checker saw: counts and findings."""

    file: str
    lines: int = 0
    entries: int = 0
    debit_cents: int = 0
    credit_cents: int = 0
    findings: list[FecFinding] = field(default_factory=list)
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, line: int, rule: str, message: str) -> None:
        if len(self.findings) >= _MAX_FINDINGS:
            self.truncated = True
            return
        self.findings.append(FecFinding(line, rule, message))

    def summary(self) -> str:
        if self.ok:
            return (
                f"FEC conforme aux règles de l'article A47 A-1 du LPF : {self.entries} "
                f"écritures, {self.lines} lignes, équilibrées au centime."
            )
        count = len(self.findings)
        more = " (liste tronquée)" if self.truncated else ""
        noun = "anomalie" if count == 1 else "anomalies"
        return (
            f"FEC NON conforme : {count} {noun}{more}, la première ligne {self.findings[0].line}."
        )


# Every line repeats a few dates and amounts: parsing each once keeps the check of a busy
# year's FEC to seconds.
@lru_cache(maxsize=4096)
def _date(text: str) -> date | None:
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


@lru_cache(maxsize=1 << 16)
def _cents(text: str) -> int | None:
    if not _AMOUNT_RE.fullmatch(text):
        return None
    whole, _, part = text.partition(",")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int(part.ljust(2, "0") or 0))


def _check_name(name: str, check: FecCheck) -> date | None:
    match = _NAME_RE.fullmatch(name)
    if match is None:
        check.add(
            0,
            "A47A-1 nom",
            f"Nom de fichier « {name} » : attendu SIRENFECAAAAMMJJ.txt "
            "(SIREN, « FEC », date de clôture de l'exercice).",
        )
        return None
    closing = _date(match["closing"])
    if closing is None:
        check.add(0, "A47A-1 nom", f"Date de clôture illisible dans le nom « {name} ».")
    return closing


def _separator(header: str) -> str | None:
    if "\t" in header:
        return "\t"
    if "|" in header:
        return "|"
    return None


def check_fec_bytes(name: str, data: bytes) -> FecCheck:
    """Every rule the administration's checker applies to a debit/credit FEC."""
    return _check(name, lambda encoding: io.TextIOWrapper(io.BytesIO(data), encoding, newline=""))


def check_fec(path: Path) -> FecCheck:
    """``check_fec_bytes`` of a file, read line by line: a year of FEC is never held whole."""
    return _check(path.name, lambda encoding: path.open(encoding=encoding, newline=""))


def _check(name: str, opener: Callable[[str], IO[str]]) -> FecCheck:
    for encoding in ("utf-8-sig", "iso-8859-15"):  # the two encodings the article admits
        check = FecCheck(file=name)
        closing = _check_name(name, check)
        try:
            with opener(encoding) as handle:
                _check_text(_lines(handle), closing, check)
        except UnicodeDecodeError:
            continue
        return check
    raise AssertionError("ISO-8859-15 decodes every byte")  # pragma: no cover


def _lines(handle: IO[str]) -> Iterator[str]:
    for line in handle:
        yield line.removesuffix("\n").removesuffix("\r")


def _check_text(lines: Iterator[str], closing: date | None, check: FecCheck) -> None:
    header_line = next(lines, None)
    if header_line is None:
        check.add(0, "A47A-1 contenu", "Le fichier est vide.")
        return
    separator = _separator(header_line)
    if separator is None:
        check.add(1, "A47A-1 séparateur", "Séparateur introuvable : tabulation ou « | » attendu.")
        return
    if tuple(header_line.split(separator)) != COLUMNS:
        check.add(
            1,
            "A47A-1 en-tête",
            "La première ligne doit nommer les 18 colonnes dans l'ordre de l'article A47 A-1 "
            f"({', '.join(COLUMNS[:3])}…).",
        )
        return
    _check_lines(lines, separator, closing, check)


def _check_lines(
    lines: Iterator[str], separator: str, closing: date | None, check: FecCheck
) -> None:
    balance: dict[tuple[str, str], int] = defaultdict(int)
    first_line: dict[tuple[str, str], int] = {}
    entry_dates: dict[tuple[str, str], str] = {}
    opening = date(closing.year - 1, closing.month, closing.day) if closing else None
    previous_key: tuple[str, str] | None = None
    for number, line in enumerate(lines, start=2):
        check.lines += 1
        fields = line.split(separator)
        if len(fields) != len(COLUMNS):
            check.add(
                number,
                "A47A-1 colonnes",
                f"{len(fields)} champs au lieu de 18 (un séparateur ou un saut de ligne "
                "dans un champ ?).",
            )
            continue
        row = dict(zip(COLUMNS, fields, strict=True))
        for name in REQUIRED:
            if not row[name].strip():
                check.add(number, "A47A-1 obligatoire", f"Champ {name} vide.")
        for name in DATES:
            if row[name] and _date(row[name]) is None:
                check.add(
                    number, "A47A-1 date", f"{name} « {row[name]} » : date AAAAMMJJ attendue."
                )
        if row["DateLet"] and _date(row["DateLet"]) is None:
            check.add(
                number, "A47A-1 date", f"DateLet « {row['DateLet']} » : date AAAAMMJJ attendue."
            )
        day = _date(row["EcritureDate"])
        if day and opening and closing and not opening < day <= closing:
            check.add(
                number,
                "A47A-1 exercice",
                f"EcritureDate {day:%d/%m/%Y} hors de l'exercice clos le {closing:%d/%m/%Y}.",
            )
        debit, credit = _cents(row["Debit"]), _cents(row["Credit"])
        for name, value in (("Debit", debit), ("Credit", credit)):
            if value is None and row[name]:
                check.add(
                    number,
                    "A47A-1 montant",
                    f"{name} « {row[name]} » : montant attendu avec une virgule décimale, "
                    "sans séparateur de milliers.",
                )
        if debit is not None and credit is not None:
            if debit and credit:
                check.add(
                    number, "A47A-1 montant", "Une ligne porte à la fois un débit et un crédit."
                )
            check.debit_cents += debit
            check.credit_cents += credit
        _check_third_party(row, number, check)
        if bool(row["Montantdevise"]) != bool(row["Idevise"]):
            check.add(number, "A47A-1 devise", "Montantdevise et Idevise vont ensemble.")
        key = (row["JournalCode"], row["EcritureNum"])
        if key != previous_key:
            if key in first_line:
                check.add(
                    number,
                    "A47A-1 écriture",
                    f"Les lignes de l'écriture {key[1]} du journal {key[0]} ne se suivent pas.",
                )
            else:
                first_line[key] = number
                entry_dates[key] = row["EcritureDate"]
                check.entries += 1
            previous_key = key
        elif entry_dates.get(key) != row["EcritureDate"]:
            check.add(number, "A47A-1 écriture", f"Écriture {key[1]} : dates différentes.")
        if debit is not None and credit is not None:
            balance[key] += debit - credit
    for key, difference in balance.items():
        if difference:
            check.add(
                first_line[key],
                "A47A-1 équilibre",
                f"Écriture {key[1]} du journal {key[0]} déséquilibrée de "
                f"{abs(difference) // 100},{abs(difference) % 100:02d}.",
            )


def _check_third_party(row: dict[str, str], number: int, check: FecCheck) -> None:
    has_number, has_label = bool(row["CompAuxNum"].strip()), bool(row["CompAuxLib"].strip())
    if has_number != has_label:
        check.add(number, "A47A-1 tiers", "CompAuxNum et CompAuxLib vont ensemble.")
    if has_number and not row["CompteNum"].startswith(THIRD_PARTY_PREFIXES):
        check.add(
            number,
            "A47A-1 tiers",
            f"Compte auxiliaire sur le compte {row['CompteNum']}, qui n'est pas un compte de "
            "tiers (clients 41, fournisseurs 40).",
        )
