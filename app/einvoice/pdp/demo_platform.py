"""The demo shop's plateforme de démonstration: the sandbox platform, run by the application
itself on 127.0.0.1 while a demo ledger is open, never a real platform.

A demo ledger talks to the platform its window started (``attach``); an address configured
by hand (Réglages, ``COMPTOIR_PDP_*``) is accepted only when it is on this computer (a
``comptoir pdp-sandbox``), and any other address is refused with ``DemoNotSent``. The
platform starts with supplier invoices waiting in its inbox, so that « Factures reçues »
has something to answer.
"""

from __future__ import annotations

import weakref
from pathlib import Path

from app.einvoice.pdp.client import HttpFlowClient
from app.einvoice.pdp.config import (
    DEMO_LOCAL_ONLY,
    PlatformSettings,
    is_loopback_url,
    load_settings,
)
from app.einvoice.pdp.sandbox import SandboxPlatform
from app.einvoice.pdp.training import TrainingNotSent
from app.ledger.store import Ledger

DEMO_PLATFORM = "plateforme de démonstration"
INCOMING = Path(__file__).resolve().parents[3] / "resources" / "demo" / "incoming"

_attached: weakref.WeakKeyDictionary[Ledger, DemoPlatform] = weakref.WeakKeyDictionary()


class DemoNotSent(TrainingNotSent):
    """A demo ledger was about to talk to a platform that is not on this computer."""


class DemoPlatform(SandboxPlatform):
    """The sandbox on a free port of 127.0.0.1, its inbox holding the demo suppliers'
    invoices. ``lifecycle_step``: seconds between an invoice's lifecycle statuses."""

    def __init__(self, lifecycle_step: float = 2.0) -> None:
        super().__init__(port=0, lifecycle_step=lifecycle_step, host="127.0.0.1")

    def start(self) -> DemoPlatform:
        first = not self.flows()
        super().start()
        if first:
            for invoice in sorted(INCOMING.glob("*.xml")):
                self.add_incoming(invoice.read_bytes(), invoice.name, syntax="CII")
        return self

    @property
    def settings(self) -> PlatformSettings:
        return PlatformSettings(self.url, self.token_url, self.client_id, self.client_secret)

    @property
    def label(self) -> str:
        return f"{DEMO_PLATFORM} ({self.url.removeprefix('http://')})"


def attach(ledger: Ledger, platform: DemoPlatform) -> None:
    """``ledger`` (a demo ledger) talks to ``platform`` until ``detach``."""
    _attached[ledger] = platform


def detach(ledger: Ledger) -> None:
    _attached.pop(ledger, None)


def attached(ledger: Ledger) -> DemoPlatform | None:
    return _attached.get(ledger)


def refuse_real_platform(*urls: str) -> None:
    """``DemoNotSent`` unless every address is on this computer."""
    for url in urls:
        if not is_loopback_url(url):
            raise DemoNotSent(DEMO_LOCAL_ONLY.format(where=url), detail=f"demo ledger -> {url}")


def demo_settings(ledger: Ledger) -> PlatformSettings | None:
    """The platform of a demo ledger: the plateforme de démonstration its window started,
    else one configured by hand when it is on this computer (refused otherwise), else None."""
    platform = attached(ledger)
    if platform is not None:
        return platform.settings
    with ledger.reader() as session:
        configured = load_settings(session)
    if configured is not None:
        refuse_real_platform(configured.base_url, configured.token_url, configured.directory_url)
    return configured


def demo_client(ledger: Ledger) -> HttpFlowClient | None:
    """The client of a demo ledger's platform (see ``demo_settings``), or None."""
    settings = demo_settings(ledger)
    return HttpFlowClient(settings) if settings is not None else None
