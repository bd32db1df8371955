"""The background sender: drains the outbox and syncs statuses, off the GUI thread.

It keeps nothing in memory that matters: every decision is read from the database, so
stopping it (or the till crashing) at any point loses nothing; the next start resumes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from app.einvoice.pdp.client import (
    AuthenticationFailed,
    FlowPlatform,
    HttpFlowClient,
    TransientFailure,
)
from app.einvoice.pdp.config import load_settings
from app.einvoice.pdp.outbox import DrainStats, SyncStats, drain_once, sync_once
from app.errors import ComptoirError
from app.ledger.store import Ledger

log = logging.getLogger(__name__)

AUTH_PAUSE = 60.0  # seconds between attempts once the platform refused our credentials
ClientFactory = Callable[[Ledger], FlowPlatform | None]


def configured_client(ledger: Ledger) -> HttpFlowClient | None:
    """The client for the platform configured for this ledger (environment first), or
    None: no platform set up, or a training or demo ledger, which never sends anything."""
    if ledger.kind != "real":
        return None
    with ledger.reader() as session:
        settings = load_settings(session)
    return HttpFlowClient(settings) if settings is not None else None


class OutboxWorker:
    """A daemon thread that drains the outbox every ``interval`` seconds (sooner when
    woken) and fetches statuses and supplier invoices every ``sync_interval`` seconds.

    ``ledger_source`` is a ledger file (opened and closed by the worker) or a callable
    returning an open ``Ledger`` (shared, not closed). ``client_factory(ledger)`` returns
    the platform client, or None while no platform is configured (``configured_client``
    does that from the settings); it is called in the worker's thread, again after each
    failure, so changed settings are picked up.
    """

    def __init__(
        self,
        ledger_source: Path | str | Callable[[], Ledger],
        client_factory: ClientFactory = configured_client,
        interval: float = 5.0,
        *,
        sync_interval: float | None = 60.0,
    ) -> None:
        self._source = ledger_source
        self._client_factory = client_factory
        self.interval = interval
        self.sync_interval = sync_interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.last_error: str | None = None
        self.last_drain: DrainStats | None = None
        self.last_sync: SyncStats | None = None
        self.cycles = 0

    # -- control (any thread) --------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="pdp-outbox", daemon=True)
            self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> bool:
        """Ask the thread to finish its current step and end; True if it has ended. An
        attempt cut short is not lost: its item stays ``sending`` and is checked later."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def wake(self) -> None:
        """Drain now (an invoice was just issued, the settings were changed)."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- the thread ----------------------------------------------------------------------
    def _open(self) -> tuple[Ledger, bool]:
        if callable(self._source):
            return self._source(), False
        return Ledger.open(self._source, create=False, operator="envoi PDP"), True

    def _run(self) -> None:
        ledger: Ledger | None = None
        owned = False
        client: FlowPlatform | None = None
        next_sync = time.monotonic()
        try:
            while not self._stop.is_set():
                self._wake.clear()
                pause = self.interval
                try:
                    if ledger is None:
                        ledger, owned = self._open()
                    if client is None:
                        client = self._client_factory(ledger)
                    if client is not None:
                        self.last_drain = drain_once(ledger, client)
                        if self.sync_interval is not None and time.monotonic() >= next_sync:
                            self.last_sync = sync_once(ledger, client)
                            next_sync = time.monotonic() + self.sync_interval
                    self.last_error = None
                except TransientFailure as exc:  # the platform is busy or down: same client
                    self._failed(exc)
                except AuthenticationFailed as exc:
                    self._failed(exc)
                    client = _close(client)  # the settings may be fixed meanwhile
                    pause = max(pause, AUTH_PAUSE)
                except ComptoirError as exc:
                    self._failed(exc)
                    client = _close(client)
                except Exception as exc:  # keep sending whatever one bad cycle did
                    log.exception("outbox worker cycle failed")
                    self.last_error = (
                        "L'envoi des factures à la plateforme a rencontré une erreur "
                        f"inattendue ({type(exc).__name__}) ; nouvel essai automatique."
                    )
                    client = _close(client)
                self.cycles += 1
                self._wake.wait(pause)
        finally:
            _close(client)
            if ledger is not None and owned:
                ledger.close()

    def _failed(self, exc: ComptoirError) -> None:
        log.warning("outbox worker: %s", exc.detail or exc.message)
        self.last_error = exc.message


def _close(client: FlowPlatform | None) -> None:
    close = getattr(client, "close", None)
    if close is not None:
        close()
