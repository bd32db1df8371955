"""A local plateforme agréée speaking the AFNOR XP Z12-013 Flow API, for demos and tests.

``SandboxPlatform`` serves, on 127.0.0.1, an OAuth2 token endpoint and ``/v1`` (flows,
search, download, healthcheck), validates invoices like a real platform, answers them
with CDAR lifecycle flows over time, and can be told to misbehave: fail, throttle,
stall, drop the answer after storing, reject, be down, or all of it at random.
``POST /sandbox/control`` does the same for a client in another process.

The state lives in ``sandbox_store`` (which the platform inherits), the HTTP layer in
``sandbox_http``; this module holds the faults, the server's life and ``serve``.
"""

from __future__ import annotations

import base64
import math
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from app.einvoice.pdp.sandbox_http import Server
from app.einvoice.pdp.sandbox_store import SandboxStore
from app.errors import InvalidInput

OPERATIONS = ("token", "submit", "search", "get", "health", "directory")
Ops = Iterable[str] | str | None
_ACTIONS = {
    "fail_next", "throttle_next", "stall_next", "drop_next", "reject_next", "chaos",
    "clear_faults", "set_down", "set_outcome", "set_default_outcome", "advance", "statuses",
    "add_incoming", "set_ack_delay", "nack_next", "set_report_outcome", "directory_add",
    "directory_unlist", "directory_close",
}  # fmt: skip


@dataclass(frozen=True)
class Plan:
    """What the fault settings do to one request."""

    refuse: int | None = None
    retry_after: int = 1
    stall: float = 0.0
    drop: bool = False
    reject: bool = False


@dataclass
class _Armed:
    kind: str
    remaining: int
    ops: frozenset[str]
    status: int = 500
    seconds: float = 0.0


class FaultInjector:
    """The ``*_next`` counters, ``set_down`` and ``chaos``, each for the operations
    ``on`` names ("token", "submit", "search", "get", "health"; default: all of them)."""

    def __init__(self) -> None:
        self._fault_lock = threading.Lock()
        self._armed: list[_Armed] = []
        self._down = False
        self._chaos: tuple[float, random.Random, float, frozenset[str]] | None = None

    def fail_next(self, n: int = 1, status: int = 500, on: Ops = None) -> None:
        """Answer the next ``n`` requests with ``status`` (an error JSON), unprocessed."""
        self._arm(_Armed("fail", n, _ops(on), status=status))

    def throttle_next(self, n: int = 1, retry_after: int = 1, on: Ops = None) -> None:
        """Answer the next ``n`` requests 429 with ``Retry-After: retry_after``, unprocessed."""
        self._arm(_Armed("throttle", n, _ops(on), seconds=retry_after))

    def stall_next(self, n: int = 1, seconds: float = 5.0, on: Ops = None) -> None:
        """Wait ``seconds`` before processing and answering the next ``n`` requests."""
        self._arm(_Armed("stall", n, _ops(on), seconds=seconds))

    def drop_next(self, n: int = 1, on: Ops = None) -> None:
        """Process the next ``n`` requests (a flow is stored) then close without answering."""
        self._arm(_Armed("drop", n, _ops(on)))

    def reject_next(self, n: int = 1) -> None:
        """Refuse the next ``n`` submissions as invalid (422 InvalidInvoice), unstored."""
        self._arm(_Armed("reject", n, frozenset({"submit"})))

    def chaos(self, rate: float, seed: int | None = None, *, stall_seconds: float = 2.0,
              on: Ops = None) -> None:  # fmt: skip
        """Hit a ``rate`` share of requests with a 500, a stall or a dropped answer."""
        if not 0 <= rate <= 1:
            raise InvalidInput("Le taux de pannes doit être compris entre 0 et 1.")
        with self._fault_lock:
            self._chaos = (rate, random.Random(seed), stall_seconds, _ops(on)) if rate else None

    def clear_faults(self) -> None:
        with self._fault_lock:
            self._armed.clear()
            self._down, self._chaos = False, None

    def _arm(self, armed: _Armed) -> None:
        if armed.remaining < 0:
            raise InvalidInput("Le nombre de requêtes doit être positif.")
        with self._fault_lock:
            self._armed.append(armed)

    def _take(self, kind: str, op: str) -> _Armed | None:
        for armed in self._armed:
            if armed.kind == kind and op in armed.ops and armed.remaining > 0:
                armed.remaining -= 1
                if not armed.remaining:
                    self._armed.remove(armed)
                return armed
        return None

    def plan_faults(self, op: str) -> Plan:
        with self._fault_lock:
            if self._down:
                return Plan(refuse=503)
            if throttle := self._take("throttle", op):
                return Plan(refuse=429, retry_after=math.ceil(throttle.seconds))
            if fail := self._take("fail", op):
                return Plan(refuse=fail.status)
            surprise, chaos_stall = None, 0.0
            if self._chaos and op in self._chaos[3] and self._chaos[1].random() < self._chaos[0]:
                surprise = self._chaos[1].choice(("fail", "stall", "drop"))
                chaos_stall = self._chaos[2] if surprise == "stall" else 0.0
            if surprise == "fail":
                return Plan(refuse=500)
            stall = self._take("stall", op)
            return Plan(
                stall=stall.seconds if stall else chaos_stall,
                drop=bool(self._take("drop", op)) or surprise == "drop",
                reject=bool(self._take("reject", op)),
            )


def _ops(on: Ops) -> frozenset[str]:
    ops = frozenset(OPERATIONS if on is None else [on] if isinstance(on, str) else on)
    if unknown := ops - set(OPERATIONS):
        raise InvalidInput(f"Opérations inconnues : {', '.join(sorted(unknown))}.")
    return ops


class SandboxPlatform(FaultInjector, SandboxStore):
    """The sandbox server, with its state (``SandboxStore``: ``deposits``, ``reports``,
    ``received_statuses``, ``flows()``, ``set_outcome``, ``advance``, ``add_incoming``...)
    and its faults. A context manager that starts it and always stops it."""

    def __init__(self, port: int = 0, client_id: str = "comptoir", client_secret: str = "secret",
                 token_ttl: float = 3600.0, lifecycle_step: float = 1.0,
                 host: str = "127.0.0.1") -> None:  # fmt: skip
        FaultInjector.__init__(self)
        SandboxStore.__init__(self, client_id, client_secret, token_ttl, lifecycle_step)
        self.host, self._port = host, port
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._running = False
        self.stopping = threading.Event()
        self._server_lock = threading.Lock()
        self._timer: threading.Timer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def token_url(self) -> str:
        return f"{self.url}/oauth/token"

    def start(self) -> SandboxPlatform:
        with self._server_lock:
            if not self._running:
                self.stopping.clear()
                self._listen()
                self._running = True
        return self

    def stop(self) -> None:
        with self._server_lock:
            self.stopping.set()  # wakes stalled requests, which then close unanswered
            self._running = False
            if self._timer is not None:
                self._timer.cancel()
            self._close()

    def __enter__(self) -> SandboxPlatform:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def set_down(self, down: bool = True, *, refuse: bool = False,
                 seconds: float | None = None) -> None:  # fmt: skip
        """Down: every API call answers 503 (``refuse``: the port is closed, connections are
        refused). ``seconds``: come back up by itself after that long."""
        with self._fault_lock:
            self._down = down and not refuse
        with self._server_lock:
            if self._timer is not None:
                self._timer.cancel()
            if down and refuse:
                self._close()
            elif self._running and self._server is None:
                self._listen()
            if down and seconds is not None and self._running:
                self._timer = threading.Timer(seconds, self.set_down, args=(False,))
                self._timer.daemon = True
                self._timer.start()

    def directory_add(self, siren: str, address: str = "", routing_code: str = "",
                      siret: str = "") -> None:  # fmt: skip
        self.directory.add_line(siren, address, routing_code, siret)

    def directory_unlist(self, siren: str) -> None:
        self.directory.unlist(siren)

    def directory_close(self, closed: bool = True) -> None:
        self.directory.close(closed)

    def control(self, command: dict[str, Any]) -> dict[str, Any]:
        """One ``POST /sandbox/control`` command: {"action": <method name>, <its arguments>}."""
        args = dict(command)
        action = args.pop("action", None)
        if action == "state":
            with self.lock:
                deposits = [dict(asdict(d), at=d.at.isoformat()) for d in self.deposits]
                reports = [flow.to_json() for flow in self.reports]
                answers = [asdict(status) for status in self.received_statuses]
            state = {"deposits": deposits, "reports": reports, "receivedStatuses": answers}
            return {"ok": True, "result": state}
        if action == "add_incoming":
            args["file_bytes"] = base64.b64decode(args.pop("file_base64", ""), validate=True)
        if action == "set_down" and args.get("refuse") and args.get("seconds") is None:
            raise InvalidInput("« refuse » sans « seconds » couperait aussi ce pilotage.")
        if action not in _ACTIONS:
            raise InvalidInput(f"Action inconnue : « {action} ».")
        return {"ok": True, "result": getattr(self, action)(**args)}

    def _listen(self) -> None:
        self._server = Server((self.host, self._port), self)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"pdp-sandbox-{self._port}", daemon=True,
        )  # fmt: skip
        self._thread.start()

    def _close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None


def serve(port: int, host: str = "127.0.0.1", **options: Any) -> None:
    """Run the sandbox until Ctrl-C (for ``comptoir pdp-sandbox --port N``)."""
    with SandboxPlatform(port=port, host=host, **options) as platform:
        print(f"Plateforme de test (bac à sable) en service sur {platform.url}")
        print(f"  Adresse du jeton OAuth2 : {platform.token_url}")
        print(f"  Identifiant client : {platform.client_id}")
        print(f"  Secret client : {platform.client_secret}")
        print(f"  Annuaire (Directory Service) : {platform.url}/directory-service")
        print(f"  Pilotage des pannes : POST {platform.url}/sandbox/control")
        print("Appuyez sur Ctrl-C pour arrêter.", flush=True)
        try:
            while True:
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("\nPlateforme de test arrêtée.")
