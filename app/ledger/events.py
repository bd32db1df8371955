"""Technical events journal (JET): chained and signed like every other record."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from app.ledger.journal import Recorded, append
from app.ledger.records import RecordType


class EventCode(StrEnum):
    LEDGER_CREATED = "LEDGER_CREATED"
    START = "START"
    STOP = "STOP"
    LOGIN = "LOGIN"
    LOGOUT = "LOGOUT"
    LOGIN_FAILED = "LOGIN_FAILED"
    VERIFY = "VERIFY"
    INTEGRITY_FAILURE = "INTEGRITY_FAILURE"
    CLOCK_ANOMALY = "CLOCK_ANOMALY"
    CLOCK_JUMP = "CLOCK_JUMP"  # written by journal.append itself (CLOCK_JUMP_EVENT)
    KEY_IMPORT = "KEY_IMPORT"
    EXPORT = "EXPORT"
    RESTORE = "RESTORE"
    BACKUP = "BACKUP"
    TRAINING_ON = "TRAINING_ON"
    TRAINING_OFF = "TRAINING_OFF"
    VERSION_CHANGE = "VERSION_CHANGE"
    PRINT = "PRINT"
    DRAWER_OPEN = "DRAWER_OPEN"
    VAT_RATE_CHANGE = "VAT_RATE_CHANGE"
    EREPORTING = "EREPORTING"
    PURGE = "PURGE"
    AUDIT_PACK = "AUDIT_PACK"
    CARD_SETTLEMENT = "CARD_SETTLEMENT"
    TSA_SET = "TSA_SET"
    SELF_BILLING_MANDATE = "SELF_BILLING_MANDATE"

    @property
    def label(self) -> str:
        return EVENT_LABELS.get(self, self.value)


EVENT_LABELS = {
    EventCode.LEDGER_CREATED: "Création du journal",
    EventCode.START: "Démarrage",
    EventCode.STOP: "Arrêt",
    EventCode.LOGIN: "Connexion",
    EventCode.LOGOUT: "Déconnexion",
    EventCode.LOGIN_FAILED: "Échec de connexion",
    EventCode.VERIFY: "Vérification d'intégrité",
    EventCode.INTEGRITY_FAILURE: "Anomalie d'intégrité",
    EventCode.CLOCK_ANOMALY: "Anomalie d'horloge",
    EventCode.CLOCK_JUMP: "Avance d'horloge confirmée",
    EventCode.KEY_IMPORT: "Import de la clé de signature",
    EventCode.EXPORT: "Export",
    EventCode.RESTORE: "Restauration",
    EventCode.BACKUP: "Sauvegarde",
    EventCode.TRAINING_ON: "Passage en mode formation",
    EventCode.TRAINING_OFF: "Sortie du mode formation",
    EventCode.VERSION_CHANGE: "Changement de version du logiciel",
    EventCode.PRINT: "Impression",
    EventCode.DRAWER_OPEN: "Ouverture du tiroir-caisse",
    EventCode.VAT_RATE_CHANGE: "Changement de taux de TVA d'un article",
    EventCode.EREPORTING: "Transmission de l'e-reporting",
    EventCode.PURGE: "Purge d'une période archivée",
    EventCode.AUDIT_PACK: "Dossier pour un contrôle fiscal",
    EventCode.CARD_SETTLEMENT: "Régularisation d'un paiement par carte interrompu",
    EventCode.TSA_SET: "Choix de l'autorité d'horodatage",
    EventCode.SELF_BILLING_MANDATE: "Mandat d'autofacturation d'un fournisseur",
}


def log_event(session: Session, code: EventCode, *, operator: str, **detail: Any) -> Recorded:
    """Append a technical event; ``detail`` must hold canonical values only."""
    return append(
        session,
        RecordType.EVENT,
        {"code": EventCode(code).value, "detail": detail},
        operator=operator,
    )
