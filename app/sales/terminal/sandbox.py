"""A card terminal simulator speaking Caisse-AP over IP on 127.0.0.1, for demos and tests
(``comptoir terminal-sandbox``). It answers like a terminal would:

approve  the payment is accepted (AE 10) with an authorisation number
refuse   the bank refuses it (AE 01, AF 04)
timeout  the terminal gives up waiting for the card (AE 01, AF 08)
drop     the connection is closed without an answer (a terminal rebooting, a cable pulled)
hang     no answer at all, the connection left open (the till's own time limit applies)

The mode is chosen when starting (``--mode``), or per transaction by the amount's cents,
so that a demo can show each case from the till: x,91 € refuses, x,92 € times out,
x,93 € drops, x,94 € hangs; any other amount follows the chosen mode.
"""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.errors import InvalidInput
from app.sales.terminal.protocol import CREDIT, DONE, NOT_DONE, decode, encode

MODES = ("approve", "refuse", "timeout", "drop", "hang")
MODE_BY_CENTS = {91: "refuse", 92: "timeout", 93: "drop", 94: "hang"}


@dataclass(frozen=True)
class Transaction:
    """One request the simulator answered, as it would appear in the terminal's log."""

    kind: str  # "debit" or "credit"
    amount_cents: int
    outcome: str  # one of MODES
    authorisation: str


class TerminalSandbox:
    def __init__(self, port: int = 0, *, mode: str = "approve", delay: float = 0.0) -> None:
        if mode not in MODES:
            raise InvalidInput(f"Mode inconnu : {mode!r} (possibles : {', '.join(MODES)}).")
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise InvalidInput("Port entre 0 (un port libre) et 65535.")
        self.mode = mode
        self.delay = delay
        self.transactions: list[Transaction] = []
        self.on_transaction: Callable[[Transaction], None] | None = None
        self._lock = threading.Lock()
        self._next_authorisation = 100001
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.sandbox = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> TerminalSandbox:
        # A short poll: stop() returns at once, not after up to half a second.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="terminal-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop answering and close the port; the serving thread has ended on return."""
        if self._thread is not None:  # shutdown() waits for a serve_forever that never began
            self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def outcome_for(self, amount_cents: int) -> str:
        return MODE_BY_CENTS.get(amount_cents % 100, self.mode)

    def answer(self, request: list[tuple[str, str]]) -> tuple[str, bytes | None]:
        """The outcome and the bytes to send back (None: say nothing)."""
        values = dict(request)
        missing = [tag for tag in ("CZ", "CJ", "CA", "CB", "CD", "CE") if tag not in values]
        if missing or not values.get("CB", "").isdigit():
            return "refuse", encode([*request, ("AE", NOT_DONE), ("AF", "09")])
        amount = int(values["CB"])
        outcome = self.outcome_for(amount)
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            authorisation = ""
            if outcome == "approve":
                authorisation = str(self._next_authorisation)
                self._next_authorisation += 1
            kind = "credit" if values["CD"] == CREDIT else "debit"
            transaction = Transaction(kind, amount, outcome, authorisation)
            self.transactions.append(transaction)
            if self.on_transaction is not None:
                self.on_transaction(transaction)
        if outcome == "approve":
            extra = [("AE", DONE), ("AC", authorisation), ("AA", "497010######0042")]
            return outcome, encode([*request, *extra, ("CC", "001")])
        if outcome in ("refuse", "timeout"):
            reason = "04" if outcome == "refuse" else "08"
            return outcome, encode([*request, ("AE", NOT_DONE), ("AF", reason)])
        return outcome, None


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: TerminalSandbox


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sandbox: TerminalSandbox = self.server.sandbox  # type: ignore[attr-defined]
        data = b""
        self.request.settimeout(30)
        while True:
            try:
                chunk = self.request.recv(4096)
            except OSError:
                return
            if not chunk:
                return  # a connection test: opened and closed
            data += chunk
            try:
                fields = decode(data)
            except UnicodeDecodeError:
                return
            except ValueError:
                continue
            if any(tag == "CE" for tag, _ in fields) or len(data) > 2000:
                break
        outcome, reply = sandbox.answer(fields)
        if reply is not None:
            self.request.sendall(reply)
        elif outcome == "hang":
            try:
                self.request.settimeout(None)
                self.request.recv(1)  # until the till gives up and closes
            except OSError:
                pass
        # "drop": returning closes the connection without a word
