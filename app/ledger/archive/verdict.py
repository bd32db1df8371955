"""What the verification of an archive says: its findings, its verdict in French, and
how a period is named in a sentence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.ledger.closures import month_label


@dataclass(frozen=True)
class ArchiveFinding:
    file: str | None  # name inside the ZIP, e.g. "tickets.csv"; None when not about one file
    seq: int | None
    message: str  # plain French


@dataclass
class ArchiveReport:
    findings: list[ArchiveFinding]
    manifest: dict[str, Any]
    records: int
    cancelled: bool
    key_fingerprint: str = ""
    closures_checked: int = 0
    closures_partial: int = 0
    records_key_id: str | None = None  # the key in force at the end of the archived range
    time_stamp: str | None = None  # what a sound RFC 3161 token says (archive/timestamp.py)

    @property
    def ok(self) -> bool:
        return not self.findings and not self.cancelled

    def summary(self) -> str:
        """A French paragraph: the verdict, what was checked, and which key signs."""
        if self.cancelled:
            return "Vérification de l'archive interrompue avant la fin."
        manifest = self.manifest
        what = period_label(manifest["period"]) if manifest.get("period") else ""
        if self.ok:
            partial = (
                f" ; {grouped(self.closures_partial)} clôture(s) commencée(s) avant l'archive "
                "n'ont pu être recalculées qu'en partie"
                if self.closures_partial
                else ""
            )
            verdict = (
                f"Archive intègre : {what}, {grouped(self.records)} enregistrements "
                f"(n°{grouped(manifest['first_seq'])} à "
                f"n°{grouped(manifest['last_seq'])}) vérifiés : "
                "empreintes, signatures, chaînage, numérotation, "
                f"{grouped(self.closures_checked)} clôture(s) recalculée(s){partial}. Les fichiers "
                "sont ceux du manifeste et reproduisent fidèlement les données signées."
            )
        else:
            first = self.findings[0].message.rstrip(".")
            more = len(self.findings) - 1
            tail = f" ({grouped(more)} autre(s) anomalie(s))" if more else ""
            about = f" ({what})" if what else ""
            verdict = f"Archive NON intègre{about} : {first[:1].lower()}{first[1:]}{tail}."
        if self.ok and self.time_stamp:
            verdict = f"{verdict} {self.time_stamp}"
        if not self.key_fingerprint:
            return verdict
        signer = manifest.get("key_id")
        changed = (
            f" Les enregistrements de la période sont signés par la clé {self.records_key_id}, "
            "remplacée depuis."
            if self.records_key_id and self.records_key_id != signer
            else ""
        )
        return (
            f"{verdict} L'archive est signée par la clé {signer} qu'elle contient (empreinte "
            f"{self.key_fingerprint}) : comparez cette empreinte à celle du journal de la "
            f"boutique pour vous assurer qu'elle en provient.{changed}"
        )


def period_label(period: Any) -> str:
    """How a period is named in a sentence: l'exercice 2026, le mois de mars 2026."""
    text = str(period)
    if len(text) == 4 and text.isdigit():
        return f"l'exercice {text}"
    try:
        return f"le mois de {month_label(text)}"
    except (ValueError, IndexError):
        return f"la période {text}"


def of_period(period: Any) -> str:
    """The period after a noun: "de l'exercice 2026", "du mois de mars 2026"."""
    label = period_label(period)
    return f"du {label[3:]}" if label.startswith("le ") else f"de {label}"


def grouped(value: Any) -> str:
    """A number with its thousands apart, as French writes them."""
    return f"{value:,}".replace(",", "\u202f") if isinstance(value, int) else str(value)


def sentence(text: str) -> str:
    """The text with a capital first letter."""
    return text[:1].upper() + text[1:]
