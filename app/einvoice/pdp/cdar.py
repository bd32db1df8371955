"""Lifecycle status messages (CDAR D22B, CrossDomainAcknowledgementAndResponse).

A plateforme agréée reports what happens to an invoice (deposited, made available,
approved, refused, paid...) with one CDAR message per status, as in the XP Z12-012
examples. ``parse_cdar`` reads the few fields the shop needs; ``build_cdar`` writes the
messages the shop sends itself (answers to a supplier invoice, "Encaissée").

The examples' date-times (format 204, CCYYMMDDHHMMSS) carry no time zone: they are read
and written as UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from lxml import etree

from app.errors import InvalidInput

STATUS_LABELS = {
    "200": "Déposée",
    "201": "Émise par la plateforme",
    "202": "Reçue",
    "203": "Mise à disposition",
    "204": "Prise en charge",
    "205": "Approuvée",
    "206": "Approuvée partiellement",
    "207": "En litige",
    "208": "Suspendue",
    "209": "Complétée",
    "210": "Refusée",
    "211": "Paiement transmis",
    "212": "Encaissée",
    "213": "Rejetée",
    "220": "Annulée",
}

RSM = "urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
_NS = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
_ROOT = f"{{{RSM}}}CrossDomainAcknowledgementAndResponse"
_REF = "rsm:AcknowledgementDocument/ram:ReferenceReferencedDocument"

# Statuses the platform itself issues (role WK, document type 305); the seller issues
# "Complétée", "Encaissée" and "Annulée"; the buyer every other one.
_PLATFORM_CODES = {"200", "201", "202", "203", "213"}
_SELLER_CODES = {"209", "212", "220"}
# MDT-88 as the XP Z12-012 examples fill it; left out for the codes they do not show.
_DOCUMENT_STATUS = {
    "200": "10", "202": "43", "203": "48", "204": "45",
    "205": "1", "207": "46", "211": "47", "212": "47",
}  # fmt: skip


@dataclass(frozen=True)
class LifecycleStatus:
    """One status of one invoice, as a platform reported it."""

    invoice_number: str
    invoice_date: str | None
    code: str
    label: str
    issued_at: str
    reason_code: str | None
    reason: str | None
    sender: str | None
    document_id: str


def parse_cdar(xml: bytes) -> LifecycleStatus:
    """Read a CDAR lifecycle message; ``InvalidInput`` if it is not one or is incomplete."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )
    try:
        root = etree.fromstring(xml, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise InvalidInput(
            "Le message de cycle de vie est illisible (XML mal formé).", detail=str(exc)
        ) from exc
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise InvalidInput(
            "Le message de cycle de vie contient une déclaration DOCTYPE : il est refusé "
            "par sécurité.",
            detail="DOCTYPE in a CDAR message",
        )
    if root.tag != _ROOT:
        raise InvalidInput(
            "Ce fichier n'est pas un message de cycle de vie de facture (CDAR).",
            detail=str(root.tag),
        )
    number = _text(root, f"{_REF}/ram:IssuerAssignedID")
    code = _text(root, f"{_REF}/ram:ProcessConditionCode")
    if not number or not code:
        raise InvalidInput(
            "Le message de cycle de vie ne dit pas de quelle facture ni de quel statut il s'agit."
        )
    issued = _text(root, "rsm:AcknowledgementDocument/ram:IssueDateTime/udt:DateTimeString")
    issued = issued or _text(root, "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString")
    if not issued:
        raise InvalidInput("Le message de cycle de vie n'est pas daté.")
    invoice_date = _text(root, f"{_REF}/ram:FormattedIssueDateTime/qdt:DateTimeString")
    sender = _text(root, "rsm:ExchangedDocument/ram:IssuerTradeParty/ram:GlobalID")
    condition = _text(root, f"{_REF}/ram:ProcessCondition")
    return LifecycleStatus(
        invoice_number=number,
        invoice_date=_parse_moment(invoice_date).date().isoformat() if invoice_date else None,
        code=code,
        label=STATUS_LABELS.get(code) or (condition or f"Statut {code}").replace("_", " "),
        issued_at=_parse_moment(issued).strftime("%Y-%m-%dT%H:%M:%SZ"),
        reason_code=_text(root, f"{_REF}/ram:SpecifiedDocumentStatus/ram:ReasonCode"),
        reason=_text(root, f"{_REF}/ram:SpecifiedDocumentStatus/ram:Reason"),
        sender=sender or _text(root, "rsm:ExchangedDocument/ram:SenderTradeParty/ram:GlobalID"),
        document_id=_text(root, "rsm:ExchangedDocument/ram:ID") or "",
    )


def build_cdar(
    invoice_number: str,
    invoice_date: str | date | None,
    code: str,
    *,
    reason_code: str | None = None,
    reason: str | None = None,
    sender_siren: str = "",
    receiver_siren: str = "",
    issued_at: datetime | None = None,
    invoice_type: str = "380",
) -> bytes:
    """A CDAR message giving status ``code`` to an invoice, shaped like the XP Z12-012 ones.

    ``sender_siren`` identifies who gives the status (the buyer for "Approuvée", the
    seller for "Encaissée", the platform's number for the platform's own statuses),
    ``receiver_siren`` the party it is addressed to.
    """
    if code not in STATUS_LABELS:
        raise InvalidInput(f"Statut de cycle de vie inconnu : « {code} ».")
    if not invoice_number.strip():
        raise InvalidInput("Le numéro de la facture est obligatoire dans un statut.")
    day = _invoice_day(invoice_date)
    moment = (issued_at or datetime.now(UTC)).replace(microsecond=0)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    stamp = moment.strftime("%Y%m%d%H%M%S")
    role = "WK" if code in _PLATFORM_CODES else "SE" if code in _SELLER_CODES else "BY"
    seller = sender_siren if role == "SE" else receiver_siren
    label = STATUS_LABELS[code]

    root = etree.Element(_ROOT, nsmap=_NS)
    context = _sub(root, "rsm:ExchangedDocumentContext")
    process = _sub(context, "ram:BusinessProcessSpecifiedDocumentContextParameter")
    _sub(process, "ram:ID", "REGULATED")
    guideline = _sub(context, "ram:GuidelineSpecifiedDocumentContextParameter")
    _sub(guideline, "ram:ID", "urn.cpro.gouv.fr:1p0:CDV:invoice")

    header = _sub(root, "rsm:ExchangedDocument")
    day_suffix = f"_{day:%Y%m%d}" if day else ""
    _sub(header, "ram:ID", f"{invoice_number}_{code}_{stamp}#{invoice_type}{day_suffix}")
    _sub(header, "ram:Name", f"{invoice_number}-CDV-{code}")
    _datetime(header, "ram:IssueDateTime", stamp)
    _sub(_sub(header, "ram:SenderTradeParty"), "ram:RoleCode", "WK")
    issuer = _sub(header, "ram:IssuerTradeParty")
    if sender_siren:
        _sub(issuer, "ram:GlobalID", sender_siren, schemeID="0238" if role == "WK" else "0002")
    _sub(issuer, "ram:RoleCode", role)
    recipient = _sub(header, "ram:RecipientTradeParty")
    if receiver_siren:
        _sub(recipient, "ram:GlobalID", receiver_siren, schemeID="0002")
    _sub(recipient, "ram:RoleCode", "BY" if role == "SE" else "SE")
    if receiver_siren:
        address = _sub(recipient, "ram:URIUniversalCommunication")
        _sub(address, "ram:URIID", receiver_siren, schemeID="0225")

    ack = _sub(root, "rsm:AcknowledgementDocument")
    _sub(_sub(ack, "ram:MultipleReferencesIndicator"), "udt:Indicator", "false")
    _sub(ack, "ram:TypeCode", "305" if role == "WK" else "23")
    _datetime(ack, "ram:IssueDateTime", stamp)
    ref = _sub(ack, "ram:ReferenceReferencedDocument")
    _sub(ref, "ram:IssuerAssignedID", invoice_number)
    if code in _DOCUMENT_STATUS:
        _sub(ref, "ram:StatusCode", _DOCUMENT_STATUS[code])
    _sub(ref, "ram:TypeCode", invoice_type)
    if day:
        formatted = _sub(ref, "ram:FormattedIssueDateTime")
        _sub(formatted, "qdt:DateTimeString", f"{day:%Y%m%d}", format="102")
    _sub(ref, "ram:ProcessConditionCode", code)
    _sub(ref, "ram:ProcessCondition", label)
    if seller:
        _sub(_sub(ref, "ram:IssuerTradeParty"), "ram:GlobalID", seller, schemeID="0002")
    if reason_code or reason:
        status = _sub(ref, "ram:SpecifiedDocumentStatus")
        if reason_code:
            _sub(status, "ram:ReasonCode", reason_code)
        if reason:
            _sub(status, "ram:Reason", reason)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _sub(parent: Any, name: str, text: str | None = None, **attributes: str) -> Any:
    prefix, local = name.split(":")
    element = etree.SubElement(parent, f"{{{_NS[prefix]}}}{local}", attributes)
    if text is not None:
        element.text = text
    return element


def _datetime(parent: Any, name: str, stamp: str) -> None:
    _sub(_sub(parent, name), "udt:DateTimeString", stamp, format="204")


def _text(root: Any, path: str) -> str | None:
    node = root.find(path, _NS)
    if node is None or node.text is None:
        return None
    return node.text.strip() or None


def _parse_moment(value: str) -> datetime:
    # Format 204 (CCYYMMDDHHMMSS), 203 (CCYYMMDDHHMM) or 102 (CCYYMMDD), told by length.
    layouts = {14: "%Y%m%d%H%M%S", 12: "%Y%m%d%H%M", 8: "%Y%m%d"}
    try:
        return datetime.strptime(value, layouts[len(value)]).replace(tzinfo=UTC)
    except (KeyError, ValueError) as exc:
        raise InvalidInput(
            f"Date illisible dans le message de cycle de vie : « {value} »."
        ) from exc


def _invoice_day(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"Date de facture invalide : « {value} » (attendu AAAA-MM-JJ).") from exc
