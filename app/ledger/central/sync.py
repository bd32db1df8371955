"""The till's sender to the central ledger: a background thread, off the sales path.

The till records every sale in its own ledger first, as always; this worker then copies
what the central lacks (``app.ledger.central.service.upload``), every ``interval`` seconds and at
once when woken (after a sale, a closure, a change of settings). When the central cannot
be reached it waits longer and longer (up to ``max_backoff``) and says since when, and
how many records wait, for the banner. It holds nothing that matters: what was sent is
read back from the central at each upload, so stopping it anywhere loses nothing.

Where the central is: ``COMPTOIR_CENTRAL_URL`` in the environment, otherwise the shop
preference ``central_url`` (Réglages › Serveur central). Only a real ledger is uploaded;
a training or demo ledger never is. The preference is kept with the ledger
(``app.ledger.preferences``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.errors import ComptoirError, InvalidInput, LedgerError
from app.ledger.central.service import (
    CentralUnreachable,
    UploadResult,
    central_target,
    display_target,
    is_url,
    local_head,
    open_central_for_upload,
    upload,
    upload_to,
)
from app.ledger.db import DatabaseUnreachable
from app.ledger.operators import Permission, require
from app.ledger.preferences import get_preference, set_preference
from app.ledger.store import Ledger

log = logging.getLogger(__name__)

CENTRAL_URL = "central_url"  # shop preference: where the central ledger is
CENTRAL_ENV = "COMPTOIR_CENTRAL_URL"  # wins over the preference (scripts, tests)
SENT_SEQ = "central_sent_seq"  # shop preference: the last record the central acknowledged
Target = str | Path


# -- settings ---------------------------------------------------------------------------
def central_url(session: Session) -> str:
    return get_preference(session, CENTRAL_URL).strip()


def save_central_url(session: Session, text: str, *, operator: str) -> str:
    """Store where the central is (empty: no central). A password never goes into the
    database: a PostgreSQL password belongs in ``~/.pgpass`` (or in the environment)."""
    require(session, operator, Permission.EDIT_SETTINGS)
    value = text.strip()
    if value and is_url(value):
        try:
            url = make_url(value)
        except Exception:
            raise InvalidInput(f"Adresse du serveur central invalide : {value!r}.") from None
        if not url.drivername.startswith("postgresql"):
            raise InvalidInput(
                "Adresse du serveur central : une base PostgreSQL "
                "(postgresql+psycopg://utilisateur@hôte/base) ou le chemin d'un fichier."
            )
        if url.password:
            raise InvalidInput(
                "N'écrivez pas le mot de passe dans l'adresse du serveur central : il serait "
                "conservé en clair. Mettez-le dans le fichier ~/.pgpass de ce poste."
            )
    set_preference(session, CENTRAL_URL, value)
    return value


def configured_central(ledger: Ledger) -> Target | None:
    """Where this till uploads to, or None: no central configured, or a ledger that is
    not a till's real ledger (training, demo, the central itself)."""
    if ledger.kind != "real":
        return None
    value = os.environ.get(CENTRAL_ENV, "").strip()
    if not value:
        with ledger.reader() as session:
            value = central_url(session)
    return central_target(value) if value else None


def _sent_seq(ledger: Ledger) -> int:
    with ledger.reader() as session:
        text = get_preference(session, SENT_SEQ, "0")
    return int(text) if text.isdigit() else 0


# -- the worker ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SyncState:
    """What the banner and the settings show; a value, read from any thread."""

    target: str | None  # without password
    last_error: str | None
    refused: bool  # the central answered and refused (not a connection problem)
    failing_since: datetime | None
    pending: int | None
    last_success: datetime | None
    last_result: UploadResult | None


class SyncWorker:
    """A daemon thread uploading the till's ledger to its central ledger.

    ``ledger_source`` returns the open till ledger (shared with the GUI, not closed here);
    ``target_source(ledger)`` where to upload (``configured_central``), called at each
    attempt so that changed settings are picked up; ``opener(target)`` opens the central
    (by default for upload: the central's key is not needed on a till, its own signs);
    ``now`` tells the time of a failure (default: the till ledger's clock). Woken after
    each sale, it still leaves ``min_gap`` seconds between two uploads, so that a busy till
    sends its tickets in batches, not one upload per ticket.
    """

    def __init__(
        self,
        ledger_source: Callable[[], Ledger],
        target_source: Callable[[Ledger], Target | None] = configured_central,
        *,
        interval: float = 10.0,
        min_gap: float = 2.0,
        max_backoff: float = 300.0,
        batch: int = 500,
        opener: Callable[[Target], Ledger] = open_central_for_upload,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._source = ledger_source
        self._target_source = target_source
        self._opener = opener
        self._now = now
        self.interval = interval
        self.min_gap = min_gap
        self.max_backoff = max_backoff
        self.batch = batch
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._attempt_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._central: Ledger | None = None
        self._central_target: Target | None = None
        self._sent: int | None = None
        self.failures = 0
        self.state = SyncState(None, None, False, None, None, None, None)

    # -- control (any thread) ---------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="central-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> bool:
        """End the thread after its current batch (a batch is one transaction of the
        central: it is either kept whole or not at all)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        with self._attempt_lock:
            self._close_central()
        return thread is None or not thread.is_alive()

    def wake(self) -> None:
        """Upload soon (something was recorded). Ignored while the central is failing: the
        back-off holds, so that a till selling fast does not knock at a closed door after
        every ticket; "Tester / envoyer maintenant" (``sync_now``) tries at once."""
        if not self.failures:
            self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- one attempt ----------------------------------------------------------------------
    def sync_now(self) -> UploadResult | None:
        """Upload now, in the calling thread; None when no central is configured. Raises
        what the upload raised (the state says it too)."""
        with self._attempt_lock:
            return self._attempt()

    def _attempt(self) -> UploadResult | None:
        ledger = self._source()
        target = self._target_source(ledger)
        if target is None:
            self._close_central()
            self.failures = 0
            self.state = SyncState(None, None, False, None, None, None, None)
            return None
        label = display_target(target)
        try:
            result = self._upload(ledger, target)
        except Exception as exc:
            self._close_central()
            self.failures += 1
            self._failed(ledger, label, exc)
            raise
        self.failures = 0
        if result.last_seq != self._sent:
            self._remember_sent(ledger, result.last_seq)
        self.state = SyncState(label, None, False, None, result.pending, self._time(ledger), result)
        return result

    def _upload(self, ledger: Ledger, target: Target) -> UploadResult:
        if self._central is None or self._central_target != target:
            self._close_central()
            self._central = self._opener(target)
            self._central_target = target
        return upload(ledger, self._central, batch=self.batch)

    def _failed(self, ledger: Ledger, label: str, exc: Exception) -> None:
        # The central answered and said no (a fork, a missing till key, not a central,
        # an older schema), as opposed to not answering at all.
        refused = isinstance(exc, LedgerError) and not isinstance(
            exc, (CentralUnreachable, DatabaseUnreachable)
        )
        if isinstance(exc, ComptoirError):
            message = exc.message
            log.warning("central sync: %s", exc.detail or exc.message)
        elif isinstance(exc, (DBAPIError, OSError)):
            message = f"Serveur central injoignable ({label})."
            log.warning("central sync: %r", exc)
        else:
            message = f"Envoi au serveur central impossible ({type(exc).__name__})."
            log.exception("central sync failed")
        previous = self.state
        since = previous.failing_since if previous.last_error and not previous.refused else None
        try:
            if self._sent is None:
                self._sent = _sent_seq(ledger)
            pending: int | None = max(0, local_head(ledger) - self._sent)
        except Exception:  # the till's own ledger is busy: the count waits for next time
            pending = previous.pending
        self.state = SyncState(
            label,
            message,
            refused,
            since or self._time(ledger),
            pending,
            previous.last_success,
            previous.last_result,
        )

    def _time(self, ledger: Ledger) -> datetime:
        return self._now() if self._now is not None else ledger.clock()

    def _remember_sent(self, ledger: Ledger, seq: int) -> None:
        """Kept in the till's preferences, so that after a restart the banner still
        counts what waits before the central has answered once."""
        self._sent = seq
        try:
            with ledger.transaction() as session:
                set_preference(session, SENT_SEQ, str(seq))
        except Exception as exc:  # a preference is not worth failing the upload for
            log.info("central sync: sent position not saved: %s", exc)

    def _close_central(self) -> None:
        if self._central is not None:
            try:
                self._central.close()
            except Exception as exc:
                log.info("central sync: closing the central failed: %s", exc)
        self._central, self._central_target = None, None

    # -- the thread ---------------------------------------------------------------------------
    def delay(self) -> float:
        """Seconds before the next attempt: the interval, doubled after each failure."""
        if not self.failures:
            return self.interval
        return min(self.max_backoff, self.interval * 2 ** min(self.failures, 16))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            started = time.monotonic()
            with contextlib.suppress(Exception):  # already in the state, for the banner
                self.sync_now()
            self._wake.wait(self.delay())
            rest = self.min_gap - (time.monotonic() - started)
            if rest > 0:
                self._stop.wait(rest)


def banner_text(state: SyncState, timezone: str) -> str | None:
    """The banner's line about the central, or None when all is well."""
    if state.last_error is None:
        return None
    if state.refused:
        return f"Serveur central : {state.last_error}"
    assert state.failing_since is not None
    since = state.failing_since.astimezone(ZoneInfo(timezone)).strftime("%H:%M")
    count = state.pending
    waiting = (
        "des enregistrements en attente"
        if count is None
        else f"{count} enregistrement{'s' if count != 1 else ''} en attente"
    )
    return f"Serveur central injoignable depuis {since} — {waiting}"


def upload_once(ledger: Ledger) -> UploadResult:
    """One upload to the configured central, from the calling thread (a "send now" when
    no worker runs). Raises when no central is configured or the upload fails."""
    target = configured_central(ledger)
    if target is None:
        raise InvalidInput(
            "Aucun serveur central n'est indiqué pour cette caisse."
            if ledger.kind == "real"
            else "Seul le journal réel d'une caisse est envoyé au serveur central."
        )
    return upload_to(ledger, target)
