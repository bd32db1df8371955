"""Stamp what waits in the queue, test an authority: the services the GUI and the CLI call.

A round stops at the first authority that does not answer: the rest stays queued for the
next round (after a closure, at start, ``comptoir tsa stamp``, the Réglages button). A
token is checked before it is kept, and each one is committed on its own, so a round cut
short keeps what it got. An archive's token also goes into the archive file, when the file
is where the ledger wrote it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from pathlib import Path

from app.errors import ComptoirError
from app.ledger.archive.folder import archive_dir
from app.ledger.archive.timestamp import add_token_to_archive
from app.ledger.records import RecordType
from app.ledger.store import Ledger
from app.ledger.timestamps import queue
from app.ledger.timestamps.token import Stamp, TokenInvalid, check_response, make_request
from app.timestamping.client import TIMEOUT_S, TsaUnreachable, post_query

log = logging.getLogger(__name__)

Post = Callable[..., bytes]


def stamp_pending(
    ledger: Ledger, *, timeout: float = TIMEOUT_S, post: Post = post_query
) -> queue.StampOutcome:
    """Ask the authority set in Réglages for a token of every closure and archive still
    without one. Never raises for a network or authority failure: the outcome says it."""
    with ledger.reader() as session:
        url = queue.tsa_url(session)
        waiting = queue.pending(session)
    if not url or not waiting:
        return queue.StampOutcome(pending=len(waiting) if url else 0)
    stamped: list[queue.Target] = []
    warnings: list[str] = []
    error: str | None = None
    for target in waiting:
        request = make_request(target.digest)
        try:
            answer = post(url, request.der, timeout=timeout)
            with ledger.transaction() as session:
                queue.store_token(session, target, answer, url, nonce=request.nonce)
        except (TsaUnreachable, TokenInvalid) as exc:
            error = exc.message
            break
        stamped.append(target)
        if target.record_type == RecordType.ARCHIVE.value and target.archive_file:
            warning = _into_archive(ledger, target, answer)
            if warning:
                warnings.append(warning)
    return queue.StampOutcome(
        stamped=tuple(stamped),
        pending=len(waiting) - len(stamped),
        error=error,
        archive_warnings=tuple(warnings),
    )


def _into_archive(ledger: Ledger, target: queue.Target, answer: bytes) -> str | None:
    try:
        path = archive_dir(ledger) / str(target.archive_file)
    except ComptoirError:
        path = None
    if path is None or not path.exists():
        return (
            f"L'horodatage de l'{target.label} est gardé dans le journal ; le fichier "
            f"{target.archive_file} n'est pas dans le dossier des archives, le jeton n'y a "
            "pas été ajouté."
        )
    try:
        add_token_to_archive(Path(path), answer)
    except ComptoirError as exc:
        return exc.message
    return None


def try_authority(url: str, *, timeout: float = TIMEOUT_S, post: Post = post_query) -> Stamp:
    """Stamp a throwaway digest with ``url`` and check the token (the « Tester » button);
    raises TsaUnreachable or TokenInvalid, in French."""
    url = queue.check_tsa_url(url)
    if not url:
        raise TsaUnreachable("aucune adresse d'autorité d'horodatage n'est donnée")
    digest = secrets.token_hex(32)
    request = make_request(digest)
    return check_response(post(url, request.der, timeout=timeout), digest, nonce=request.nonce)
