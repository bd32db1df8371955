"""What every platform client shares (the Flow API, Chorus Pro, the directory).

Errors are sorted by what the caller should do: try again later (``TransientFailure``),
fix the account (``AuthenticationFailed``), or give up on that file
(``PermanentRejection``). Network failures and busy answers become them the same way for
every platform, and an OAuth2 token is kept until shortly before it expires.
"""

from __future__ import annotations

import logging
import threading
import time
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple

import requests

from app.errors import ComptoirError

log = logging.getLogger(__name__)

REFRESH_MARGIN = 30.0  # seconds before expiry; shortened for very short-lived tokens


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


__all__ = [
    "AlreadyExistingFlow",
    "AuthenticationFailed",
    "NetworkWording",
    "PermanentRejection",
    "PlatformError",
    "TokenCache",
    "TransientFailure",
    "busy_or_down",
    "network_failure",
    "token_from",
]
