"""Talking to a plateforme agréée through the AFNOR XP Z12-013 Flow API.

``HttpFlowClient`` implements ``flows.FlowPlatform`` over HTTP with an OAuth2
client-credentials token; its failures are those of ``platform_http``, sorted by what
the caller should do.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import requests

from app.einvoice.pdp.config import PlatformSettings
from app.einvoice.pdp.flows import PAGE_SIZE, FlowInfo, FlowRef, sha256_of
from app.einvoice.pdp.platform_http import (
    AlreadyExistingFlow,
    AuthenticationFailed,
    NetworkWording,
    PermanentRejection,
    PlatformError,
    TokenCache,
    TransientFailure,
    busy_or_down,
    network_failure,
    token_from,
)

CONTENT_TYPES = {"Factur-X": "application/pdf"}


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


PLATFORM_NAMES = NetworkWording(
    "La plateforme de facturation électronique est injoignable.",
    "La plateforme de facturation électronique n'a pas répondu à temps.",
    "La connexion à la plateforme de facturation électronique a été coupée.",
)


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
