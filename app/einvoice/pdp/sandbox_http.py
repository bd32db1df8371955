"""The HTTP face of the sandbox platform (``sandbox``): routes the Flow API, the OAuth2
token endpoint and ``/sandbox/control``, and applies the planned faults to each request.

Standard library only: ``ThreadingHTTPServer``, one thread per connection, HTTP/1.1
keep-alive. Every answer carries a Content-Length; a dropped answer closes the socket.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
from email.parser import HeaderParser
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote_plus, urlsplit

import facturx

from app.einvoice.pdp.local_server import TrackingServer
from app.einvoice.pdp.sandbox_store import ApiError, StoredFlow
from app.errors import InvalidInput

if TYPE_CHECKING:
    from app.einvoice.pdp.sandbox import SandboxPlatform

log = logging.getLogger(__name__)

_MAX_BODY = 20 * 1024 * 1024
_JSON = "application/json; charset=utf-8"
_REFUSALS = {
    429: ("TOO_MANY_REQUESTS", "Trop de requêtes : réessayez plus tard."),
    503: ("RESOURCE_ERROR", "Plateforme indisponible (panne simulée)."),
}
Answer = tuple[int, bytes, str, dict[str, str]]


class Server(TrackingServer):
    def __init__(self, address: tuple[str, int], platform: SandboxPlatform) -> None:
        self.platform = platform
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: with Nagle's algorithm and the client's delayed
    # ACK, every answer on a kept-alive connection would wait some 40 ms.
    disable_nagle_algorithm = True
    server: Server

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sandbox: " + format, *args)

    def _handle(self, method: str) -> None:
        platform = self.server.platform
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        try:
            body = self._body()
            if path == "/sandbox/control" and method == "POST":
                return self._control(body)
            op = _operation(method, path)
        except ApiError as exc:
            return self._error(exc)
        plan = platform.plan_faults(op)
        if plan.refuse:
            code, message = _REFUSALS.get(plan.refuse, ("INTERNAL_ERROR", "Erreur simulée."))
            headers = {"Retry-After": str(plan.retry_after)} if plan.refuse == 429 else {}
            return self._error(ApiError(plan.refuse, code, message), headers)
        if plan.stall and platform.stopping.wait(plan.stall):
            self.close_connection = True
            return None
        try:
            answer = self._route(op, path, url.query, body, plan.reject)
        except ApiError as exc:
            answer = (exc.status, _dump(exc.payload()), _JSON, _auth_header(exc))
        except Exception:
            log.exception("sandbox: %s %s failed", method, self.path)
            error = ApiError(500, "INTERNAL_ERROR", "Erreur interne du bac à sable.")
            answer = (500, _dump(error.payload()), _JSON, {})
        if plan.drop:
            self.close_connection = True  # the "lost answer": processed, never told
            return None
        return self._send(*answer)

    def _route(self, op: str, path: str, query: str, body: bytes,
               reject: bool) -> Answer:  # fmt: skip
        platform = self.server.platform
        if op == "token":
            return self._token(body)
        if op == "health":
            return 200, b"", "text/plain; charset=utf-8", {}
        self._authorize()
        if op == "submit":
            parts = _multipart(self.headers.get("Content-Type", ""), body)
            if "flowInfo" not in parts or "file" not in parts:
                raise ApiError(400, "MISSING_REQUIRED_FIELD", "Parties flowInfo et file requises.")
            info = _json(parts["flowInfo"][1])
            if not isinstance(info, dict):
                raise ApiError(400, "INVALID_FIELD", "flowInfo doit être un objet JSON.")
            stored = platform.submit(info, parts["file"][1], parts["file"][0], reject=reject)
            return 202, _dump(stored.to_json()), _JSON, {}
        if op == "search":
            found = platform.search(_json(body))
            if not found["results"]:  # Flow API 1.2.0: nothing new is 204 No Content
                return 204, b"", _JSON, {}
            return 200, _dump(found), _JSON, {}
        if op == "directory":
            try:
                lines = platform.directory.search(_json(body))
            except InvalidInput as exc:
                raise ApiError(400, "INVALID_FIELD", exc.message) from exc
            answer = {"totalNumberOfResults": len(lines), "results": lines}
            return 200, _dump(answer), _JSON, {}
        flow_id = path.removeprefix("/v1/flows/")
        flow = platform.get(flow_id)
        if flow is None:
            raise ApiError(404, "MISSING_RESOURCE", f"Flux inconnu : « {flow_id} ».")
        doc_type = parse_qs(query).get("docType", ["Metadata"])[0]
        return _document(flow, doc_type)

    def _token(self, body: bytes) -> Answer:
        form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        basic = self.headers.get("Authorization", "")
        if basic.lower().startswith("basic "):
            try:
                pair = base64.b64decode(basic[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                pair = ""
            client_id, _, secret = (unquote_plus(part) for part in pair.partition(":"))
        platform = self.server.platform
        if form.get("grant_type") != "client_credentials":
            message = "Seul grant_type=client_credentials est accepté."
            error = {"error": "unsupported_grant_type", "error_description": message}
            return 400, _dump(error), _JSON, {}
        token = platform.issue_token(client_id, secret)
        if token is None:
            error = {"error": "invalid_client",
                     "error_description": "Identifiant ou secret client incorrect."}  # fmt: skip
            return 401, _dump(error), _JSON, {"WWW-Authenticate": 'Basic realm="pdp-sandbox"'}
        answer = {"access_token": token, "token_type": "Bearer",
                  "expires_in": math.ceil(platform.token_ttl)}  # fmt: skip
        return 200, _dump(answer), _JSON, {"Cache-Control": "no-store"}

    def _authorize(self) -> None:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "MISSING_TOKEN", "Jeton d'accès (Bearer) absent.")
        if not self.server.platform.token_valid(token.strip()):
            raise ApiError(401, "INVALID_TOKEN", "Jeton d'accès invalide ou expiré.")

    def _control(self, body: bytes) -> None:
        try:
            command = _json(body)
            if not isinstance(command, dict):
                raise InvalidInput("La commande doit être un objet JSON.")
            result = self.server.platform.control(command)
        except (InvalidInput, TypeError, ValueError) as exc:
            return self._error(ApiError(400, "INVALID_FIELD", str(exc)))
        except ApiError as exc:
            return self._error(exc)
        return self._send(200, _dump(result), _JSON, {})

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self.close_connection = True
            raise ApiError(413, "FILE_SIZE_EXCEEDED", "Fichier trop volumineux (20 Mo au plus).")
        return self.rfile.read(length) if length > 0 else b""

    def _error(self, error: ApiError, headers: dict[str, str] | None = None) -> None:
        extra = {**_auth_header(error), **(headers or {})}
        self._send(error.status, _dump(error.payload()), _JSON, extra)

    def _send(self, status: int, content: bytes, content_type: str,
              headers: dict[str, str]) -> None:  # fmt: skip
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(content)


def _operation(method: str, path: str) -> str:
    routes = {("POST", "/oauth/token"): "token", ("GET", "/v1/healthcheck"): "health",
              ("POST", "/v1/flows"): "submit", ("POST", "/v1/flows/search"): "search",
              ("POST", "/directory-service/v1/directory-line/search"): "directory"}  # fmt: skip
    if (method, path) in routes:
        return routes[(method, path)]
    if method == "GET" and path.startswith("/v1/flows/") and path.count("/") == 3:
        return "get"
    if any(known == path for _, known in routes) or path.startswith("/v1/flows/"):
        raise ApiError(405, "METHOD_NOT_ALLOWED", f"Méthode {method} non prise en charge ici.")
    raise ApiError(404, "MISSING_RESOURCE", f"Ressource inconnue : « {path} ».")


def _document(flow: StoredFlow, doc_type: str) -> Answer:
    if doc_type == "Metadata":
        return 200, _dump(flow.to_json()), _JSON, {}
    if doc_type not in ("Original", "Converted", "ReadableView"):
        raise ApiError(400, "INVALID_FIELD", f"docType inconnu : « {doc_type} ».")
    is_pdf = b"%PDF-" in flow.content[:1024]
    content, name = flow.content, flow.name
    if doc_type == "Converted":
        if not is_pdf:
            raise ApiError(404, "MISSING_RESOURCE", "Aucun document converti pour ce flux.")
        name, content = facturx.get_xml_from_pdf(flow.content, check_xsd=False)
        is_pdf = False
    elif doc_type == "ReadableView" and not is_pdf:
        raise ApiError(404, "MISSING_RESOURCE", "Aucune version lisible (PDF) pour ce flux.")
    kind = "application/pdf" if is_pdf else "application/xml"
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
    disposition = f"attachment;filename=\"{ascii_name}\";filename*=UTF-8''{quote(name)}"
    return 200, content, kind, {"Content-Disposition": disposition}


def _multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The parts of a multipart/form-data body: name -> (filename, bytes)."""
    header = HeaderParser().parsestr(f"Content-Type: {content_type}\n\n")
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise ApiError(400, "INVALID_CONTENT_TYPE", "Envoi attendu en multipart/form-data.")
    parts: dict[str, tuple[str | None, bytes]] = {}
    for section in body.split(b"--" + boundary.encode())[1:]:
        if section.startswith(b"--"):
            break
        head, found, data = section.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = HeaderParser().parsestr(head.decode("utf-8", "replace") + "\n\n")
        name = headers.get_param("name", header="content-disposition")
        if found and isinstance(name, str):
            parts[name] = (headers.get_filename(), data.removesuffix(b"\r\n"))
    return parts


def _json(data: bytes) -> Any:
    try:
        return json.loads(data or b"null")
    except ValueError as exc:
        raise ApiError(400, "INVALID_FIELD", "JSON illisible.") from exc


def _dump(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _auth_header(error: ApiError) -> dict[str, str]:
    return {"WWW-Authenticate": 'Bearer error="invalid_token"'} if error.status == 401 else {}
