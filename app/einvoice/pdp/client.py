"""Talking to a plateforme agréée through the AFNOR XP Z12-013 Flow API.

``FlowPlatform`` is what the outbox and the sync need; ``HttpFlowClient`` implements it
over HTTP with an OAuth2 client-credentials token. Errors are sorted by what the caller
should do: try again later (``TransientFailure``), fix the account
(``AuthenticationFailed``), or give up on that file (``PermanentRejection``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple, Protocol

import requests

from app.einvoice.pdp.config import PlatformSettings
from app.errors import ComptoirError

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # the API's maximum
REFRESH_MARGIN = 30.0  # seconds before expiry; shortened for very short-lived tokens
CONTENT_TYPES = {"Factur-X": "application/pdf"}


class PlatformError(ComptoirError):
    """The platform could not do what was asked."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        platform_message: str = "",
    ) -> None:
        super().__init__(message, detail=f"HTTP {status} {code} {platform_message}".strip())
        self.status = status
        self.code = code
        self.platform_message = platform_message


class PermanentRejection(PlatformError):
    """The platform refused the file itself: sending it again will not help."""


class AlreadyExistingFlow(PermanentRejection):
    """The very same file was already received (a resubmission after a lost answer).
    ``flow_id``: the flow holding it, when the platform names it."""

    flow_id: str | None = None


class AuthenticationFailed(PlatformError):
    """The platform refuses our credentials: the shop must check its settings."""


class TransientFailure(PlatformError):
    """The platform is busy, down or unreachable: try again later.

    ``maybe_delivered`` is true when the request may have reached the platform (no answer
    received): whoever sent a file must check before sending it again.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        maybe_delivered: bool = False,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after
        self.maybe_delivered = maybe_delivered


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


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _error_fields(response: requests.Response) -> tuple[str, str]:
    """The platform's own error code and message, whatever shape it used."""
    try:
        data = response.json()
    except ValueError:
        return "", response.text[:300].strip()
    if not isinstance(data, dict):
        return "", str(data)[:300]
    code = str(data.get("errorCode") or data.get("error") or "")
    message = str(data.get("errorMessage") or data.get("error_description") or "")
    details = (data.get("acknowledgement") or {}).get("details") or data.get("details") or []
    for detail in details if isinstance(details, list) else []:
        code = code or str(detail.get("reasonCode") or "")
        message = message or str(detail.get("reasonMessage") or "")
    return code, message


def _named_flow(response: requests.Response) -> str | None:
    """The flow an error answer names (``flowId``), if any."""
    try:
        data = response.json()
    except ValueError:
        return None
    flow_id = data.get("flowId") if isinstance(data, dict) else None
    return str(flow_id) if flow_id else None


class TokenCache:
    """An OAuth2 access token, fetched by ``_fetch_token`` and kept until shortly before
    it expires; ``renew=True`` forces a new one (after a 401)."""

    _token: str | None = None
    _token_expires: float = 0.0

    def _init_token_cache(self) -> None:
        self._token, self._token_expires = None, 0.0
        self._token_lock = threading.Lock()

    def _fetch_token(self) -> tuple[str, float]:
        raise NotImplementedError

    def _bearer(self, *, renew: bool = False) -> str:
        with self._token_lock:
            if renew or self._token is None or time.monotonic() >= self._token_expires:
                self._token, lifetime = self._fetch_token()
                margin = min(REFRESH_MARGIN, lifetime / 5)
                self._token_expires = time.monotonic() + lifetime - margin
            return self._token


class NetworkWording(NamedTuple):
    """How a platform is named in the three network failures a user may see."""

    unreachable: str
    too_slow: str
    cut: str


PLATFORM_NAMES = NetworkWording(
    "La plateforme de facturation électronique est injoignable.",
    "La plateforme de facturation électronique n'a pas répondu à temps.",
    "La connexion à la plateforme de facturation électronique a été coupée.",
)


def network_failure(
    exc: requests.RequestException, wording: NetworkWording, *, sent_file: bool
) -> TransientFailure:
    """A request that failed on the network, for any platform client: retried later,
    and possibly delivered when the file had left."""
    log.info("platform unreachable: %s", type(exc).__name__)
    # A connection that never opened delivered nothing; any later failure may have.
    refused = isinstance(exc, requests.ConnectTimeout) or (
        isinstance(exc, requests.ConnectionError) and "NewConnectionError" in repr(exc)
    )
    if refused:
        message = wording.unreachable
    elif isinstance(exc, requests.Timeout):
        message = wording.too_slow
    else:
        message = wording.cut
    return TransientFailure(
        message, maybe_delivered=sent_file and not refused, code=type(exc).__name__
    )


def busy_or_down(
    response: requests.Response, who: str, *, sent_file: bool, **fields: Any
) -> TransientFailure | None:
    """429 and 5xx: worth trying again later; None for any other status."""
    status = response.status_code
    retry_after = _retry_after(response.headers.get("Retry-After"))
    if status == 429:
        return TransientFailure(
            f"{who} demande de patienter (trop de demandes).", retry_after=retry_after, **fields
        )
    if status >= 500:
        return TransientFailure(
            f"{who} est indisponible (erreur {status}).",
            retry_after=retry_after,
            # A 503 says the request was not taken; other errors may hide a failure after
            # the file was stored.
            maybe_delivered=sent_file and status != 503,
            **fields,
        )
    return None


def token_from(response: requests.Response, server: str) -> tuple[str, float]:
    """The access token and its lifetime (s) from a token endpoint's JSON answer."""
    try:
        body = response.json()
        return str(body["access_token"]), float(body.get("expires_in") or 300)
    except (ValueError, KeyError, TypeError):
        raise TransientFailure(
            f"Le serveur d'authentification {server} a renvoyé une réponse illisible.",
            status=response.status_code,
        ) from None


class HttpFlowClient(TokenCache):
    """The Flow API over HTTP. One instance per thread (``requests.Session`` is not
    shared across threads)."""

    def __init__(self, settings: PlatformSettings) -> None:
        self.settings = settings
        self._base = settings.base_url.rstrip("/")
        self._http = requests.Session()
        self._init_token_cache()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HttpFlowClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- token ---------------------------------------------------------------------------
    def _fetch_token(self) -> tuple[str, float]:
        s = self.settings
        data = {"grant_type": "client_credentials"}
        try:
            response = self._http.post(
                s.token_url, data=data, auth=(s.client_id, s.client_secret), timeout=s.timeout
            )
        except requests.RequestException as exc:
            raise network_failure(exc, PLATFORM_NAMES, sent_file=False) from None
        if response.status_code in (400, 401, 403):
            code, message = _error_fields(response)
            raise AuthenticationFailed(
                "La plateforme de facturation électronique refuse l'identifiant ou le secret "
                f"client : vérifiez-les dans les réglages. ({message or code or 'refus'})",
                status=response.status_code,
                code=code,
                platform_message=message,
            )
        if response.status_code != 200:
            raise self._status_error(response, sent_file=False)
        return token_from(response, "de la plateforme")

    # -- requests ------------------------------------------------------------------------
    def _request(self, method: str, path: str, *, sends_file: bool, **kw: Any) -> requests.Response:
        renewed = False
        while True:
            headers = {"Authorization": f"Bearer {self._bearer(renew=renewed)}"}
            headers["X-Request-Id"] = str(uuid.uuid4())
            try:
                response = self._http.request(
                    method, self._base + path, headers=headers, timeout=self.settings.timeout, **kw
                )
            except requests.RequestException as exc:
                raise network_failure(exc, PLATFORM_NAMES, sent_file=sends_file) from None
            if response.status_code == 401 and not renewed:
                renewed = True  # expired or revoked token: one fresh token, one more try
                continue
            if response.status_code >= 400:
                raise self._status_error(response, sent_file=sends_file)
            return response

    def _status_error(self, response: requests.Response, *, sent_file: bool) -> PlatformError:
        status = response.status_code
        code, message = _error_fields(response)
        fields: dict[str, Any] = {"status": status, "code": code, "platform_message": message}
        said = f" : {message.rstrip('. ')}" if message else f" ({code})" if code else ""
        if status == 401:
            return AuthenticationFailed(
                "La plateforme de facturation électronique refuse notre connexion "
                f"(jeton refusé){said}. Vérifiez l'identifiant et le secret client.",
                **fields,
            )
        if status == 403:
            return AuthenticationFailed(
                f"Le compte n'a pas les droits nécessaires sur la plateforme{said}.", **fields
            )
        busy = busy_or_down(
            response, "La plateforme de facturation électronique", sent_file=sent_file, **fields
        )
        if busy is not None:
            return busy
        if code == "AlreadyExistingFlow" or status == 409:
            already = AlreadyExistingFlow(f"La plateforme a déjà reçu ce fichier{said}.", **fields)
            already.flow_id = _named_flow(response)
            return already
        return PermanentRejection(f"La plateforme a refusé le fichier{said}.", **fields)

    # -- the Flow API ----------------------------------------------------------------------
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
    ) -> FlowRef:
        info: dict[str, Any] = {
            "trackingId": tracking_id,
            "name": filename,
            "processingRule": processing_rule,
            "flowSyntax": flow_syntax,
            "sha256": sha256 or sha256_of(file),
        }
        if flow_profile:
            info["flowProfile"] = flow_profile
        content_type = CONTENT_TYPES.get(flow_syntax, "application/xml")
        parts = {
            "flowInfo": (None, json.dumps(info), "application/json"),
            "file": (filename, file, content_type),
        }
        response = self._request("POST", "/v1/flows", sends_file=True, files=parts)
        try:
            body = response.json()
            return FlowRef(
                str(body["flowId"]),
                str(body.get("trackingId") or tracking_id),
                str(body.get("submittedAt") or ""),
            )
        except (ValueError, KeyError, TypeError):
            raise TransientFailure(
                "La plateforme a accepté le fichier mais sa réponse est illisible.",
                status=response.status_code,
                maybe_delivered=True,
            ) from None

    def search(
        self,
        *,
        updated_after: str | None = None,
        tracking_id: str | None = None,
        flow_types: Sequence[str] | None = None,
        direction: str | None = None,
        limit: int = PAGE_SIZE,
    ) -> list[FlowInfo]:
        """Every matching flow, oldest update first, fetched page by page."""
        where: dict[str, Any] = {}
        if tracking_id:
            where["trackingId"] = tracking_id
        if flow_types:
            where["flowType"] = list(flow_types)
        if direction:
            where["flowDirection"] = [direction]
        page_size = max(1, min(limit, PAGE_SIZE))
        found: dict[str, FlowInfo] = {}
        after = updated_after
        while True:
            query = dict(where, updatedAfter=after) if after else where
            if not query:
                query = {"updatedAfter": "1970-01-01T00:00:00Z"}
            response = self._request(
                "POST",
                "/v1/flows/search",
                sends_file=False,
                json={"limit": page_size, "where": query},
            )
            if response.status_code == 204:  # allowed since 1.2.0: nothing new
                break
            try:
                page = [FlowInfo.from_json(r) for r in response.json().get("results") or []]
            except (ValueError, KeyError, TypeError, AttributeError):
                raise TransientFailure(
                    "La plateforme a renvoyé une liste de flux illisible.",
                    status=response.status_code,
                ) from None
            fresh = [f for f in page if f.flow_id not in found]
            found.update((f.flow_id, f) for f in page)
            stamps = sorted(f.updated_at for f in page if f.updated_at)
            # A full page means more may follow: ask again after its newest update.
            if len(page) < page_size or not fresh or not stamps or stamps[-1] == after:
                break
            after = stamps[-1]
        return sorted(found.values(), key=lambda f: (f.updated_at or "", f.flow_id))

    def find_deposit(
        self,
        *,
        tracking_id: str,
        filename: str,
        since: date | None = None,
        unsure_for: timedelta | None = None,
    ) -> str | None:
        """The flow id of an earlier deposit of ours with this ``trackingId``, or None.
        ``filename``, ``since`` and ``unsure_for`` are for platforms without a tracking id
        (Chorus Pro)."""
        for flow in self.search(tracking_id=tracking_id):
            if flow.tracking_id == tracking_id and flow.direction in (None, "Out"):
                return flow.flow_id
        return None

    def flow_info(self, flow_id: str) -> FlowInfo:
        """A flow's metadata, with its acknowledgement (``GET /v1/flows/{id}``)."""
        response = self._request(
            "GET", f"/v1/flows/{flow_id}", sends_file=False, params={"docType": "Metadata"}
        )
        try:
            return FlowInfo.from_json(response.json())
        except (ValueError, KeyError, TypeError, AttributeError):
            raise TransientFailure(
                "La plateforme a renvoyé la description d'un flux illisible.",
                status=response.status_code,
            ) from None

    def fetch(self, flow_id: str, doc_type: str = "Original") -> bytes:
        response = self._request(
            "GET", f"/v1/flows/{flow_id}", sends_file=False, params={"docType": doc_type}
        )
        return response.content

    def send_report(
        self,
        file: bytes,
        *,
        tracking_id: str,
        sha256: str | None = None,
        processing_rule: str = "B2C",
    ) -> FlowRef:
        """An e-reporting file (FRR): B2C sales (``B2C``), or only invoices to buyers
        outside France and their payments (``B2BInt``)."""
        return self.submit(
            file,
            filename=f"e-reporting-{tracking_id}.xml",
            tracking_id=tracking_id,
            processing_rule=processing_rule,
            flow_syntax="FRR",
            flow_profile=None,
            sha256=sha256,
        )

    def health(self) -> bool:
        try:
            response = self._http.get(self._base + "/v1/healthcheck", timeout=self.settings.timeout)
        except requests.RequestException:
            return False
        return response.status_code == 200
