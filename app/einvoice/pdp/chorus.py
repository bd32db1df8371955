"""Depositing Factur-X invoices on Chorus Pro, the portal of public-sector buyers.

Chorus Pro sits behind the PISTE gateway and asks for two logins on every call: an OAuth2
client-credentials token of the shop's PISTE application (``Authorization: Bearer``) and
the Chorus Pro technical account (``cpro-account: base64(login:password)``).

A deposit is a *flow* (``numeroFluxDepot``) that Chorus Pro first integrates or rejects as
a file (``etatCourantDepotFlux``: ``IN_…``); once integrated it holds an *invoice* whose
business status (``DEPOSEE``, ``MISE_A_DISPOSITION``, ``SUSPENDUE``…) the public buyer
moves on. ``ChorusProClient.status`` reads both and answers in the app's French words.

Chorus Pro has no idempotency key and no search of flows by file name. A deposit whose
answer was lost is therefore looked for as an *invoice*: the supplier's invoices of that
number deposited since the day before it was queued (``factures/v1/rechercher/fournisseur``
by ``numeroFacture``). A flow Chorus Pro has not integrated yet holds no invoice, and a
rejected flow never will: while the last uncertain attempt is recent (``settle``, an hour by
default) an empty search means « not yet », and the file is not sent again; once that time
has passed with no invoice, the earlier flow was rejected or never arrived, and depositing
again is right.

Everything taken from outside (addresses, paths, field names, status codes) is gathered
in ``chorus_api``, so that it can be corrected in one place. It follows the facts gathered in the
specifications folder (``chorus-pro.md``): the PISTE addresses and ``scope=openid``;
``factures/v1/deposer/flux`` (``fichierFlux``, ``nomFichier``, ``syntaxeFlux``,
``avecSignature`` → ``numeroFluxDepot``, ``dateDepot``; 30 MB at most);
``transverses/v1/consulterCRDetaille`` (``etatCourantDepotFlux``, ``listeErreurDP``,
``listeErreurTechnique``; ``IN_…`` and ``QP_…`` states); ``factures/v1/rechercher/fournisseur``
(``numeroFacture``, ``numeroFluxDepot``, ``periodeDateDepotDu``/``Au`` → ``listeFactures``);
``factures/v1/consulter/historique`` (``idFacture`` → ``statutCourantCode``,
``historiquesDesStatuts.histoStatut``); ``GET transverses/v1/health-check``. The tests run
against a fake written from the same facts; none of it has been tried against the real
Chorus Pro (qualification or production).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import PurePath
from typing import Any

import requests

from app.einvoice.pdp.chorus_api import (
    ACCOUNT_HEADER,
    CHORUS_TIMEZONE,
    ENDPOINTS,
    MAX_FILE_BYTES,
    OK,
    QUIET_LIBELLES,
    SYNTAXES,
    TOKEN_SCOPE,
    Endpoints,
)
from app.einvoice.pdp.chorus_statuses import (
    INTEGRATED,
    ChorusStatus,
    describe,
)
from app.einvoice.pdp.config import ChorusSettings
from app.einvoice.pdp.flows import FlowRef
from app.einvoice.pdp.platform_http import (
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

log = logging.getLogger(__name__)

SEARCH_DAYS = 31  # how far back a lost deposit is looked for when nothing says when it was
SETTLE = timedelta(hours=1)  # how long an unintegrated deposit may stay out of the search
_JOURNAL_SIZE = 1000


class PasswordExpired(AuthenticationFailed):
    """The technical account's password has expired: it is reset on the portal."""


class WrongAddress(AuthenticationFailed):
    """Chorus Pro does not know the service asked for: the API address is wrong."""


@dataclass(frozen=True)
class ChorusDeposit:
    """An invoice of the shop on Chorus Pro, as the supplier's search lists it."""

    flow_id: str
    number: str
    deposited_at: str
    state: str
    invoice_id: str = ""


@dataclass
class _Attempt:
    since: date
    unsure: bool = False  # sent, and no answer said whether Chorus Pro kept it
    ref: FlowRef | None = None
    unsure_at: float = 0.0  # time.monotonic() of the uncertain attempt


def invoice_number_of(filename: str) -> str:
    """The invoice number in an outbox file name (``F2026-000012_1a2b3c4d.pdf``, or
    ``F2026-000012.pdf``): Chorus Pro knows deposits by the number inside the invoice."""
    stem = PurePath(filename).stem
    number, sep, suffix = stem.rpartition("_")
    if sep and len(suffix) == 8 and all(c in "0123456789abcdef" for c in suffix):
        return number
    return stem


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _is_ok(body: dict[str, Any]) -> bool:
    return str(body.get("codeRetour", OK)).strip() == str(OK)


class ChorusProClient(TokenCache):
    """Chorus Pro over HTTP. One instance per thread (``requests.Session`` is not shared
    across threads); the tracking ids it remembers live as long as the instance."""

    def __init__(
        self,
        settings: ChorusSettings,
        *,
        endpoints: Endpoints = ENDPOINTS,
        search_days: int = SEARCH_DAYS,
        settle: timedelta = SETTLE,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.endpoints = endpoints
        self.search_days = search_days
        self.settle = settle
        self._base = settings.base_url.rstrip("/")
        self._http = requests.Session()
        pair = f"{settings.account_login}:{settings.account_password}"
        self._account = base64.b64encode(pair.encode("utf-8")).decode("ascii")
        self._init_token_cache()
        self._journal: dict[str, _Attempt] = {}
        self._journal_lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ChorusProClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- deposits ------------------------------------------------------------------------
    def submit(
        self,
        file: bytes,
        *,
        filename: str,
        tracking_id: str,
        processing_rule: str = "B2G",
        flow_syntax: str = "Factur-X",
        flow_profile: str | None = None,
        sha256: str | None = None,
        maybe_deposited: bool = False,
    ) -> FlowRef:
        """Deposit one Factur-X file. ``processing_rule``, ``flow_profile`` and ``sha256``
        exist for the ``FlowPlatform`` signature only: Chorus Pro takes none of them.

        ``maybe_deposited``: an earlier attempt, perhaps by another instance or before a
        restart, may have reached Chorus Pro; it is looked for first.
        """
        syntax = SYNTAXES.get(flow_syntax)
        if syntax is None:
            raise PermanentRejection(
                f"Chorus Pro ne reçoit ici que des factures Factur-X, pas « {flow_syntax} »."
            )
        if not file:
            raise PermanentRejection(f"Le fichier « {filename} » est vide.")
        if len(file) > MAX_FILE_BYTES:
            raise PermanentRejection(
                f"Le fichier « {filename} » pèse {_megabytes(len(file))} : Chorus Pro n'accepte "
                f"pas plus de {_megabytes(MAX_FILE_BYTES)} par dépôt. Allégez les pièces "
                "jointes de la facture, puis émettez-la de nouveau."
            )
        with self._journal_lock:
            attempt = self._journal.get(tracking_id)
            if attempt is None:
                # A day early: a deposit may be dated on either side of a midnight.
                attempt = _Attempt(since=self._today() - timedelta(days=1))
                self._remember(tracking_id, attempt)
            if attempt.ref is not None:
                return attempt.ref
            look_first = attempt.unsure or maybe_deposited
        if look_first:
            since = None if maybe_deposited else attempt.since
            # After a restart nothing says when the uncertain attempt was: wait as if now.
            unsure_for = (
                timedelta(seconds=time.monotonic() - attempt.unsure_at)
                if attempt.unsure
                else timedelta(0)
            )
            found = self._earlier_deposit(filename, since=since, unsure_for=unsure_for)
            if found is not None:
                log.info("chorus: %s already deposited as %s", filename, found.flow_id)
                attempt.ref = FlowRef(found.flow_id, tracking_id, found.deposited_at)
                attempt.unsure = False
                return attempt.ref
        payload: dict[str, Any] = {
            "fichierFlux": base64.b64encode(file).decode("ascii"),
            "nomFichier": filename,
            "syntaxeFlux": syntax,
            "avecSignature": False,
        }
        if self.settings.user_id is not None:
            payload["idUtilisateurCourant"] = self.settings.user_id
        attempt.unsure, attempt.unsure_at = True, time.monotonic()
        try:
            body = self._post(self.endpoints.deposit, payload, sends_file=True)
        except TransientFailure as exc:
            attempt.unsure = exc.maybe_delivered
            raise
        except PlatformError:
            attempt.unsure = False
            raise
        if not _is_ok(body):
            attempt.unsure = False
            code, message = str(body.get("codeRetour")), self._hide(str(body.get("libelle") or ""))
            raise PermanentRejection(
                f"Chorus Pro a refusé le fichier « {filename} »{_said(message, code)}.",
                status=200,
                code=code,
                platform_message=message,
            )
        flow_id = str(body.get("numeroFluxDepot") or "")
        if not flow_id:
            raise TransientFailure(
                "Chorus Pro a accepté le fichier mais sa réponse est illisible.",
                status=200,
                maybe_delivered=True,
            )
        attempt.ref = FlowRef(flow_id, tracking_id, str(body.get("dateDepot") or self._stamp()))
        attempt.unsure = False
        log.info("chorus: %s deposited as %s", filename, flow_id)
        return attempt.ref

    def find_invoices(
        self, *, number: str | None = None, flow_id: str | None = None, since: date | None = None
    ) -> list[ChorusDeposit]:
        """The shop's invoices on Chorus Pro by invoice number or flow, deposited since
        ``since`` (default: ``search_days`` ago), oldest first."""
        today = self._today()
        start = since or today - timedelta(days=self.search_days)
        query: dict[str, Any] = {
            "periodeDateDepotDu": start.isoformat(),
            "periodeDateDepotAu": today.isoformat(),
        }
        if number is not None:
            query["numeroFacture"] = number
        if flow_id is not None:
            query["numeroFluxDepot"] = flow_id
        what = f"la facture « {number} »" if number else f"le flux « {flow_id} »"
        body = self._post(self.endpoints.invoices, query, sends_file=False)
        if not _is_ok(body):
            message = self._hide(str(body.get("libelle") or ""))
            # Reading this as "nothing there" could deposit the invoice twice.
            raise TransientFailure(
                f"Chorus Pro n'a pas pu rechercher {what}"
                f"{_said(message, str(body.get('codeRetour')))}.",
                status=200,
                code=str(body.get("codeRetour")),
                platform_message=message,
                maybe_delivered=True,
            )
        try:
            found = [
                ChorusDeposit(
                    str(row.get("numeroFluxDepot") or ""),
                    str(row.get("numeroFacture") or ""),
                    str(row.get("dateDepot") or ""),
                    str(row.get("statut") or row.get("statutFacture") or "DEPOSEE"),
                    str(row.get("identifiantFactureCPP") or ""),
                )
                for row in body.get("listeFactures") or []
            ]
        except (TypeError, AttributeError):
            raise TransientFailure(
                "Chorus Pro a renvoyé une liste de factures illisible.",
                status=200,
                maybe_delivered=True,
            ) from None
        return sorted(
            (
                d
                for d in found
                if (number is None or d.number == number)
                and (flow_id is None or d.flow_id in ("", flow_id))
            ),
            key=lambda d: (d.deposited_at, d.flow_id),
        )

    def find_deposit(
        self,
        *,
        tracking_id: str,
        filename: str,
        since: date | None = None,
        unsure_for: timedelta | None = None,
    ) -> str | None:
        """The flow id of an earlier deposit of ``filename``'s invoice made on or after
        ``since`` (default: ``search_days`` ago), or None: nothing there, depositing is safe.
        ``unsure_for``: how long ago the uncertain attempt was (None: unknown, as long ago
        as can be); a recent one not found yet raises ``TransientFailure``.

        The answer is remembered for ``tracking_id``, so that a ``submit`` right after it
        does not search a second time."""
        found = self._earlier_deposit(filename, since=since, unsure_for=unsure_for)
        with self._journal_lock:
            attempt = self._journal.get(tracking_id)
            if attempt is None:
                attempt = _Attempt(since=self._today() - timedelta(days=1))
                self._remember(tracking_id, attempt)
            attempt.unsure = False
            if found is not None:
                attempt.ref = FlowRef(found.flow_id, tracking_id, found.deposited_at)
        return found.flow_id if found is not None else None

    def _earlier_deposit(
        self, filename: str, *, since: date | None, unsure_for: timedelta | None
    ) -> ChorusDeposit | None:
        number = invoice_number_of(filename)
        live = [d for d in self.find_invoices(number=number, since=since) if d.flow_id]
        if live:
            return live[-1]
        if unsure_for is not None and unsure_for < self.settle:
            # A flow not integrated yet holds no invoice: sending again now could double it.
            raise TransientFailure(
                f"Chorus Pro n'a pas encore intégré le dépôt de la facture « {number} » dont "
                "la réponse s'est perdue : nouvelle recherche plus tard, sans renvoi d'ici là.",
                maybe_delivered=True,
            )
        return None

    def _today(self) -> date:
        """Today on Chorus Pro's calendar: from midnight in Paris until midnight UTC (one or
        two hours) it is already tomorrow there, and a search ending on the UTC date would
        miss the deposit just made, then deposit it a second time."""
        return self.clock().astimezone(CHORUS_TIMEZONE).date()

    def _stamp(self) -> str:
        return self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _remember(self, tracking_id: str, attempt: _Attempt) -> None:
        if len(self._journal) >= _JOURNAL_SIZE:
            del self._journal[next(iter(self._journal))]
        self._journal[tracking_id] = attempt

    # -- statuses ------------------------------------------------------------------------
    def status(self, flow_ref: FlowRef | str) -> ChorusStatus:
        """The flow's state until Chorus Pro integrates it, then its invoice's status."""
        flow_id = flow_ref.flow_id if isinstance(flow_ref, FlowRef) else flow_ref
        report = self._post(self.endpoints.flow_report, {"numeroFluxDepot": flow_id},
                            sends_file=False)  # fmt: skip
        if not _is_ok(report):
            # Chorus Pro says it does not know a flow until it has registered it.
            log.info("chorus: flow %s not known yet (%s)", flow_id, report.get("codeRetour"))
            return describe("IN_RECU")
        state = str(report.get("etatCourantDepotFlux") or "IN_RECU")
        errors = self._flow_errors(report)
        if state not in INTEGRATED:
            return describe(state, errors)
        try:
            invoices = self.find_invoices(flow_id=flow_id, since=date(2000, 1, 1))
        except TransientFailure:
            invoices = []
        if not invoices:
            # Integrated "partly" with no invoice of ours: ours was the part left out.
            if state == "IN_INTEGRE_PARTIEL":
                return describe("IN_REJETE", errors)
            return describe(state)
        invoice = invoices[0]
        if invoice.invoice_id:
            history = self._history(invoice.invoice_id)
            if history is not None:
                return history
        return describe(invoice.state)

    def _history(self, invoice_id: str) -> ChorusStatus | None:
        """The invoice's current status from its history, with the last comment given."""
        body = self._post(self.endpoints.history, {"idFacture": _id_value(invoice_id)},
                          sends_file=False)  # fmt: skip
        if not _is_ok(body):
            return None
        code = str(body.get("statutCourantCode") or "")
        if not code:
            return None
        steps = (body.get("historiquesDesStatuts") or {}).get("histoStatut") or []
        reason = ""
        for step in steps if isinstance(steps, list) else []:
            if isinstance(step, dict) and str(step.get("statutCode") or "") == code:
                reason = str(step.get("statutCommentaire") or step.get("commentaire") or "")
        return describe(code, self._hide(reason.strip()))

    def _flow_errors(self, report: dict[str, Any]) -> str:
        messages: list[str] = []
        for key, text in (("listeErreurDP", "libelleErreurDP"),
                          ("listeErreurTechnique", "libelleErreur")):  # fmt: skip
            rows = report.get(key)
            for row in rows if isinstance(rows, list) else []:
                if isinstance(row, dict) and row.get(text):
                    messages.append(str(row[text]).strip())
        libelle = str(report.get("libelle") or "").strip()
        if not messages and libelle and libelle not in QUIET_LIBELLES:
            messages.append(libelle)
        return self._hide(" ; ".join(messages))

    def health(self) -> bool:
        """True when PISTE gives a token and Chorus Pro answers its health check."""
        try:
            self._request("GET", self.endpoints.health, None, sends_file=False)
        except PlatformError:
            return False
        return True

    # -- token ---------------------------------------------------------------------------
    def _fetch_token(self) -> tuple[str, float]:
        s = self.settings
        form = {
            "grant_type": "client_credentials",
            "client_id": s.client_id,
            "client_secret": s.client_secret,
            "scope": TOKEN_SCOPE,
        }
        try:
            response = self._http.post(s.token_url, data=form, timeout=s.timeout)
        except requests.RequestException as exc:
            raise network_failure(exc, CHORUS_NAMES, sent_file=False) from None
        if response.status_code in (400, 401, 403):
            code, message = self._error_fields(response)
            raise AuthenticationFailed(
                "PISTE refuse l'identifiant ou le secret client de l'application : "
                f"vérifiez-les dans les réglages Chorus Pro{_said(message, code)}.",
                status=response.status_code,
                code=code,
                platform_message=message,
            )
        if response.status_code != 200:
            raise self._status_error(response, sent_file=False)
        return token_from(response, "PISTE")

    # -- requests ------------------------------------------------------------------------
    def _post(self, path: str, payload: dict[str, Any], *, sends_file: bool) -> dict[str, Any]:
        return self._request("POST", path, payload, sends_file=sends_file)

    def _request(
        self, method: str, path: str, payload: dict[str, Any] | None, *, sends_file: bool
    ) -> dict[str, Any]:
        data = json.dumps(payload) if payload is not None else None
        renewed = False
        while True:
            headers = {
                "Authorization": f"Bearer {self._bearer(renew=renewed)}",
                ACCOUNT_HEADER: self._account,
                "Content-Type": "application/json;charset=utf-8",
                "Accept": "application/json",
            }
            try:
                response = self._http.request(
                    method, self._base + path, data=data, headers=headers,
                    timeout=self.settings.timeout,
                )  # fmt: skip
            except requests.RequestException as exc:
                raise network_failure(exc, CHORUS_NAMES, sent_file=sends_file) from None
            if response.status_code == 401 and not renewed:
                renewed = True  # expired or revoked token: one fresh token, one more try
                continue
            if response.status_code >= 400:
                raise self._status_error(response, sent_file=sends_file)
            try:
                body = response.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                raise TransientFailure(
                    "Chorus Pro a renvoyé une réponse illisible.",
                    status=response.status_code,
                    maybe_delivered=sends_file,
                )
            return body

    def _status_error(self, response: requests.Response, *, sent_file: bool) -> PlatformError:
        status = response.status_code
        code, message = self._error_fields(response)
        fields: dict[str, Any] = {"status": status, "code": code, "platform_message": message}
        said = _said(message, code)
        if status == 401:
            if "invalid_token" in response.headers.get("WWW-Authenticate", "") + code:
                return AuthenticationFailed(
                    "PISTE refuse le jeton d'accès de l'application : vérifiez son identifiant "
                    f"et son secret client dans les réglages Chorus Pro{said}.",
                    **fields,
                )
            if "expir" in message.lower():
                return PasswordExpired(
                    "Le mot de passe du compte technique Chorus Pro a expiré. Sur le portail "
                    "Chorus Pro, ouvrez Raccordements › Compte technique › « Réinitialisation "
                    "du mot de passe », puis saisissez le nouveau mot de passe dans Réglages › "
                    f"Facturation électronique › Chorus Pro{said}.",
                    **fields,
                )
            return AuthenticationFailed(
                "Chorus Pro refuse le compte technique : vérifiez son identifiant et son mot "
                "de passe dans les réglages (le mot de passe d'un compte technique expire et "
                "se renouvelle sur le portail Chorus Pro, Raccordements › Compte technique › "
                f"« Réinitialisation du mot de passe »){said}.",
                **fields,
            )
        if status == 403:
            return AuthenticationFailed(
                "L'application PISTE n'a pas accès à ce service Chorus Pro : vérifiez qu'elle "
                f"est abonnée aux API « Factures » et « Transverses » de Chorus Pro{said}.",
                **fields,
            )
        if status in (404, 405):
            return WrongAddress(
                f"Chorus Pro ne connaît pas ce service (erreur {status}) : vérifiez l'adresse "
                "de l'API Chorus Pro dans les réglages.",
                **fields,
            )
        busy = busy_or_down(response, "Chorus Pro", sent_file=sent_file, **fields)
        if busy is not None:
            return busy
        if sent_file:
            return PermanentRejection(f"Chorus Pro a refusé le fichier{said}.", **fields)
        return PermanentRejection(f"Chorus Pro a refusé la demande{said}.", **fields)

    def _error_fields(self, response: requests.Response) -> tuple[str, str]:
        """Chorus Pro's (or PISTE's) own error code and message, secrets blanked out."""
        try:
            data = response.json()
        except ValueError:
            return "", self._hide(response.text[:300].strip())
        if not isinstance(data, dict):
            return "", self._hide(str(data)[:300])
        code = data.get("codeRetour", data.get("error", data.get("code", "")))
        message = data.get("libelle") or data.get("error_description") or data.get("message")
        return self._hide(str(code or "")), self._hide(str(message or ""))

    def _hide(self, text: str) -> str:
        # A gateway or a server may echo what it received; none of it may reach a message.
        s = self.settings
        for secret in (s.client_secret, s.account_password, self._account, self._token):
            if secret:
                text = text.replace(secret, "•••")
        return text


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")


def _id_value(invoice_id: str) -> int | str:
    return int(invoice_id) if invoice_id.isdigit() else invoice_id


def _said(message: str, code: str) -> str:
    if message:
        return f" : {message.rstrip('. ')}"
    return f" (code {code})" if code else ""


CHORUS_NAMES = NetworkWording(
    "Chorus Pro est injoignable.",
    "Chorus Pro n'a pas répondu à temps.",
    "La connexion à Chorus Pro a été coupée.",
)
