"""What the sandbox platform knows: tokens, flows, lifecycle statuses, e-reports.

Kept apart from the HTTP layer (``sandbox``), which inherits it, so tests and the control
endpoint see the same thing. One lock guards everything; invoice validation (slow the
first time) runs outside it, and the duplicate check is repeated under it before storing.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import facturx
from lxml import etree

from app.einvoice.official import validate_cdar, validate_ereporting
from app.einvoice.pdp.cdar import (
    REASONS_FOR,
    STATUS_LABELS,
    LifecycleStatus,
    build_cdar,
    check_reason,
    parse_cdar,
)
from app.einvoice.pdp.flows import PROCESSING_RULES
from app.einvoice.pdp.sandbox_directory import SandboxDirectory
from app.einvoice.validate import ValidationReport, validate_invoice
from app.errors import InvalidInput

SYNTAXES = ("CII", "UBL", "Factur-X", "CDAR", "FRR")
INVOICE_SYNTAXES = ("CII", "UBL", "Factur-X")
PROFILES = ("Basic", "CIUS", "Extended-CTC-FR")
_ENUMS = (("flowSyntax", SYNTAXES), ("processingRule", (None, *PROCESSING_RULES)),
          ("flowProfile", (None, *PROFILES)))  # fmt: skip
_LIST_FILTERS = ("processingRule", "flowType", "flowDirection")
_FILTERS = {*_LIST_FILTERS, "updatedAfter", "updatedBefore", "trackingId", "ackStatus"}
_XML = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)


class ApiError(Exception):
    """An answer other than success, in the OpenAPI ``Error`` shape (plus extensions)."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def payload(self) -> dict[str, Any]:  # extensions: "details" (findings), "flowId", "sha256"
        return {"errorCode": self.code, "errorMessage": self.message, **self.extra}


@dataclass(frozen=True)
class Deposit:
    """A submission the platform accepted (invoice, CDAR or e-report)."""

    tracking_id: str | None
    sha256: str
    flow_id: str
    at: datetime
    syntax: str
    name: str


@dataclass(frozen=True)
class Outcome:
    code: str | None
    reason: str | None = None
    reason_code: str | None = None


@dataclass
class StoredFlow:
    flow_id: str
    flow_type: str
    direction: str
    syntax: str
    content: bytes
    name: str
    at: datetime
    tracking_id: str | None = None
    processing_rule: str | None = None
    rule_source: str = "Computed"
    profile: str | None = None
    ack_status: str = "Ok"
    invoice: dict[str, str] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    ack_details: list[dict[str, str]] = field(default_factory=list)
    sha256: str = field(init=False)
    updated: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.sha256 = hashlib.sha256(self.content).hexdigest()
        self.updated = self.at

    def to_json(self) -> dict[str, Any]:
        stamp = self.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        ack: dict[str, Any] = {"status": self.ack_status}
        if self.ack_details:
            ack["details"] = list(self.ack_details)
        data = {
            "flowId": self.flow_id, "submittedAt": stamp,
            "updatedAt": self.updated.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "trackingId": self.tracking_id, "name": self.name, "flowType": self.flow_type,
            "flowDirection": self.direction, "flowSyntax": self.syntax,
            "flowProfile": self.profile, "processingRule": self.processing_rule,
            "processingRuleSource": self.rule_source, "sha256": self.sha256,
            "acknowledgement": ack,
        }  # fmt: skip
        return {key: value for key, value in data.items() if value is not None}


class SandboxStore:
    def __init__(self, client_id: str, client_secret: str, token_ttl: float,
                 lifecycle_step: float) -> None:  # fmt: skip
        self.client_id, self.client_secret = client_id, client_secret
        self.token_ttl, self.lifecycle_step = token_ttl, lifecycle_step
        self.lock = threading.RLock()
        self.deposits: list[Deposit] = []
        self.reports: list[StoredFlow] = []  # e-reporting (FRR) flows, in arrival order
        self.received_statuses: list[LifecycleStatus] = []  # CDAR the shop sent
        self._tokens: dict[str, float] = {}
        self._flows: dict[str, StoredFlow] = {}
        self._pending: list[tuple[float, int, str, int]] = []  # due, order, flowId, step
        self._outcomes: dict[str, Outcome] = {}
        self._default = Outcome("205")
        self._last = datetime.now(UTC)
        # Acknowledgements still Pending: (due, flowId, final status, details).
        self._acks: list[tuple[float, str, str, list[dict[str, str]]]] = []
        self.ack_delay = 0.0  # seconds before a deposit's acknowledgement is known
        self._report_outcome = Outcome("300")
        self.directory = SandboxDirectory()
        self._nacks: list[dict[str, str]] = []  # acknowledgements to answer in Error

    def issue_token(self, client_id: str, client_secret: str) -> str | None:
        good = secrets.compare_digest(client_id.encode(), self.client_id.encode())
        good &= secrets.compare_digest(client_secret.encode(), self.client_secret.encode())
        if not good:
            return None
        token = secrets.token_urlsafe(32)
        with self.lock:
            self._tokens[token] = time.monotonic() + self.token_ttl
        return token

    def token_valid(self, token: str) -> bool:
        with self.lock:
            expiry = self._tokens.get(token)
        return expiry is not None and time.monotonic() < expiry

    def submit(self, info: dict[str, Any], content: bytes, filename: str | None = None,
               *, reject: bool = False) -> StoredFlow:  # fmt: skip
        """A flow the shop sends (``POST /v1/flows``); ``ApiError`` if it is refused."""
        syntax, tracking_id = info.get("flowSyntax"), info.get("trackingId")
        rule, profile = info.get("processingRule"), info.get("flowProfile")
        for key, allowed in _ENUMS:
            if info.get(key) not in allowed:
                raise ApiError(400, "INVALID_FIELD", f"{key} invalide : « {info.get(key)} ».")
        if tracking_id is not None and (not isinstance(tracking_id, str) or len(tracking_id) > 36):
            raise ApiError(400, "INVALID_FIELD", "trackingId : 36 caractères au plus.")
        if not content:
            raise ApiError(422, "EmptyFlow", "Le fichier envoyé est vide.")
        digest = hashlib.sha256(content).hexdigest()
        if info.get("sha256") is not None and str(info["sha256"]).lower() != digest:
            message = "L'empreinte sha256 ne correspond pas au fichier reçu (altéré en route ?)."
            raise ApiError(422, "ChecksumMismatch", message, sha256=digest)
        self._refuse_duplicate(digest)
        if reject:
            detail = _detail("SANDBOX", "Rejet simulé à la demande du test.")
            raise ApiError(422, "InvalidInvoice", "Flux rejeté (simulation).", details=[detail])
        name = str(info.get("name") or filename or f"flux.{str(syntax).lower()}")
        try:  # checked now, told through the acknowledgement, like a real platform
            facts, status = _check(str(syntax), content, name)
            refusal: ApiError | None = None
        except ApiError as exc:
            facts, status, refusal = {}, None, exc
        with self.lock:
            nack = self._nacks.pop(0) if self._nacks and refusal is None else None
        if nack is not None:
            refusal = ApiError(422, "InvalidSchema", "Rejet simulé.", details=[nack])
        with self.lock:
            self._refuse_duplicate(digest)
            flow = StoredFlow(
                str(uuid.uuid4()), "CustomerInvoice", "Out", str(syntax), content, name,
                self._stamp(), tracking_id, rule or "B2B", "Input" if rule else "Computed",
                profile, ack_status="Pending", invoice=facts,
            )  # fmt: skip
            self._flows[flow.flow_id] = flow
            deposit = Deposit(tracking_id, digest, flow.flow_id, flow.at, flow.syntax, name)
            self.deposits.append(deposit)
            due = time.monotonic() + self.ack_delay
            if syntax == "FRR":
                flow.flow_type = _report_type(content)
                flow.processing_rule = rule or "B2C"
            if refusal is not None:
                self._acks.append((due, flow.flow_id, "Error", _details_of(refusal)))
                return _copy(flow)
            self._acks.append((due, flow.flow_id, "Ok", []))
            if syntax == "FRR":
                self.reports.append(flow)
            elif status is not None:
                flow.flow_type = self._record_answer(status)
            answer = _copy(flow)  # as deposited: Pending, whatever happens next
            if syntax in INVOICE_SYNTAXES:
                self._emit(flow, Outcome("200"))
                now, step = time.monotonic(), self.lifecycle_step
                order = len(self._flows)
                self._pending += [(now + step, order, flow.flow_id, 1),
                                  (now + 2 * step, order, flow.flow_id, 2)]  # fmt: skip
            return answer

    def add_incoming(
        self, file_bytes: bytes, filename: str, syntax: str = "Factur-X", *,
        tracking_id: str | None = None, processing_rule: str = "B2B",
    ) -> str:  # fmt: skip
        """A supplier invoice arriving for the shop (flowType SupplierInvoice); its flowId."""
        if syntax not in INVOICE_SYNTAXES:
            raise InvalidInput(f"Syntaxe de facture inconnue : « {syntax} ».")
        try:
            facts = _invoice_facts(file_bytes)
        except Exception:  # a broken supplier invoice is still delivered, for the shop to refuse
            facts = {}
        with self.lock:
            flow = StoredFlow(
                str(uuid.uuid4()), "SupplierInvoice", "In", syntax, file_bytes, filename,
                self._stamp(), tracking_id, processing_rule, invoice=facts,
            )  # fmt: skip
            self._flows[flow.flow_id] = flow
            return flow.flow_id

    def get(self, flow_id: str) -> StoredFlow | None:
        self.emit_due()  # statuses appear when due, whoever asks first
        with self.lock:
            return self._flows.get(flow_id)

    def flows(self) -> list[StoredFlow]:  # every flow, both directions, oldest first
        self.emit_due()
        with self.lock:
            return list(self._flows.values())

    def search(self, params: Any) -> dict[str, Any]:
        """``POST /v1/flows/search``: matching flows by updatedAt, ``limit`` at most."""
        if not isinstance(params, dict) or not isinstance(params.get("where"), dict):
            raise ApiError(400, "MISSING_REQUIRED_FIELD", "La requête doit contenir « where ».")
        where, limit = params["where"], params.get("limit", 25)
        if not where:
            raise ApiError(400, "MISSING_REQUIRED_FIELD", "Au moins un critère est requis.")
        if unknown := ", ".join(sorted(set(where) - _FILTERS)):
            raise ApiError(400, "INVALID_FIELD", f"Critères inconnus : {unknown}.")
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100:
            raise ApiError(400, "INVALID_FIELD", "limit doit être un entier de 1 à 100.")
        after, before = _moment(where.get("updatedAfter")), _moment(where.get("updatedBefore"))
        lists = [_strings(where.get(key), key) for key in _LIST_FILTERS]
        self.emit_due()
        with self.lock:
            found = [
                flow for flow in self._flows.values()
                if (after is None or flow.updated > after)
                and (before is None or flow.updated < before)
                and where.get("trackingId") in (None, flow.tracking_id)
                and where.get("ackStatus") in (None, flow.ack_status)
                and all(allowed is None or value in allowed for allowed, value in zip(
                    lists, (flow.processing_rule, flow.flow_type, flow.direction), strict=True))
            ]  # fmt: skip
        found.sort(key=lambda flow: flow.updated)
        return {"limit": limit, "filters": where, "results": [f.to_json() for f in found[:limit]]}

    def set_outcome(self, key: str | None, code: str | None, reason: str | None = None,
                    reason_code: str | None = None) -> None:  # fmt: skip
        """Last status of the invoice with this trackingId or number, "205" unless told
        ("213": rejected instead of "203"; None: no answer; ``key`` None: the default)."""
        if code is not None and code not in STATUS_LABELS:
            raise InvalidInput(f"Statut de cycle de vie inconnu : « {code} ».")
        if code is not None and reason_code is not None:
            check_reason(code, reason_code)
        with self.lock:
            if key is None:
                self._default = Outcome(code, reason, reason_code)
            else:
                self._outcomes[key] = Outcome(code, reason, reason_code)

    def set_default_outcome(self, code: str | None, reason: str | None = None,
                            reason_code: str | None = None) -> None:  # fmt: skip
        self.set_outcome(None, code, reason, reason_code)

    def advance(self) -> int:
        """Emit every scheduled lifecycle status now (fast tests); returns how many."""
        return self.emit_due(everything=True)

    def emit_due(self, *, everything: bool = False) -> int:
        """Turn the statuses whose time has come into CDAR flows (flowType
        CustomerInvoiceLC): "200" at once, "203" after one step, the outcome after two."""
        with self.lock:
            now = time.monotonic()
            self._resolve_acks(now, everything)
            due = sorted(item for item in self._pending if everything or item[0] <= now)
            self._pending = [item for item in self._pending if item not in due]
            emitted = 0
            for _, _, flow_id, step in due:
                flow = self._flows[flow_id]
                number = flow.invoice.get("number", "")
                outcome = self._outcomes.get(flow.tracking_id or "") or self._outcomes.get(
                    number) or self._default  # fmt: skip
                if step == 1 and outcome.code != "213":
                    outcome = Outcome("203")
                if outcome.code is not None and "213" not in flow.history:
                    self._emit(flow, outcome)
                    emitted += 1
            return emitted

    def _resolve_acks(self, now: float, everything: bool) -> None:
        """Acknowledgements whose time has come turn Ok or Error; an e-report the
        platform took then gets the PPF's 300 Déposé (or 301 Rejeté, when told)."""
        due = [ack for ack in self._acks if everything or ack[0] <= now]
        self._acks = [ack for ack in self._acks if ack not in due]
        for _, flow_id, status, details in due:
            flow = self._flows[flow_id]
            flow.ack_status, flow.ack_details = status, details
            flow.updated = self._stamp()
            if status == "Ok" and flow.syntax == "FRR":
                self._emit_ppf(flow)

    def _emit_ppf(self, report: StoredFlow) -> None:
        outcome = self._report_outcome
        report_id = _report_id(report.content)
        at = self._stamp()
        xml = build_cdar(
            report_id, None, outcome.code or "300", reason=outcome.reason,
            receiver_siren=report_id.split("-")[0], issued_at=at, check=False,
        )  # fmt: skip
        name = f"CDAR_{report_id}_{outcome.code}.xml"
        lc = StoredFlow(str(uuid.uuid4()), "CustomerInvoiceLC", "In", "CDAR", xml, name, at,
                        None, report.processing_rule)  # fmt: skip
        self._flows[lc.flow_id] = lc
        report.history.append(outcome.code or "300")

    def set_report_outcome(self, code: str = "300", reason: str | None = None) -> None:
        """What the PPF answers the next e-reports: "300" Déposé or "301" Rejeté."""
        if code not in ("300", "301"):
            raise InvalidInput("Le PPF répond 300 (déposé) ou 301 (rejeté) à un e-reporting.")
        with self.lock:
            self._report_outcome = Outcome(code, reason)

    def nack_next(self, n: int = 1, rule: str = "SANDBOX",
                  message: str = "Rejet simulé à la demande du test.") -> None:  # fmt: skip
        """Take the next ``n`` flows (202) and acknowledge them in Error naming ``rule``."""
        with self.lock:
            self._nacks += [_detail(rule, message)] * n

    def set_ack_delay(self, seconds: float) -> None:
        """How long a deposit's acknowledgement stays Pending."""
        with self.lock:
            self.ack_delay = max(0.0, float(seconds))

    def acknowledgement(self, flow_id: str) -> str | None:
        self.emit_due()
        with self.lock:
            flow = self._flows.get(flow_id)
            return flow.ack_status if flow is not None else None

    def statuses(self, key: str) -> list[str]:
        """Codes given so far to the invoice with this trackingId, number or flowId."""
        self.emit_due()
        with self.lock:
            for flow in reversed(self._flows.values()):
                invoice = flow.flow_type in ("CustomerInvoice", "SupplierInvoice")
                if invoice and key in (flow.flow_id, flow.tracking_id, flow.invoice.get("number")):
                    return list(flow.history)
        return []

    def _emit(self, invoice: StoredFlow, outcome: Outcome) -> None:
        code, facts, at = outcome.code or "200", invoice.invoice, self._stamp()
        reason_code = outcome.reason_code or (REASONS_FOR[code][0] if code in REASONS_FOR else None)
        xml = build_cdar(
            facts.get("number") or "?", facts.get("date") or None, code,
            reason_code=reason_code, reason=outcome.reason,
            sender_siren="" if code in ("200", "203", "213") else facts.get("buyer", ""),
            receiver_siren=facts.get("seller", ""), issued_at=at,
            invoice_type=facts.get("type") or "380",
        )  # fmt: skip
        name = f"CDAR_{facts.get('number', '')}_{code}.xml"
        lc = StoredFlow(str(uuid.uuid4()), "CustomerInvoiceLC", "In", "CDAR", xml, name, at,
                        None, invoice.processing_rule)  # fmt: skip
        self._flows[lc.flow_id] = lc
        invoice.history.append(code)

    def _record_answer(self, status: LifecycleStatus) -> str:
        self.received_statuses.append(status)
        for flow in reversed(self._flows.values()):
            if (
                flow.flow_type in ("SupplierInvoice", "CustomerInvoice")
                and flow.syntax != "CDAR"
                and (flow.invoice.get("number") == status.invoice_number)
            ):
                flow.history.append(status.code)
                return f"{flow.flow_type}LC"
        return "CustomerInvoiceLC"

    def _refuse_duplicate(self, digest: str) -> None:
        with self.lock:
            for flow in self._flows.values():
                if flow.direction == "Out" and flow.sha256 == digest and flow.ack_status != "Error":
                    message = "Ce fichier a déjà été déposé (envoi identique refusé)."
                    raise ApiError(409, "AlreadyExistingFlow", message, flowId=flow.flow_id)

    def _stamp(self) -> datetime:
        # Strictly increasing, so that paginating with updatedAfter never skips a flow.
        with self.lock:
            self._last = max(datetime.now(UTC), self._last + timedelta(microseconds=1))
            return self._last


def _check(syntax: str, content: bytes, name: str) -> tuple[dict[str, str], LifecycleStatus | None]:
    """What a platform checks before accepting a flow; the invoice's facts if it does."""
    if syntax == "CDAR":
        try:
            status = parse_cdar(content)
        except InvalidInput as exc:
            raise ApiError(422, "InvalidSchema", exc.message) from exc
        if status.code not in STATUS_LABELS:
            raise ApiError(422, "InvoiceLCStatusError", f"Statut inconnu : « {status.code} ».")
        _refuse_broken(validate_cdar(content), "Statut de cycle de vie rejeté")
        return {"number": status.invoice_number, "date": status.invoice_date or ""}, status
    if syntax == "FRR":
        _refuse_broken(validate_ereporting(content), "E-reporting rejeté")
        return {}, None
    if (syntax == "Factur-X") != (b"%PDF-" in content[:1024]):
        expected = "un PDF Factur-X" if syntax == "Factur-X" else f"un fichier XML {syntax}"
        raise ApiError(422, "FlowTypeError", f"flowSyntax {syntax} annonce {expected}.")
    report = validate_invoice(content, filename=name)
    if not report.ok:
        details = [_detail(f.rule, f.message, f.location) for f in report.fatal]
        raise ApiError(422, "InvalidInvoice", report.summary(), details=details)
    if (syntax == "UBL") != (report.flavor or "").startswith("ubl"):
        raise ApiError(422, "FlowTypeError", f"flowSyntax {syntax} ne correspond pas au fichier.")
    return _invoice_facts(content), None


_INIT_FIELDS = ("flow_id", "flow_type", "direction", "syntax", "content", "name", "at",
                "tracking_id", "processing_rule", "rule_source", "profile", "ack_status",
                "invoice")  # fmt: skip


def _copy(flow: StoredFlow) -> StoredFlow:
    return StoredFlow(**{name: getattr(flow, name) for name in _INIT_FIELDS})


def _details_of(refusal: ApiError) -> list[dict[str, str]]:
    """The acknowledgement details of a refused file: the broken rules, else the code."""
    details = refusal.extra.get("details")
    if details:
        return list(details)
    return [_detail(refusal.code, refusal.message)]


def _report_type(content: bytes) -> str:
    """The Flow API's type of an e-report: transactions (10.1 and/or 10.3) or payments
    (10.2 and/or 10.4), or several kinds at once."""
    try:
        root = etree.fromstring(content, _XML)
    except etree.XMLSyntaxError:
        return "AggregatedCustomerTransactionReport"
    transactions, payments = root.find("TransactionsReport"), root.find("PaymentsReport")
    block = transactions if transactions is not None else payments
    if block is None:
        return "AggregatedCustomerTransactionReport"
    unitary = block.find("Invoice") is not None
    aggregated = block.find("Transactions") is not None
    if unitary and aggregated:
        return "MultiFlowReport"
    if transactions is not None:
        return (
            "UnitaryCustomerTransactionReport" if unitary else "AggregatedCustomerTransactionReport"
        )
    return "UnitaryCustomerPaymentReport" if unitary else "AggregatedCustomerPaymentReport"


def _report_id(content: bytes) -> str:
    try:
        return etree.fromstring(content, _XML).findtext("ReportDocument/Id") or "?"
    except etree.XMLSyntaxError:
        return "?"


def _refuse_broken(report: ValidationReport, what: str) -> None:
    """Like a real platform: the official rules, and Error with the ids of those broken."""
    if not report.ok:
        details = [_detail(f.rule, f.message, f.location) for f in report.fatal]
        rules = ", ".join(dict.fromkeys(f.rule for f in report.fatal))
        raise ApiError(422, "InvalidSchema", f"{what} : règles {rules}.", details=details)


def _detail(rule: str, message: str, location: str | None = None) -> dict[str, str]:
    return {"level": "Error", "item": location or rule, "reasonCode": rule,
            "reasonMessage": message}  # fmt: skip


def _invoice_facts(content: bytes) -> dict[str, str]:
    """Number, date, type code and SIRENs of a CII or UBL invoice, or of a Factur-X PDF."""
    if b"%PDF-" in content[:1024]:
        _, content = facturx.get_xml_from_pdf(content, check_xsd=False)
    root = etree.fromstring(content, _XML)

    def first(*paths: str) -> str:
        found = [str(hit).strip() for path in paths for hit in root.xpath(path + "/text()")]
        return found[0] if found else ""

    def at(*names: str) -> str:
        return "/".join(f"*[local-name()='{name}']" for name in names)

    cii, legal = at("ExchangedDocument"), at("SpecifiedLegalOrganization", "ID")
    terms, ubl_legal = f"//{at('ApplicableHeaderTradeAgreement')}", at("Party", "PartyLegalEntity")
    day = first(f"{cii}/{at('IssueDateTime', 'DateTimeString')}", at("IssueDate"))
    return {
        "number": first(f"{cii}/{at('ID')}", at("ID")),
        "date": f"{day[:4]}-{day[4:6]}-{day[6:8]}" if len(day) == 8 else day[:10],
        "type": first(f"{cii}/{at('TypeCode')}", at("InvoiceTypeCode"), at("CreditNoteTypeCode")),
        "seller": first(f"{terms}/{at('SellerTradeParty')}/{legal}",
                        f"{at('AccountingSupplierParty')}/{ubl_legal}/{at('CompanyID')}"),
        "buyer": first(f"{terms}/{at('BuyerTradeParty')}/{legal}",
                       f"{at('AccountingCustomerParty')}/{ubl_legal}/{at('CompanyID')}"),
    }  # fmt: skip


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ApiError(400, "INVALID_FIELD", f"Date-heure illisible : « {value} ».") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _strings(value: Any, key: str) -> set[str] | None:
    if value is None:
        return None
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ApiError(400, "INVALID_FIELD", f"{key} doit être une liste de chaînes.")
    return set(values)
