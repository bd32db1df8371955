"""The HTTP exchange with a time-stamping authority (RFC 3161 § 3.4)."""

from __future__ import annotations

import logging

import requests

from app.errors import ComptoirError
from app.ledger.timestamps.token import MEDIA_QUERY, MEDIA_REPLY

log = logging.getLogger(__name__)

# A closure never waits long for a TSA: past this, its stamp waits in the queue.
TIMEOUT_S = 3.0
_MAX_ANSWER = 1 << 20


class TsaUnreachable(ComptoirError):
    """The authority did not answer, or not with a time-stamp."""


def post_query(url: str, query: bytes, *, timeout: float = TIMEOUT_S) -> bytes:
    """Send a TimeStampReq, return the authority's TimeStampResp (unchecked)."""
    try:
        answer = requests.post(
            url,
            data=query,
            headers={"Content-Type": MEDIA_QUERY, "Accept": MEDIA_REPLY},
            timeout=timeout,
        )
    except requests.RequestException as exc:
        log.info("TSA %s unreachable: %r", url, exc)
        raise TsaUnreachable(
            "l'autorité d'horodatage ne répond pas (réseau ou serveur indisponible)",
            detail=repr(exc),
        ) from exc
    if answer.status_code != 200:
        raise TsaUnreachable(
            f"l'autorité d'horodatage a répondu par une erreur HTTP {answer.status_code}",
            detail=answer.text[:200],
        )
    if len(answer.content) > _MAX_ANSWER:
        raise TsaUnreachable("l'autorité d'horodatage a envoyé une réponse démesurée")
    return answer.content
