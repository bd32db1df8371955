"""Training invoices never reach a real platform; they may reach a sandbox.

What counts as a sandbox, and why nothing else does:

- a platform whose API *and* token addresses are on the loopback interface (``localhost``,
  ``127.0.0.0/8``, ``::1``): that is ``comptoir pdp-sandbox`` and the test fakes, which
  only ever listen there. A plateforme agréée is never reached through the loopback, so
  the address alone proves the file cannot leave the computer;
- a client object that says ``sandbox = True`` about itself: in-process fakes used by
  tests and demos, which have no address at all.

A "sandbox" tick box next to a remote address is deliberately not offered: the software
cannot check it, and one wrong tick would deposit training invoices with the tax
administration's network. A platform's own remote test environment is therefore refused
too; practise against the local sandbox instead.
"""

from __future__ import annotations

from typing import Any

from app.einvoice.pdp.config import DEMO_LOCAL_ONLY, is_loopback_url
from app.errors import ComptoirError
from app.ledger.store import Ledger

REFUSED = (
    "Mode formation : les factures de formation ne sont jamais envoyées à une plateforme "
    "réelle. Seul le bac à sable local (comptoir pdp-sandbox, adresse 127.0.0.1) peut les "
    "recevoir ; la plateforme configurée ({where}) n'en est pas un."
)


class TrainingNotSent(ComptoirError):
    """A training (or demo) ledger was about to talk to a platform that is not a sandbox."""


def is_sandbox(client: Any) -> bool:
    """Whether ``client`` talks to a sandbox (see the module's docstring)."""
    if getattr(client, "sandbox", False) is True:
        return True
    settings = getattr(client, "settings", None)
    urls = [getattr(settings, name, None) for name in ("base_url", "token_url")]
    return all(isinstance(url, str) and is_loopback_url(url) for url in urls)


def refuse_unless_sandbox(ledger: Ledger, client: Any) -> None:
    """Raise ``TrainingNotSent`` when a ledger that is not the real one would use a platform
    that is not a sandbox. Called before anything is claimed, sent or fetched."""
    if ledger.kind == "real" or is_sandbox(client):
        return
    settings = getattr(client, "settings", None)
    where = getattr(settings, "base_url", None) or type(client).__name__
    refusal = DEMO_LOCAL_ONLY if ledger.kind == "demo" else REFUSED
    raise TrainingNotSent(refusal.format(where=where), detail=f"{ledger.kind} ledger -> {where}")
