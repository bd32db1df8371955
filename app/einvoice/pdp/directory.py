"""The e-invoicing directory (annuaire, AFNOR XP Z12-013 Directory Service): where a
company receives its invoices.

A customer is looked up by SIREN (and SIRET when known) when it is created or edited and
before each of its invoices leaves: listed or not, its electronic address (BT-49) and
routing code. What the directory said is kept on the customer. A buyer the directory does
not know is no error: its invoices wait in the outbox (``UNLISTED``) and are looked up
again at each sync, and leave once the directory knows their buyer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.customers.models import Customer
from app.einvoice.issuing import get_document
from app.einvoice.pdp.client import HttpFlowClient
from app.einvoice.pdp.config import PlatformNotConfigured, load_settings
from app.einvoice.pdp.demo_platform import demo_settings
from app.einvoice.pdp.models import QUEUED, UNLISTED, OutboxItem
from app.einvoice.pdp.platform_http import (
    NetworkWording,
    PlatformError,
    TransientFailure,
    busy_or_down,
    network_failure,
)
from app.errors import InvalidInput
from app.ledger.store import Ledger

log = logging.getLogger(__name__)

LISTED = "listed"
NOT_LISTED = "unlisted"
DIRECTORY_NAMES = NetworkWording(
    "L'annuaire de la facturation électronique est injoignable.",
    "L'annuaire de la facturation électronique n'a pas répondu à temps.",
    "La connexion à l'annuaire de la facturation électronique a été coupée.",
)
UNLISTED_LABEL = "destinataire non référencé"


@dataclass(frozen=True)
class DirectoryEntry:
    """One line of the directory: who receives (SIREN, SIRET), where (the addressing
    identifier, i.e. the electronic address BT-49), under which routing code, and whether
    the receiving platform is enabled."""

    siren: str
    siret: str
    address: str
    routing_code: str
    reachable: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DirectoryEntry:
        routing = data.get("routingCode") or {}
        platform = data.get("platform") or {}
        return cls(
            siren=str(data.get("siren") or ""),
            siret=str(data.get("siret") or ""),
            address=str(data.get("addressingIdentifier") or ""),
            routing_code=str(routing.get("routingIdentifier") or ""),
            reachable=platform.get("platformStatus", "Enabled") != "Disabled",
        )


@dataclass(frozen=True)
class Lookup:
    """What the directory answered for a SIREN/SIRET: ``entry`` None when not listed."""

    siren: str
    siret: str
    entry: DirectoryEntry | None

    @property
    def listed(self) -> bool:
        return self.entry is not None and self.entry.reachable

    def describe(self) -> str:
        """The answer in French, for the customer form and the command line."""
        who = f"SIRET {self.siret}" if self.siret else f"SIREN {self.siren}"
        if self.entry is None:
            return f"{who} non référencé dans l'annuaire : les factures attendront qu'il le soit."
        if not self.entry.reachable:
            return f"{who} référencé dans l'annuaire, mais sa plateforme de réception est fermée."
        routing = f", code de routage {self.entry.routing_code}" if self.entry.routing_code else ""
        return f"Joignable : adresse électronique {self.entry.address}{routing}."


class Directory(Protocol):
    def lookup(self, siren: str, siret: str = "") -> Lookup: ...


class HttpDirectory:
    """The Directory Service over HTTP, with the platform's OAuth2 token (the flow
    client's: one login for both services)."""

    def __init__(self, client: HttpFlowClient) -> None:
        self._client = client
        self._base = client.settings.directory_url.rstrip("/")

    def lookup(self, siren: str, siret: str = "") -> Lookup:
        if len(siren) != 9 or not siren.isdigit():
            raise InvalidInput(f"SIREN invalide pour l'annuaire : « {siren} ».")
        filters: dict[str, Any] = {"siren": {"op": "contains", "value": siren}}
        if siret:
            filters["siret"] = {"op": "contains", "value": siret}
        response = self._post("/v1/directory-line/search", {"filters": filters, "limit": 50})
        if response.status_code == 404 and "json" not in response.headers.get("Content-Type", ""):
            # No directory at this address (a page, not an answer): not the buyer's fault.
            raise PlatformError(
                f"Aucun annuaire ne répond à l'adresse {self._base} : vérifiez les réglages.",
                status=404,
            )
        if response.status_code in (204, 404):
            return Lookup(siren, siret, None)
        try:
            results = response.json().get("results") or []
            entries = [DirectoryEntry.from_json(r) for r in results if isinstance(r, dict)]
        except (ValueError, AttributeError):
            raise TransientFailure(
                "L'annuaire a renvoyé une réponse illisible.", status=response.status_code
            ) from None
        return Lookup(siren, siret, _best(entries, siren, siret))

    def _post(self, path: str, body: dict[str, Any]) -> requests.Response:
        client = self._client
        renewed = False
        while True:
            headers = {"Authorization": f"Bearer {client._bearer(renew=renewed)}"}
            try:
                response = client._http.post(
                    self._base + path, json=body, headers=headers, timeout=client.settings.timeout
                )
            except requests.RequestException as exc:
                raise network_failure(exc, DIRECTORY_NAMES, sent_file=False) from None
            if response.status_code == 401 and not renewed:
                renewed = True
                continue
            if response.status_code in (200, 204, 206, 404):
                return response
            busy = busy_or_down(
                response, "L'annuaire", sent_file=False, status=response.status_code
            )
            if busy is not None:
                raise busy
            raise PlatformError(
                f"L'annuaire a refusé la recherche (erreur {response.status_code}).",
                status=response.status_code,
            )


def _best(entries: list[DirectoryEntry], siren: str, siret: str) -> DirectoryEntry | None:
    """The line for this very SIRET when there is one, else the company's own (SIREN
    alone), else any of the company's lines."""
    mine = [e for e in entries if e.siren in ("", siren)]
    for wanted in (
        lambda e: siret and e.siret == siret,
        lambda e: not e.siret,
        lambda e: True,
    ):
        found = [e for e in mine if wanted(e)]
        if found:
            return sorted(found, key=lambda e: (not e.reachable, e.routing_code))[0]
    return None


def _stamp(now: datetime | None) -> str:
    moment = now if now is not None else datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def directory_of(client: Any) -> Directory | None:
    """The directory reached through a platform client, or None (Chorus Pro, fakes)."""
    if isinstance(client, HttpFlowClient):
        return HttpDirectory(client)
    lookup = getattr(client, "directory", None)
    return lookup if lookup is not None else None


def remember(session: Session, found: Lookup, *, now: datetime | None = None) -> None:
    """Keep the directory's answer on the customers with this SIREN (and SIRET): listed
    or not, the routing code, and the electronic address it gave."""
    query = select(Customer).where(Customer.siren == found.siren)
    if found.siret:
        query = query.where(Customer.siret.in_(("", found.siret)))
    stamp = _stamp(now)
    for customer in session.scalars(query):
        customer.directory_status = LISTED if found.listed else NOT_LISTED
        customer.directory_checked_at = stamp
        if found.entry is not None:
            customer.routing_code = found.entry.routing_code[:100]
            if found.entry.address:
                customer.electronic_address = found.entry.address[:120]
    session.flush()


def check_customer(
    ledger: Ledger, directory: Directory, customer_id: int, *, now: datetime | None = None
) -> Lookup:
    """Look a customer up (when created or edited, or on demand) and keep the answer."""
    with ledger.reader() as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise InvalidInput("Ce client n'existe pas.")
        if customer.kind != "company" or (customer.country or "FR") != "FR":
            raise InvalidInput(
                "Seules les entreprises établies en France figurent dans l'annuaire."
            )
        if not customer.siren:
            raise InvalidInput("Renseignez le SIREN du client pour le chercher dans l'annuaire.")
        siren, siret = customer.siren, customer.siret
    found = directory.lookup(siren, siret)
    with ledger.transaction() as session:
        remember(session, found, now=now)
    return found


def recheck_unlisted(ledger: Ledger, directory: Directory, *, now: datetime | None = None) -> int:
    """Ask the directory again about the buyers of the invoices waiting for it; those it
    now knows are put back in the queue. Returns how many invoices may leave."""
    with ledger.reader() as session:
        waiting = list(
            session.execute(
                select(OutboxItem.id, OutboxItem.doc_number).where(OutboxItem.state == UNLISTED)
            )
        )
    released = 0
    answers: dict[tuple[str, str], Lookup] = {}
    for item_id, doc_number in waiting:
        with ledger.reader() as session:
            siren, siret = buyer_ids(session, doc_number)
        if (siren, siret) not in answers:
            answers[(siren, siret)] = directory.lookup(siren, siret)
        found = answers[(siren, siret)]
        with ledger.transaction() as session:
            remember(session, found, now=now)
            item = session.get(OutboxItem, item_id, populate_existing=True)
            if found.listed and item is not None and item.state == UNLISTED:
                item.state, item.last_error = QUEUED, None
                item.next_attempt_at = item.updated_at = _stamp(now)
                released += 1
    return released


def buyer_ids(session: Session, doc_number: str) -> tuple[str, str]:
    """The SIREN and SIRET of whom an issued invoice goes to, as the invoice recorded them:
    its buyer; for a self-billed invoice, which the shop draws up as the buyer, its seller."""
    document = get_document(session, doc_number)
    party = document.body.get("seller" if document.is_self_billed else "buyer") or {}
    return str(party.get("siren") or ""), str(party.get("siret") or "")


def unlisted_message(siren: str) -> str:
    return (
        f"Destinataire non référencé : le SIREN {siren} ne figure pas encore dans l'annuaire ; "
        "la facture partira dès qu'il y sera (vérification à chaque synchronisation)."
    )


def directory_line(session: Session, customer_id: int | None) -> str:
    """What the directory last said of a customer, in French, for the customer form."""
    customer = session.get(Customer, customer_id) if customer_id is not None else None
    if customer is None or customer.kind != "company" or (customer.country or "FR") != "FR":
        return "Non concerné (entreprise établie en France seulement)."
    if not customer.directory_status:
        return "Pas encore vérifié dans l'annuaire."
    day = customer.directory_checked_at
    when = f" (vérifié le {day[8:10]}/{day[5:7]}/{day[:4]})" if len(day) >= 10 else ""
    if customer.directory_status == NOT_LISTED:
        return f"Non référencé dans l'annuaire{when} : ses factures attendront qu'il le soit."
    routing = f", code de routage {customer.routing_code}" if customer.routing_code else ""
    return f"Joignable : adresse {customer.electronic_address}{routing}{when}."


def look_up_customer(ledger: Ledger, customer_id: int) -> Lookup:
    """Look a customer up through the platform configured for this ledger (the customer
    form's « Vérifier dans l'annuaire », and after it is saved)."""
    settings = None
    if ledger.kind == "real":
        with ledger.reader() as session:
            settings = load_settings(session)
    elif ledger.kind == "demo":
        settings = demo_settings(ledger)
    if settings is None:
        raise PlatformNotConfigured(
            "Aucune plateforme de facturation électronique n'est configurée : l'annuaire ne "
            "peut pas être consulté (Réglages)."
        )
    with HttpFlowClient(settings) as client:
        return check_customer(ledger, HttpDirectory(client), customer_id)
