"""Texts typed by people that the ledger records: labels, names, reasons."""

from __future__ import annotations

import unicodedata

from app.errors import InvalidInput

MAX_LABEL_CHARS = 120

_CONTROL_CATEGORIES = frozenset({"Cc", "Cs"})


def _xml_char(code: int) -> bool:
    """The XML 1.0 ``Char`` production: what an invoice's XML can carry."""
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _describe(code: int) -> str:
    if 0xD800 <= code <= 0xDFFF:
        return f"un demi-caractère isolé (U+{code:04X})"
    if code < 0x20:
        return f"un caractère de contrôle (U+{code:04X})"
    return f"un caractère non valide (U+{code:04X})"


def check_xml_text(text: str, what: str) -> str:
    """``text`` unchanged, or InvalidInput naming the first character an XML document (an
    invoice, an archive) cannot carry: C0 controls other than tab, CR and LF, lone
    surrogates, U+FFFE and U+FFFF. Refused where it is typed, so that nothing recorded
    or saved can later make a document impossible to write. ``what`` starts the message
    ("Le nom", "L'adresse")."""
    for index, char in enumerate(text):
        if not _xml_char(ord(char)):
            raise InvalidInput(
                f"{what} contient {_describe(ord(char))} en position {index + 1} : "
                "retirez-le puis recommencez."
            )
    return text


def validate_label(label: object) -> str:
    """The label stripped (and NFC-normalised), or InvalidInput."""
    if not isinstance(label, str):
        raise InvalidInput("Le libellé doit être un texte.")
    try:
        label.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("Le libellé contient des caractères invalides.") from None
    # The same word typed with composed or decomposed accents must be recorded identically.
    text = unicodedata.normalize("NFC", label.strip())
    if not text:
        raise InvalidInput("Le libellé ne peut pas être vide.")
    if len(text) > MAX_LABEL_CHARS:
        raise InvalidInput(
            f"Le libellé ne doit pas dépasser {MAX_LABEL_CHARS} caractères (il en a {len(text)})."
        )
    if any(unicodedata.category(char) in _CONTROL_CATEGORIES for char in text):
        raise InvalidInput(
            "Le libellé contient des caractères de contrôle (tabulation, retour à la ligne…)."
        )
    return check_xml_text(text, "Le libellé")  # what is left: U+FFFE, U+FFFF
