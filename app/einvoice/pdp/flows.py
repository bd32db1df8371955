"""What the AFNOR XP Z12-013 Flow API exchanges: a deposit's answer, a listed flow with
its acknowledgement, and ``FlowPlatform``, what the outbox and the sync need of a
platform (``client.HttpFlowClient`` over HTTP, ``sandbox`` on 127.0.0.1)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

PAGE_SIZE = 100  # the API's maximum


@dataclass(frozen=True)
class FlowRef:
    """What the platform answered to a deposit."""

    flow_id: str
    tracking_id: str
    submitted_at: str


# The processing rules of the Flow API (version 1.2.0 adds B2G, public-sector buyers
# reached through the plateforme agréée); a platform may name others, kept as read.
PROCESSING_RULES = ("B2B", "B2BInt", "B2C", "B2G", "OutOfScope", "ArchiveOnly", "NotApplicable")
# The acknowledgement reason codes of the Flow API, in French.
ACK_REASONS = {
    "EmptyAttachement": "pièce jointe vide",
    "AttachmentTypeError": "type de pièce jointe refusé",
    "EmptyFlow": "fichier vide",
    "OtherTechnicalError": "autre erreur technique",
    "InvalidSchema": "structure du fichier non conforme",
    "FileSizeExceeded": "fichier trop volumineux",
    "FlowTypeError": "type de flux ou extension non conforme",
    "AlreadyExistingFlow": "fichier déjà reçu",
    "VirusFound": "virus détecté",
    "ChecksumMismatch": "empreinte du fichier différente de celle annoncée",
    "InvoiceLCInvalidStatus": "statuts incohérents",
    "InvoiceLCStatusError": "statut incorrect ou non autorisé",
    "InvoiceLCRuleError": "règle non respectée",
    "InvoiceLCAccessDenied": "accès refusé",
    "InvoiceLCAmountError": "montants incohérents avec la TVA",
}


@dataclass(frozen=True)
class AckDetail:
    """One line of a flow's acknowledgement: what is wrong (``reason_code``: a code of
    the Flow API, or the id of the broken rule), where, and the platform's words."""

    level: str
    item: str
    reason_code: str
    message: str

    def french(self) -> str:
        """The line in French: the reason (or the rule id) and the platform's message."""
        what = ACK_REASONS.get(self.reason_code)
        head = what.capitalize() if what else f"Règle {self.reason_code}"
        said = self.message.strip().rstrip(".")
        return f"{head} : {said}" if said else head


@dataclass(frozen=True)
class FlowInfo:
    """A flow as listed by a search."""

    flow_id: str
    tracking_id: str | None
    flow_type: str | None
    direction: str | None
    syntax: str | None
    profile: str | None
    processing_rule: str | None
    submitted_at: str | None
    updated_at: str | None
    ack_status: str | None
    ack_messages: tuple[str, ...]
    name: str | None
    ack_details: tuple[AckDetail, ...] = ()

    @property
    def already_existing(self) -> bool:
        """An Error that only says the very file was already received: it is there."""
        errors = [d for d in self.ack_details if d.level != "Warning"]
        return bool(errors) and all(d.reason_code == "AlreadyExistingFlow" for d in errors)

    def rejection(self) -> str:
        """Why the platform refused the flow, in French, rule by rule."""
        lines = [d.french() for d in self.ack_details if d.level != "Warning"]
        return " ; ".join(lines) or "aucun motif donné par la plateforme"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FlowInfo:
        ack = data.get("acknowledgement") or {}
        details = ack.get("details") or ()
        return cls(
            flow_id=str(data["flowId"]),
            tracking_id=data.get("trackingId"),
            flow_type=data.get("flowType"),
            direction=data.get("flowDirection"),
            syntax=data.get("flowSyntax"),
            profile=data.get("flowProfile"),
            processing_rule=data.get("processingRule"),
            submitted_at=data.get("submittedAt"),
            updated_at=data.get("updatedAt") or data.get("submittedAt"),
            ack_status=ack.get("status"),
            ack_messages=tuple(str(d.get("reasonMessage") or d.get("reasonCode")) for d in details),
            name=data.get("name"),
            ack_details=tuple(
                AckDetail(
                    str(d.get("level") or "Error"),
                    str(d.get("item") or ""),
                    str(d.get("reasonCode") or ""),
                    str(d.get("reasonMessage") or ""),
                )
                for d in details
                if isinstance(d, dict)
            ),
        )


class FlowPlatform(Protocol):
    def submit(
        self,
        file: bytes,
        *,
        filename: str,
        tracking_id: str,
        processing_rule: str = "B2B",
        flow_syntax: str = "Factur-X",
        flow_profile: str | None = "CIUS",
        sha256: str | None = None,
    ) -> FlowRef: ...

    def search(
        self,
        *,
        updated_after: str | None = None,
        tracking_id: str | None = None,
        flow_types: Sequence[str] | None = None,
        direction: str | None = None,
        limit: int = PAGE_SIZE,
    ) -> list[FlowInfo]: ...

    def fetch(self, flow_id: str, doc_type: str = "Original") -> bytes: ...

    def flow_info(self, flow_id: str) -> FlowInfo: ...

    def send_report(
        self,
        file: bytes,
        *,
        tracking_id: str,
        sha256: str | None = None,
        processing_rule: str = "B2C",
    ) -> FlowRef: ...

    def health(self) -> bool: ...


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


__all__ = [
    "ACK_REASONS",
    "PROCESSING_RULES",
    "AckDetail",
    "FlowInfo",
    "FlowPlatform",
    "FlowRef",
    "sha256_of",
]
