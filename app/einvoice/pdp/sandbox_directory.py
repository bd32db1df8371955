"""The sandbox's directory (annuaire): the Directory Service's ``directory-line/search``
over a few lines held in memory, seeded with the demo customers.

By default it lists every well-formed SIREN it is asked about (so that a demo works with
any customer), at the address ``<SIREN>``; ``close()`` makes it answer only for the lines
it holds, and ``unlist``/``add_line`` change them, as a real directory learns companies.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from app.errors import InvalidInput

# The demo shop's customers in France (app.demo.DEMO_CUSTOMERS), with routing codes.
DEMO_LINES = (("123456782", "", "123456782_LYON", "LYON"),)


@dataclass(frozen=True)
class Line:
    siren: str
    siret: str
    address: str
    routing_code: str
    enabled: bool = True

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "addressingIdentifier": self.address,
            "siren": self.siren,
            "platform": {"platformType": "WK",
                         "platformStatus": "Enabled" if self.enabled else "Disabled"},
        }  # fmt: skip
        if self.siret:
            data["siret"] = self.siret
        if self.routing_code:
            data["routingCode"] = {"routingIdentifier": self.routing_code,
                                   "administrativeStatus": "A"}  # fmt: skip
        return data


class SandboxDirectory:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines = [Line(*line) for line in DEMO_LINES]
        self._open = True
        self._unlisted: set[str] = set()
        self.searches = 0

    def close(self, closed: bool = True) -> None:
        """Closed: only the lines held are found; open: any SIREN not unlisted is."""
        with self._lock:
            self._open = not closed

    def add_line(self, siren: str, address: str = "", routing_code: str = "",
                 siret: str = "") -> None:  # fmt: skip
        if len(siren) != 9 or not siren.isdigit():
            raise InvalidInput(f"SIREN invalide : « {siren} ».")
        with self._lock:
            self._unlisted.discard(siren)
            self._lines.append(Line(siren, siret, address or siren, routing_code))

    def unlist(self, siren: str) -> None:
        """The company leaves the directory (or was never in it)."""
        with self._lock:
            self._unlisted.add(siren)
            self._lines = [line for line in self._lines if line.siren != siren]

    def search(self, body: Any) -> list[dict[str, Any]]:
        filters = (body or {}).get("filters") if isinstance(body, dict) else None
        if not isinstance(filters, dict) or not filters:
            raise InvalidInput("Au moins un critère de recherche est requis.")
        siren = str((filters.get("siren") or {}).get("value") or "")
        siret = str((filters.get("siret") or {}).get("value") or "")
        with self._lock:
            self.searches += 1
            found = [line for line in self._lines if siren in line.siren
                     and (not siret or line.siret in ("", siret))]  # fmt: skip
            well_formed = len(siren) == 9 and siren.isdigit()
            if not found and self._open and well_formed and siren not in self._unlisted:
                found = [Line(siren, "", siren, "")]
        return [line.to_json() for line in found]
