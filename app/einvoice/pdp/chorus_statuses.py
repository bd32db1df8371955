"""What Chorus Pro says of a deposit, in the shop's words: the flow's states (``IN_…``,
``QP_…``) until it is integrated, then the invoice's business status, each with its
French label and the nearest lifecycle status of the application (cdar.STATUS_LABELS).
The codes are those of the specifications folder (``chorus-pro.md``)."""

from __future__ import annotations

from typing import NamedTuple

PENDING_LABEL = "Déposée, en cours de traitement par Chorus Pro"


class _Known(NamedTuple):
    label: str
    lifecycle_code: str | None  # nearest status of the app (cdar.STATUS_LABELS), if any
    final: bool = False


# The flow's own states come first; once it is integrated, the invoice's status.
STATUSES: dict[str, _Known] = {
    "IN_RECU": _Known(PENDING_LABEL, "200"),
    "IN_TRAITE_SE_CPP": _Known(PENDING_LABEL, "200"),
    "IN_EN_ATTENTE_TRAITEMENT_CPP": _Known(PENDING_LABEL, "200"),
    "IN_EN_COURS_TRAITEMENT_CPP": _Known(PENDING_LABEL, "200"),
    "IN_EN_ATTENTE_RETRAITEMENT_CPP": _Known(PENDING_LABEL, "200"),
    "IN_INTEGRE": _Known("Déposée", "200"),
    "IN_INTEGRE_PARTIEL": _Known("Déposée", "200"),
    "IN_REJETE": _Known("Rejetée par Chorus Pro (fichier non conforme)", "213", final=True),
    "IN_INCIDENTE": _Known("Incident de traitement chez Chorus Pro : à redéposer", None, True),
    # The receivability check of the file, before integration.
    "QP_RECEVABLE": _Known(PENDING_LABEL, "200"),
    "QP_RECEVABLE_AVEC_ERREUR": _Known(PENDING_LABEL + " (recevable avec erreurs)", "200"),
    "QP_IRRECEVABLE": _Known("Rejetée par Chorus Pro (fichier irrecevable)", "213", final=True),
    "DEPOSEE": _Known("Déposée", "200"),
    "EN_COURS_ACHEMINEMENT": _Known("En cours d'acheminement", None),
    "MISE_A_DISPOSITION": _Known("Mise à disposition", "203"),
    "A_RECYCLER": _Known("À recycler (destinataire ou service à corriger)", None),
    # Chorus Pro's rejection comes from the buyer: the app's "Refusée", not the platform's
    # "Rejetée" (213), though Chorus Pro calls it "Rejetée".
    "REJETEE": _Known("Rejetée", "210", final=True),
    "SUSPENDUE": _Known("Suspendue", "208"),
    "COMPLETEE": _Known("Complétée", "209"),
    "SERVICE_FAIT": _Known("Service fait", "205"),
    "MANDATEE": _Known("Mandatée", None),
    "MISE_A_DISPOSITION_COMPTABLE": _Known("Mise à disposition du comptable", None),
    "COMPTABILISEE": _Known("Comptabilisée", None),
    "MISE_EN_PAIEMENT": _Known("Mise en paiement", "211", final=True),
}
INTEGRATED = frozenset({"IN_INTEGRE", "IN_INTEGRE_PARTIEL"})


class ChorusStatus(NamedTuple):
    """Where a deposit stands: Chorus Pro's code, the French label, the reason given."""

    code: str
    label: str
    reason: str

    @property
    def lifecycle_code(self) -> str | None:
        known = STATUSES.get(self.code)
        return known.lifecycle_code if known else None

    @property
    def final(self) -> bool:
        known = STATUSES.get(self.code)
        return bool(known and known.final)


def describe(code: str, reason: str = "") -> ChorusStatus:
    known = STATUSES.get(code)
    if known is not None:
        return ChorusStatus(code, known.label, reason)
    if code.startswith(("IN_", "QP_")):
        return ChorusStatus(code, f"{PENDING_LABEL} (état « {code} »)", reason)
    return ChorusStatus(code, f"Statut Chorus Pro « {code} »", reason)
