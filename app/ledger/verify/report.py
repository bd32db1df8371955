"""What a verification says: findings about records, a verdict, and the French wording
every source (a ledger, an archive, a central) shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.ledger.chain import GENESIS_PREV_HASH
from app.ledger.records import RECORD_LABELS, RecordType, document_number


@dataclass(frozen=True)
class Finding:
    """One problem found, about one record (seq) when it can be named."""

    seq: int | None
    rule: str
    message: str


@dataclass
class Report:
    records: int = 0
    closures: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS_PREV_HASH
    keys: int = 0
    findings: list[Finding] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    cancelled: bool = False
    # Incremental verification: the checkpoint it started from (None: from the first record).
    since_seq: int | None = None
    # What a later incremental verification may start from (canonical values), when sound.
    checkpoint: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.findings and not self.cancelled

    @property
    def first_problem(self) -> Finding | None:
        return min(self.findings, key=lambda f: f.seq or 0) if self.findings else None

    def summary(self) -> str:
        if self.cancelled:
            return "Vérification interrompue avant la fin."
        if self.ok:
            since = (
                f" depuis le point de contrôle n°{self.since_seq}"
                if self.since_seq is not None
                else ""
            )
            return (
                f"Journal intègre : {count(self.records)} enregistrements vérifiés{since} "
                f"(empreintes, signatures, numérotation, {count(self.closures)} clôtures) ; "
                f"dernière empreinte {self.last_hash[:16]}…"
            )
        first = self.first_problem
        assert first is not None
        more = len(self.findings) - 1
        tail = f" ({count(more)} autre(s) anomalie(s))" if more else ""
        return f"Journal NON intègre : {first.message}{tail}"


def count(value: int) -> str:
    """A count as written in French: thin spaces between thousands."""
    return f"{value:,}".replace(",", "\u202f")


def record_name(seq: int, rtype: str | None, number: int | None) -> str:
    if rtype in RECORD_LABELS and number is not None:
        label = RECORD_LABELS[RecordType(rtype)]
        return f"l'enregistrement n°{seq} ({label} {document_number(rtype, number)})"
    return f"l'enregistrement n°{seq}"


# -- the wording of each rule ---------------------------------------------------------------
def sequence_gap(prev_seq: int, seq: int) -> str:
    if seq <= prev_seq:
        return (
            f"la séquence passe de {prev_seq} à {seq} : des enregistrements sont en trop "
            "ou déplacés."
        )
    return (
        f"la séquence passe de {prev_seq} à {seq} : "
        f"{seq - prev_seq - 1} enregistrement(s) manquant(s)."
    )


def broken_link(name: str) -> str:
    return (
        f"{name} ne suit pas l'enregistrement précédent "
        "(chaînage rompu : enregistrement supprimé, inséré ou déplacé)."
    )


def changed(name: str) -> str:
    return f"{name} a été modifié : son empreinte ne correspond plus à son contenu."


def illegible(name: str) -> str:
    return f"{name} est illisible (contenu canonique corrompu)."


def wrong_key(name: str, signer: Any) -> str:
    return f"{name} est signé par une clé ({signer}) qui n'était pas la clé en vigueur."


def bad_signature(name: str) -> str:
    return f"{name} porte une signature invalide."


def foreign(name: str) -> str:
    return f"{name} appartient à un autre journal."


def backdated(name: str) -> str:
    return f"{name} est daté avant l'enregistrement qui le précède."


def unendorsed(seq: int, reason: Any) -> str:
    because = f" (motif : {reason})" if reason is not None else ""
    return (
        f"changement de clé de signature non endossé par la clé précédente à "
        f"l'enregistrement n°{seq}{because} : les enregistrements suivants ne sont plus "
        "garantis par la clé d'origine."
    )


def numbering_message(rtype: str, last: int, number: int) -> str:
    label = RECORD_LABELS[RecordType(rtype)] if rtype in RECORD_LABELS else rtype
    if number <= last:
        return f"numérotation des documents « {label} » : le n°{number} est en double."
    return (
        f"numérotation des documents « {label} » : après le n°{last} vient le n°{number} "
        f"({number - last - 1} numéro(s) manquant(s))."
    )


def reused_message(rtype: str, number: int) -> str:
    label = RECORD_LABELS[RecordType(rtype)] if rtype in RECORD_LABELS else rtype
    return (
        f"numérotation des documents « {label} » : le n°{number} avait déjà été attribué à "
        "un document purgé."
    )


def closure_name(seq: int, rtype: str, body: dict[str, Any]) -> str:
    label = RECORD_LABELS[RecordType(rtype)].lower()
    return f"la {label} du {body.get('period', '?')} (enregistrement n°{seq})"
