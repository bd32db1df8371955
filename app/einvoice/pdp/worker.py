"""The background sender: drains the outbox and syncs statuses, off the GUI thread.

It keeps nothing in memory that matters: every decision is read from the database, so
stopping it (or the till crashing) at any point loses nothing; the next start resumes.

Each channel (the shop's plateforme agréée, Chorus Pro) has its own client and its own
troubles: Chorus Pro refusing the technical account does not hold back the invoices of
private customers, nor the other way round.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from app.einvoice.pdp.acks import read_acknowledgements
from app.einvoice.pdp.chorus import ChorusProClient
from app.einvoice.pdp.chorus_sync import POLL_EVERY, poll_chorus
from app.einvoice.pdp.client import HttpFlowClient
from app.einvoice.pdp.config import load_chorus_settings, load_settings
from app.einvoice.pdp.delivery import DrainStats, drain_once
from app.einvoice.pdp.demo_platform import demo_client
from app.einvoice.pdp.directory import directory_of, recheck_unlisted
from app.einvoice.pdp.inbox import SyncStats, sync_once
from app.einvoice.pdp.models import CHORUS, PDP
from app.einvoice.pdp.platform_http import AuthenticationFailed, TransientFailure
from app.einvoice.pdp.training import TrainingNotSent, refuse_unless_sandbox
from app.errors import ComptoirError
from app.ledger.store import Ledger

log = logging.getLogger(__name__)

AUTH_PAUSE = 60.0  # seconds between attempts once the platform refused our credentials
ClientFactory = Callable[[Ledger], Any]  # the channel's client, or None when not set up


def configured_client(ledger: Ledger) -> HttpFlowClient | None:
    """The client for the platform configured for this ledger (environment first), or
    None: no platform set up, or a training ledger, which never sends anything. A demo
    ledger's is the plateforme de démonstration (``demo_client``)."""
    if ledger.kind == "demo":
        return demo_client(ledger)
    if ledger.kind != "real":
        return None
    with ledger.reader() as session:
        settings = load_settings(session)
    return HttpFlowClient(settings) if settings is not None else None


def training_client(ledger: Ledger) -> HttpFlowClient | None:
    """The platform client of a training ledger: the configured platform when it is a
    sandbox, None when none is configured; ``TrainingNotSent`` for any other platform."""
    with ledger.reader() as session:
        settings = load_settings(session)
    if settings is None:
        return None
    client = HttpFlowClient(settings)
    try:
        refuse_unless_sandbox(ledger, client)
    except TrainingNotSent:
        client.close()
        raise
    return client


def configured_chorus_client(ledger: Ledger) -> ChorusProClient | None:
    """The Chorus Pro client for this ledger (environment first), or None: Chorus Pro not
    set up, or a training or demo ledger, which never sends anything."""
    if ledger.kind != "real":
        return None
    with ledger.reader() as session:
        settings = load_chorus_settings(session)
    return ChorusProClient(settings) if settings is not None else None


def sync_channel(ledger: Ledger, channel: str, client: Any, *, eager: bool) -> tuple[int, int]:
    """Statuses and supplier invoices fetched on one channel. Chorus Pro is polled deposit
    by deposit: ``eager`` asks about all of them now, not only those unasked for a while.
    On the PA, the acknowledgements still pending are read, and the directory is asked
    again about the buyers of invoices waiting for it."""
    if channel == CHORUS:
        return poll_chorus(ledger, client, every=timedelta(0) if eager else POLL_EVERY), 0
    stats = sync_once(ledger, client)
    if hasattr(client, "flow_info"):
        read_acknowledgements(ledger, client)
    directory = directory_of(client)
    if directory is not None:
        recheck_unlisted(ledger, directory)
    return stats.statuses, stats.incoming


@dataclass
class _Lane:
    """One channel as the worker drives it."""

    channel: str
    factory: ClientFactory
    client: Any = None
    error: str | None = None
    resume_at: float = 0.0  # monotonic time; after refused credentials
    drained: DrainStats | None = None


class OutboxWorker:
    """A daemon thread that drains the outbox every ``interval`` seconds (sooner when
    woken) and fetches statuses and supplier invoices every ``sync_interval`` seconds.

    ``ledger_source`` is a ledger file (opened and closed by the worker) or a callable
    returning an open ``Ledger`` (shared, not closed). ``client_factory(ledger)`` returns
    the platform client, or None while no platform is configured (``configured_client``
    does that from the settings); ``chorus_factory`` does the same for Chorus Pro (None:
    Chorus Pro is left alone). Both are called in the worker's thread, again after each
    failure, so changed settings are picked up.
    """

    def __init__(
        self,
        ledger_source: Path | str | Callable[[], Ledger],
        client_factory: ClientFactory = configured_client,
        interval: float = 5.0,
        *,
        sync_interval: float | None = 60.0,
        chorus_factory: ClientFactory | None = configured_chorus_client,
    ) -> None:
        self._source = ledger_source
        self._factories = {PDP: client_factory}
        if chorus_factory is not None:
            self._factories[CHORUS] = chorus_factory
        self.interval = interval
        self.sync_interval = sync_interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.last_error: str | None = None
        self.last_drain: DrainStats | None = None
        self.last_sync: SyncStats | None = None
        self.last_poll: int | None = None  # statuses stored by the last Chorus Pro poll
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
        lanes = [_Lane(channel, factory) for channel, factory in self._factories.items()]
        next_sync = time.monotonic()
        try:
            while not self._stop.is_set():
                self._wake.clear()
                opening_error = None
                try:
                    if ledger is None:
                        ledger, owned = self._open()
                except Exception as exc:
                    log.exception("outbox worker: ledger not opened")
                    opening_error = _describe(exc)
                syncing = self.sync_interval is not None and time.monotonic() >= next_sync
                if ledger is not None:
                    for lane in lanes:
                        self._cycle(ledger, lane, syncing)
                    if syncing and self.sync_interval is not None:
                        next_sync = time.monotonic() + self.sync_interval
                errors = [opening_error] + [lane.error for lane in lanes]
                self.last_error = " ; ".join(e for e in errors if e) or None
                drained = [lane.drained for lane in lanes if lane.drained is not None]
                self.last_drain = _total(drained) if drained else None
                self.cycles += 1
                if self._wake.wait(self.interval):  # woken: settings may have been fixed
                    for lane in lanes:
                        lane.resume_at = 0.0
        finally:
            for lane in lanes:
                _close(lane.client)
            if ledger is not None and owned:
                ledger.close()

    def _cycle(self, ledger: Ledger, lane: _Lane, syncing: bool) -> None:
        """Drain one channel, then sync it when due; its troubles stay in ``lane``."""
        if time.monotonic() < lane.resume_at:
            return
        lane.drained = None
        try:
            if lane.client is None:
                lane.client = lane.factory(ledger)
            if lane.client is not None:
                lane.drained = drain_once(ledger, {lane.channel: lane.client})
                if syncing:
                    self._sync(ledger, lane)
            lane.error = None
        except TransientFailure as exc:  # the platform is busy or down: same client
            lane.error = _failed(lane, exc)
        except AuthenticationFailed as exc:
            lane.error = _failed(lane, exc)
            lane.client = _close(lane.client)  # the settings may be fixed meanwhile
            lane.resume_at = time.monotonic() + max(self.interval, AUTH_PAUSE)
        except ComptoirError as exc:
            lane.error = _failed(lane, exc)
            lane.client = _close(lane.client)
        except Exception as exc:  # keep sending whatever one bad cycle did
            log.exception("outbox worker cycle failed (%s)", lane.channel)
            lane.error = _describe(exc)
            lane.client = _close(lane.client)

    def _sync(self, ledger: Ledger, lane: _Lane) -> None:
        statuses, incoming = sync_channel(ledger, lane.channel, lane.client, eager=False)
        if lane.channel == PDP:
            self.last_sync = SyncStats(statuses, incoming)
        else:
            self.last_poll = statuses


def _failed(lane: _Lane, exc: ComptoirError) -> str:
    log.warning("outbox worker (%s): %s", lane.channel, exc.detail or exc.message)
    return exc.message


def _describe(exc: Exception) -> str:
    if isinstance(exc, ComptoirError):
        return exc.message
    return (
        "L'envoi des factures à la plateforme a rencontré une erreur "
        f"inattendue ({type(exc).__name__}) ; nouvel essai automatique."
    )


def _total(stats: list[DrainStats]) -> DrainStats:
    return DrainStats(
        sent=sum(s.sent for s in stats),
        deposited_after_search=sum(s.deposited_after_search for s in stats),
        retried=sum(s.retried for s in stats),
        failed=sum(s.failed for s in stats),
    )


def _close(client: Any) -> None:
    close = getattr(client, "close", None)
    if close is not None:
        close()
