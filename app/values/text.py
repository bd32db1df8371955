"""Texts typed by people that the ledger records: labels, names, reasons."""

from __future__ import annotations

import unicodedata

from app.errors import InvalidInput

MAX_LABEL_CHARS = 120

_CONTROL_CATEGORIES = frozenset({"Cc", "Cs"})


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
    return text
