"""A local stand-in for PISTE and the part of Chorus Pro that ``chorus`` uses, for tests.

``FakeChorusPro`` serves on 127.0.0.1 (port 0: any free port) the OAuth2 token endpoint
and the API paths of ``chorus_api.ENDPOINTS``, checks the two logins of every call (bearer
token, ``cpro-account``), keeps the deposits, moves their statuses on when told
(``advance``) and misbehaves when told (``fail_next``, ``drop_next``, ``expire_password``).

It is built from the facts of the specifications folder (``chorus-pro.md``), like the
client: every call a JSON ``POST`` but the health check (``GET``); no search of flows by
file name; a deposit holds an invoice, found by the supplier's search, only once it is
integrated; an invoice's history is read by its ``identifiantFactureCPP``. Standard library
only. Its codes and messages imitate Chorus Pro; they are not Chorus Pro's own.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.einvoice.pdp.chorus import invoice_number_of
from app.einvoice.pdp.chorus_api import (
    ACCOUNT_HEADER,
    CHORUS_TIMEZONE,
    ENDPOINTS,
    MAX_FILE_BYTES,
    SYNTAXES,
)
from app.einvoice.pdp.chorus_statuses import INTEGRATED
from app.einvoice.pdp.local_server import TrackingServer
from app.errors import InvalidInput

log = logging.getLogger(__name__)

TOKEN_PATH = "/api/oauth/token"
API_PREFIX = "/cpro"
ROUTES = {API_PREFIX + getattr(ENDPOINTS, f.name): f.name for f in fields(ENDPOINTS)}
GET_OPERATIONS = frozenset({"health"})
OPERATIONS = ("token", *ROUTES.values())
PENDING = "IN_EN_ATTENTE_TRAITEMENT_CPP"
# What the buyer's side does next, step by step, when nothing else is said.
NEXT = {
    "DEPOSEE": "MISE_A_DISPOSITION",
    "MISE_A_DISPOSITION": "SERVICE_FAIT",
    "SERVICE_FAIT": "MANDATEE",
    "MANDATEE": "MISE_EN_PAIEMENT",
    "SUSPENDUE": "COMPLETEE",
    "COMPLETEE": "MISE_A_DISPOSITION",
    "A_RECYCLER": "MISE_A_DISPOSITION",
}
_MAX_BODY = 45 * 1024 * 1024  # 30 MB of file, in base64


@dataclass
class FakeDeposit:
    flow_id: str
    filename: str
    content: bytes
    syntax: str
    with_signature: bool
    user_id: int | None
    at: datetime
    flow_state: str = PENDING
    invoice_id: int | None = None
    invoice_status: str | None = None
    reason: str = ""
    history: list[tuple[str, str, str]] = field(default_factory=list)  # code, comment, when

    @property
    def day(self) -> date:
        """The deposit date, as Chorus Pro gives it and searches it: a day in Paris."""
        return self.at.astimezone(CHORUS_TIMEZONE).date()

    @property
    def invoice_number(self) -> str:
        # Chorus Pro reads it from the invoice itself; the app names files after it.
        return invoice_number_of(self.filename)

    @property
    def state(self) -> str:
        return self.invoice_status or self.flow_state


@dataclass
class _Fault:
    kind: str  # "fail" or "drop"
    remaining: int
    ops: frozenset[str]
    status: int = 500
    message: str | None = None


class _Answer(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


class FakeChorusPro:
    """The fake platform, a context manager that starts it and always stops it."""

    def __init__(
        self,
        *,
        client_id: str = "comptoir",
        client_secret: str = "secret-piste",
        account_login: str = "TECH_comptoir@cpro.fr",
        account_password: str = "motdepasse-technique",
        token_ttl: float = 3600.0,
        subscribed: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.account_login, self.account_password = account_login, account_password
        self.token_ttl, self.subscribed = token_ttl, subscribed
        self.host, self._port = host, port
        self.lock = threading.RLock()
        self.token_requests = 0
        self.calls: list[str] = []  # the operations answered or dropped, in order
        self._deposits: list[FakeDeposit] = []
        self._tokens: dict[str, float] = {}
        self._faults: list[_Fault] = []
        self._last_invoice_id = 1000
        self.password_expired = False
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # tests may set it
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- life ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    @property
    def base_url(self) -> str:
        return self.url + API_PREFIX

    def start(self) -> FakeChorusPro:
        if self._server is None:
            self._server = _Server((self.host, self._port), self)
            self._port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                name=f"chorus-fake-{self._port}", daemon=True,
            )  # fmt: skip
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> FakeChorusPro:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- what tests look at and change ---------------------------------------------------
    @property
    def deposits(self) -> list[FakeDeposit]:
        with self.lock:
            return list(self._deposits)

    def fail_next(self, n: int = 1, status: int = 500, *, on: str | None = None,
                  message: str | None = None) -> None:  # fmt: skip
        """Answer the next ``n`` requests (of operation ``on``, or any) with ``status``,
        unprocessed. A 200 answers ``codeRetour`` 1: refused by Chorus Pro itself."""
        self._arm(_Fault("fail", n, _ops(on), status, message))

    def drop_next(self, n: int = 1, *, on: str | None = None) -> None:
        """Process the next ``n`` requests (a deposit is stored), then hang up unanswered."""
        self._arm(_Fault("drop", n, _ops(on)))

    def expire_password(self) -> None:
        """The technical account's password has expired: every call is refused until the
        password is reset (``account_password`` changed)."""
        with self.lock:
            self.password_expired = True

    def expire_tokens(self) -> None:
        with self.lock:
            self._tokens.clear()

    def advance(self, flow_id: str | None = None, *, to: str | None = None,
                reason: str = "") -> list[str]:  # fmt: skip
        """Move one deposit (or every deposit) one step on, or straight ``to`` a status:
        a flow state (``IN_REJETE``…) or an invoice status (``SUSPENDUE``…), with the
        ``reason`` Chorus Pro would show. Returns the new states."""
        with self.lock:
            chosen = [d for d in self._deposits if flow_id in (None, d.flow_id)]
            if flow_id is not None and not chosen:
                raise InvalidInput(f"Flux inconnu : « {flow_id} ».")
            for deposit in chosen:
                self._move(deposit, to, reason)
            return [d.state for d in chosen]

    def _move(self, deposit: FakeDeposit, to: str | None, reason: str) -> None:
        if to is None:
            if deposit.invoice_status is not None:
                to = NEXT.get(deposit.invoice_status)
            elif deposit.flow_state not in INTEGRATED | {"IN_REJETE", "IN_INCIDENTE"}:
                readable = deposit.content.startswith(b"%PDF-")
                to = "DEPOSEE" if readable else "IN_REJETE"
                reason = reason or ("" if readable else "Le fichier n'est pas un PDF lisible.")
            if to is None:
                return
        deposit.reason = reason
        if to.startswith("IN_"):
            deposit.flow_state, deposit.invoice_status = to, None
            return
        deposit.flow_state, deposit.invoice_status = "IN_INTEGRE", to
        deposit.history.append((to, reason, self.clock().isoformat()))
        if deposit.invoice_id is None:
            self._last_invoice_id += 1
            deposit.invoice_id = self._last_invoice_id

    def _arm(self, fault: _Fault) -> None:
        if fault.remaining < 0:
            raise InvalidInput("Le nombre de requêtes doit être positif.")
        with self.lock:
            self._faults.append(fault)

    def take_fault(self, op: str) -> _Fault | None:
        with self.lock:
            for fault in self._faults:
                if op in fault.ops and fault.remaining > 0:
                    fault.remaining -= 1
                    if not fault.remaining:
                        self._faults.remove(fault)
                    return fault
        return None

    # -- the platform ------------------------------------------------------------------
    def issue_token(self, form: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            self.token_requests += 1
        if form.get("grant_type") != "client_credentials":
            raise _Answer(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant_type=client_credentials attendu.",
                },
            )
        good = secrets.compare_digest(form.get("client_id", "").encode(), self.client_id.encode())
        good &= secrets.compare_digest(
            form.get("client_secret", "").encode(), self.client_secret.encode()
        )
        if not good:
            raise _Answer(
                401,
                {"error": "invalid_client", "error_description": "Client authentication failed."},
            )
        if "openid" not in form.get("scope", "").split():
            raise _Answer(400, {"error": "invalid_scope", "error_description": "scope=openid."})
        token = secrets.token_urlsafe(24)
        with self.lock:
            self._tokens[token] = time.monotonic() + self.token_ttl
        return {"access_token": token, "token_type": "Bearer",
                "expires_in": math.ceil(self.token_ttl), "scope": "openid"}  # fmt: skip

    def authorize(self, headers: Any) -> None:
        scheme, _, token = str(headers.get("Authorization", "")).partition(" ")
        with self.lock:
            expires = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expires is None or time.monotonic() >= expires:
            raise _Answer(401, {"error": "invalid_token",
                                "error_description": "Jeton absent, invalide ou expiré."},
                          {"WWW-Authenticate": 'Bearer error="invalid_token"'})  # fmt: skip
        if not self.subscribed:
            raise _Answer(
                403,
                {
                    "error": "access_denied",
                    "error_description": "Application non abonnée à cette API.",
                },
            )
        try:
            pair = base64.b64decode(str(headers.get(ACCOUNT_HEADER, "")), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            pair = ""
        login, _, password = pair.partition(":")
        good = secrets.compare_digest(login.encode(), self.account_login.encode())
        good &= secrets.compare_digest(password.encode(), self.account_password.encode())
        if not good:
            raise _Answer(401, {"codeRetour": 1, "libelle": "Compte technique non reconnu."})
        if self.password_expired:
            expired = "Le mot de passe du compte technique a expiré."
            raise _Answer(401, {"codeRetour": 1, "libelle": expired})

    def handle(self, op: str, query: dict[str, Any]) -> dict[str, Any]:
        if op == "deposit":
            return self._deposit(query)
        if op == "flow_report":
            return self._flow_report(str(query.get("numeroFluxDepot") or ""))
        if op == "invoices":
            return self._invoices(query)
        if op == "history":
            return self._history(query.get("idFacture"))
        return {"status": "UP"}

    def _deposit(self, query: dict[str, Any]) -> dict[str, Any]:
        name, syntax = query.get("nomFichier"), query.get("syntaxeFlux")
        if not isinstance(name, str) or not name.strip():
            raise _Answer(400, {"codeRetour": 2, "libelle": "Le nom du fichier est obligatoire."})
        if syntax not in SYNTAXES.values():
            raise _Answer(400, {"codeRetour": 3, "libelle": f"Syntaxe de flux inconnue : {syntax}"})
        try:
            content = base64.b64decode(str(query.get("fichierFlux") or ""), validate=True)
        except binascii.Error:
            content = b""
        if not content:
            raise _Answer(400, {"codeRetour": 4, "libelle": "Fichier absent ou mal encodé."})
        if len(content) > MAX_FILE_BYTES:
            raise _Answer(400, {"codeRetour": 7, "libelle": "Fichier trop volumineux (30 Mo)."})
        user = query.get("idUtilisateurCourant")
        with self.lock:
            deposit = FakeDeposit(
                f"CPP{len(self._deposits) + 1:022d}", name, content, str(syntax),
                bool(query.get("avecSignature")), user if isinstance(user, int) else None,
                self.clock(),
            )  # fmt: skip
            self._deposits.append(deposit)
        return {"codeRetour": 0, "libelle": "GCU_MSG_01_000", "numeroFluxDepot": deposit.flow_id,
                "dateDepot": deposit.day.isoformat(), "syntaxeFlux": syntax}  # fmt: skip

    def _find(self, flow_id: str) -> FakeDeposit | None:
        return next((d for d in self._deposits if d.flow_id == flow_id), None)

    def _flow_report(self, flow_id: str) -> dict[str, Any]:
        with self.lock:
            deposit = self._find(flow_id)
            if deposit is None:
                return {"codeRetour": 5, "libelle": "Flux introuvable."}
            errors = (
                [{"codeErreur": "FX01", "libelleErreur": deposit.reason, "natureErreur": "R"}]
                if deposit.flow_state == "IN_REJETE" and deposit.reason else []
            )  # fmt: skip
            return {
                "codeRetour": 0, "libelle": "TRA_MSG_00.000", "numeroFluxDepot": flow_id,
                "nomFichier": deposit.filename, "dateDepotFlux": deposit.at.isoformat(),
                "etatCourantDepotFlux": deposit.flow_state, "listeErreurDP": [],
                "listeErreurTechnique": errors,
            }  # fmt: skip

    def _invoices(self, query: dict[str, Any]) -> dict[str, Any]:
        flow_id, number = query.get("numeroFluxDepot"), query.get("numeroFacture")
        start, end = _period(query)
        with self.lock:
            rows = [
                {
                    "identifiantFactureCPP": d.invoice_id, "numeroFacture": d.invoice_number,
                    "numeroFluxDepot": d.flow_id, "dateDepot": d.day.isoformat(),
                    "statut": d.invoice_status, "commentaireEtatCourant": d.reason,
                }
                for d in self._deposits
                if d.invoice_status is not None and flow_id in (None, d.flow_id)
                and number in (None, d.invoice_number) and start <= d.day <= end
            ]  # fmt: skip
        pages = {"pageCourante": 1, "pages": 1, "nbResultatsParPage": len(rows),
                 "total": len(rows)}  # fmt: skip
        return {"codeRetour": 0, "libelle": "GCU_MSG_01_000", "listeFactures": rows,
                "parametresRetour": pages}  # fmt: skip

    def _history(self, invoice_id: Any) -> dict[str, Any]:
        with self.lock:
            deposit = next((d for d in self._deposits if d.invoice_id == invoice_id), None)
            if deposit is None or deposit.invoice_status is None:
                return {"codeRetour": 8, "libelle": "Facture introuvable."}
            steps = [
                {"statutCode": code, "statutCommentaire": comment, "statutDatePassage": when}
                for code, comment, when in deposit.history
            ]
            return {"codeRetour": 0, "libelle": "GCU_MSG_01_000", "idFacture": invoice_id,
                    "statutCourantCode": deposit.invoice_status,
                    "historiquesDesStatuts": {"histoStatut": steps}}  # fmt: skip


def _period(query: dict[str, Any]) -> tuple[date, date]:
    try:
        start = date.fromisoformat(str(query.get("periodeDateDepotDu") or "1970-01-01"))
        end = date.fromisoformat(str(query.get("periodeDateDepotAu") or "9999-12-31"))
    except ValueError:
        raise _Answer(400, {"codeRetour": 6, "libelle": "Période de dépôt invalide."}) from None
    return start, end


def _ops(on: str | None) -> frozenset[str]:
    if on is not None and on not in OPERATIONS:
        raise InvalidInput(f"Opération inconnue : « {on} » ({', '.join(OPERATIONS)}).")
    return frozenset(OPERATIONS if on is None else (on,))


class _Server(TrackingServer):
    def __init__(self, address: tuple[str, int], fake: FakeChorusPro) -> None:
        self.fake = fake
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: without this, Nagle's algorithm and delayed
    # ACKs hold every answer on a kept-alive connection some 40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("chorus fake: " + format, *args)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        fake = self.server.fake
        path = urlsplit(self.path).path.rstrip("/")
        body = self._read_body()
        op = "token" if path == TOKEN_PATH else ROUTES.get(path)
        if op is None:
            return self._send(404, {"codeRetour": 404, "libelle": f"Service inconnu : {path}"})
        if (method == "GET") != (op in GET_OPERATIONS):
            return self._send(405, {"codeRetour": 405, "libelle": "Méthode non prise en charge."})
        fault = fake.take_fault(op)
        if fault is not None and fault.kind == "fail":
            with fake.lock:
                fake.calls.append(op)
            if fault.status == 200:
                return self._send(
                    200, {"codeRetour": 1, "libelle": fault.message or "Demande refusée."}
                )
            headers = {"Retry-After": "1"} if fault.status in (429, 503) else {}
            message = fault.message or "Erreur simulée."
            return self._send(fault.status, {"codeRetour": fault.status, "libelle": message},
                              headers)  # fmt: skip
        try:
            if op == "token":
                form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
                status, answer, headers = 200, fake.issue_token(form), {"Cache-Control": "no-store"}
            else:
                fake.authorize(self.headers)
                status, answer, headers = 200, fake.handle(op, _json(body)), {}
        except _Answer as exc:
            status, answer, headers = exc.status, exc.body, exc.headers
        with fake.lock:
            fake.calls.append(op)
        if fault is not None:  # "drop": done, and never told
            self.close_connection = True
            return None
        return self._send(status, answer, headers)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self.close_connection = True
            return b""
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, answer: dict[str, Any],
              headers: dict[str, str] | None = None) -> None:  # fmt: skip
        content = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(content)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(content)


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise _Answer(400, {"codeRetour": 400, "libelle": "JSON illisible."}) from None
    if not isinstance(data, dict):
        raise _Answer(400, {"codeRetour": 400, "libelle": "Objet JSON attendu."})
    return data
