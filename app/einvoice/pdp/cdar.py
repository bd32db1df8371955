"""Lifecycle status messages (CDAR D22B, CrossDomainAcknowledgementAndResponse).

A plateforme agréée reports what happens to an invoice (deposited, made available,
approved, refused, paid...) with one CDAR message per status, as in the XP Z12-012
examples. ``parse_cdar`` reads the few fields the shop needs; ``build_cdar`` writes the
messages the shop sends itself (answers to a supplier invoice, "Encaissée").

The examples' date-times (format 204, CCYYMMDDHHMMSS) carry no time zone: they are read
and written as UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from lxml import etree

from app.einvoice.official import require_valid, validate_cdar
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
    "214": "Visée",
    "220": "Annulée",
    "221": "Erreur de routage",
    "224": "Demande de paiement direct",
    "225": "Affacturée",
    "226": "Affacturée confidentiel",
    "227": "Changement de compte à payer",
    "228": "Non affacturée",
    "300": "E-reporting déposé",
    "301": "E-reporting rejeté",
    "501": "Irrecevable",
}
# Statuses the shop gives itself: as the seller of an invoice, as the buyer of a supplier's.
SELLER_STATUSES = ("209", "212", "220")
BUYER_STATUSES = ("204", "205", "206", "207", "208", "210", "211")

# BR-FR-CDV-CL-09 (V1.4.0.03): the closed list of reason codes, in French.
REASON_LABELS = {
    "AUTRE": "Autre motif",
    "COORD_BANC_ERR": "Coordonnées bancaires erronées",
    "TX_TVA_ERR": "Taux de TVA erroné",
    "MONTANTTOTAL_ERR": "Montant total erroné",
    "CALCUL_ERR": "Erreur de calcul",
    "NON_CONFORME": "Mentions légales non conformes",
    "DOUBLON": "Facture en double",
    "DEST_INC": "Destinataire inconnu",
    "DEST_ERR": "Erreur de destinataire",
    "TRANSAC_INC": "Transaction inconnue",
    "EMMET_INC": "Émetteur inconnu",
    "CONTRAT_TERM": "Contrat terminé",
    "DOUBLE_FACT": "Double facturation",
    "CMD_ERR": "Référence de commande erronée",
    "ADR_ERR": "Adresse erronée",
    "SIRET_ERR": "SIRET erroné",
    "CODE_ROUTAGE_ERR": "Code de routage erroné",
    "REF_CT_ABSENT": "Référence du contrat absente",
    "REF_ERR": "Référence erronée",
    "PU_ERR": "Prix unitaire erroné",
    "REM_ERR": "Remise erronée",
    "QTE_ERR": "Quantité erronée",
    "ART_ERR": "Article erroné",
    "MODPAI_ERR": "Modalités de paiement erronées",
    "QUALITE_ERR": "Qualité non conforme",
    "LIVR_INCOMP": "Livraison incomplète",
    "JUSTIF_ABS": "Justificatif absent",
    "NON_TRANSMISE": "Facture non transmise",
    "ROUTAGE_ERR": "Erreur de routage",
    "CONTACT_ACHTR": "Prendre contact avec l'acheteur",
    "RETRAIT_MAN_SERV": "Retrait par le service (secteur public)",
    "ST_CT_NON_DECLAR": "Sous-traitant non déclaré (secteur public)",
    "SUPPR_COMP_AVOIR": "Compensée par un avoir (secteur public)",
    "TRANSF_PMNT_REGIE": "Paiement transféré à une régie (secteur public)",
    "REJ_SEMAN": "Rejet : contrôles sémantiques",
    "REJ_UNI": "Rejet : facture déjà reçue",
    "REJ_COH": "Rejet : incohérence des données",
    "REJ_ADR": "Rejet : adressage",
    "REJ_CONT_B2G": "Rejet : contrôles du secteur public",
    "REJ_REF_PJ": "Rejet : référence de pièce jointe",
    "REJ_ASS_PJ": "Rejet : pièce jointe mal associée",
    "IRR_VIDE_F": "Fichier vide",
    "IRR_TYPE_F": "Type de fichier refusé",
    "IRR_SYNTAX": "Syntaxe non reconnue",
    "IRR_TAILLE_PJ": "Pièce jointe trop volumineuse",
    "IRR_NOM_PJ": "Nom de pièce jointe invalide",
    "IRR_VID_PJ": "Pièce jointe vide",
    "IRR_EXT_DOC": "Extension de document refusée",
    "IRR_TAILLE_F": "Fichier trop volumineux",
    "IRR_ANTIVIRUS": "Fichier bloqué par l'antivirus",
    "IRR_NOM_F": "Nom de fichier invalide",
}


def _codes(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_DISPUTE = _codes(
    "AUTRE COORD_BANC_ERR TX_TVA_ERR MONTANTTOTAL_ERR CALCUL_ERR NON_CONFORME DOUBLON DEST_INC "
    "DEST_ERR TRANSAC_INC EMMET_INC CONTRAT_TERM DOUBLE_FACT CMD_ERR ADR_ERR SIRET_ERR "
    "CODE_ROUTAGE_ERR REF_CT_ABSENT REF_ERR PU_ERR REM_ERR QTE_ERR ART_ERR MODPAI_ERR "
    "QUALITE_ERR LIVR_INCOMP"
)
# BR-FR-CDV-15: these statuses need a reason; BR-FR-CDV-CL-09: the codes each one allows.
REASONS_FOR = {
    "206": _codes(
        "AUTRE CMD_ERR SIRET_ERR CODE_ROUTAGE_ERR REF_CT_ABSENT REF_ERR PU_ERR REM_ERR QTE_ERR "
        "ART_ERR MODPAI_ERR QUALITE_ERR LIVR_INCOMP"
    ),
    "207": _DISPUTE,
    "208": _codes(
        "JUSTIF_ABS COORD_BANC_ERR CMD_ERR SIRET_ERR CODE_ROUTAGE_ERR REF_CT_ABSENT REF_ERR"
    ),
    "210": _codes(
        "TX_TVA_ERR MONTANTTOTAL_ERR CALCUL_ERR NON_CONFORME DOUBLON DEST_ERR TRANSAC_INC "
        "EMMET_INC CONTRAT_TERM DOUBLE_FACT CMD_ERR ADR_ERR REF_CT_ABSENT"
    ),
    "213": _codes(
        "MONTANTTOTAL_ERR CALCUL_ERR DOUBLON DEST_INC ADR_ERR REJ_SEMAN REJ_UNI REJ_COH REJ_ADR "
        "REJ_CONT_B2G REJ_REF_PJ REJ_ASS_PJ"
    ),
    "501": tuple(code for code in REASON_LABELS if code.startswith("IRR_")),
}
# Statuses whose optional reason is restricted; these two reasons belong to them alone.
_OPTIONAL_REASONS = {"200": ("NON_TRANSMISE",), "221": ("ROUTAGE_ERR",)}
_ONLY_FOR = {"NON_TRANSMISE": "200", "ROUTAGE_ERR": "221"}


def status_label(code: str) -> str:
    """The French name of a lifecycle status, known or not."""
    return STATUS_LABELS.get(code, f"Statut {code}")


def reason_label(code: str | None) -> str:
    return REASON_LABELS.get(code or "", code or "")


RSM = "urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
_NS = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
_ROOT = f"{{{RSM}}}CrossDomainAcknowledgementAndResponse"
_REF = "rsm:AcknowledgementDocument/ram:ReferenceReferencedDocument"

# Statuses the platform itself issues (role WK, document type 305); the seller issues
# "Complétée", "Encaissée" and "Annulée"; the buyer every other one.
_PLATFORM_CODES = {"200", "201", "202", "203", "213", "221", "501"}
_SELLER_CODES = set(SELLER_STATUSES)
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
        label=STATUS_LABELS.get(code) or (condition or status_label(code)).replace("_", " "),
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
    amounts: Mapping[int, int] | None = None,
    sequence: int = 1,
    check: bool = True,
) -> bytes:
    """A CDAR message giving status ``code`` to an invoice, shaped like the XP Z12-012 ones
    and held to BR-FR-CDV V1.4.0.03 (``check``: ``MessageRefused`` naming the broken rule).

    ``sender_siren`` identifies who gives the status (the buyer for "Approuvée", the
    seller for "Encaissée", the platform's number for the platform's own statuses),
    ``receiver_siren`` the party it is addressed to. ``amounts`` (cents, including VAT,
    per VAT rate in basis points) is what a 212 "Encaissée" says was received;
    ``sequence`` numbers the status details of one invoice (BR-FR-CDV-16).
    """
    if code not in STATUS_LABELS:
        raise InvalidInput(f"Statut de cycle de vie inconnu : « {code} ».")
    if not invoice_number.strip():
        raise InvalidInput("Le numéro de la facture est obligatoire dans un statut.")
    check_reason(code, reason_code)
    if code == "212" and not amounts:
        raise InvalidInput(
            "Un statut « Encaissée » indique le montant encaissé pour chaque taux de TVA."
        )
    if amounts and any(cents <= 0 for cents in amounts.values()):
        raise InvalidInput("Un montant encaissé est positif.")
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
    if reason_code or reason or amounts:
        status = _sub(ref, "ram:SpecifiedDocumentStatus")
        if reason_code:
            _sub(status, "ram:ReasonCode", reason_code)
        if reason:
            _sub(status, "ram:Reason", reason)
        _sub(status, "ram:SequenceNumeric", str(sequence))
        for rate_bp, cents in sorted((amounts or {}).items(), reverse=True):
            received = _sub(status, "ram:SpecifiedDocumentCharacteristic")
            _sub(received, "ram:TypeCode", "MEN")
            changed = _sub(received, "ram:ValueChangedIndicator")
            _sub(changed, "udt:IndicatorString", "false")
            _sub(received, "ram:ValueAmount", _decimal(cents), currencyID="EUR")
            _sub(received, "ram:ValuePercent", _decimal(rate_bp))
    xml = bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
    if check:
        require_valid(validate_cdar(xml), "cdar")
    return xml


def check_reason(code: str, reason_code: str | None) -> None:
    """``InvalidInput`` unless the reason code suits the status (BR-FR-CDV-15, CL-09)."""
    allowed = REASONS_FOR.get(code) or _OPTIONAL_REASONS.get(code)
    label = STATUS_LABELS[code]
    if code in REASONS_FOR and not reason_code:
        raise InvalidInput(
            f"Le statut « {label} » exige un code motif de la liste officielle "
            f"({', '.join(allowed)})."
        )
    if not reason_code:
        return
    known = reason_code in REASON_LABELS and _ONLY_FOR.get(reason_code, code) == code
    if not known or (allowed and reason_code not in allowed):
        choices = ", ".join(allowed) if allowed else "liste officielle"
        raise InvalidInput(
            f"Code motif « {reason_code} » non admis pour le statut « {label} » ({choices})."
        )


def _decimal(hundredths: int) -> str:
    """Cents as euros, or basis points as a percentage: 12345 -> "123.45"."""
    sign = "-" if hundredths < 0 else ""
    whole, cents = divmod(abs(hundredths), 100)
    return f"{sign}{whole}.{cents:02d}"


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
