"""« Synchroniser maintenant »: one pass over every configured platform, at once.

The background sender does the same on its own schedule; this is what a shopkeeper (or
``comptoir pdp sync``) asks for after a change at the platform: invoices waiting in the
outbox sent, then statuses and supplier invoices fetched, on each channel. A channel that
refuses or is down does not stop the other; its trouble is reported in French.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.einvoice.pdp.delivery import drain_once
from app.einvoice.pdp.models import CHORUS, PDP
from app.einvoice.pdp.worker import configured_chorus_client, configured_client, sync_channel
from app.errors import ComptoirError
from app.ledger.store import Ledger

NAMES = {PDP: "Plateforme agréée", CHORUS: "Chorus Pro"}


@dataclass(frozen=True)
class ChannelSync:
    channel: str
    sent: int = 0
    statuses: int = 0
    incoming: int = 0
    error: str = ""

    def sentence(self) -> str:
        name = NAMES[self.channel]
        if self.error:
            return f"{name} : {self.error}"
        return (
            f"{name} : "
            + _count(self.sent, "facture envoyée", "factures envoyées", "aucune facture envoyée")
            + ", "
            + _count(self.statuses, "statut reçu", "statuts reçus", "aucun statut reçu")
            + ", "
            + _count(
                self.incoming,
                "facture fournisseur reçue",
                "factures fournisseurs reçues",
                "aucune facture fournisseur reçue",
            )
            + "."
        )


@dataclass(frozen=True)
class SyncReport:
    channels: tuple[ChannelSync, ...]

    @property
    def ok(self) -> bool:
        return bool(self.channels) and not any(c.error for c in self.channels)

    def summary(self) -> str:
        if not self.channels:
            return (
                "Aucune plateforme n'est configurée : renseignez ses adresses et ses "
                "identifiants ci-dessus, ou dans les variables d'environnement."
            )
        return "\n".join(c.sentence() for c in self.channels)


def _count(n: int, one: str, many: str, none: str) -> str:
    return none if n == 0 else f"{n} {one if n == 1 else many}"


def sync_now(
    ledger: Ledger,
    client_factory: Callable[[Ledger], Any] = configured_client,
    chorus_factory: Callable[[Ledger], Any] = configured_chorus_client,
) -> SyncReport:
    """Send what waits and fetch what is new, channel by channel."""
    done = []
    for channel, factory in ((PDP, client_factory), (CHORUS, chorus_factory)):
        try:
            client = factory(ledger)
        except ComptoirError as exc:
            done.append(ChannelSync(channel, error=exc.message))
            continue
        if client is None:
            continue
        try:
            stats = drain_once(ledger, {channel: client})
            statuses, incoming = sync_channel(ledger, channel, client, eager=True)
        except ComptoirError as exc:
            done.append(ChannelSync(channel, error=exc.message))
        else:
            sent = stats.sent + stats.deposited_after_search
            done.append(ChannelSync(channel, sent, statuses, incoming))
        finally:
            client.close()
    return SyncReport(tuple(done))
