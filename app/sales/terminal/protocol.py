"""Caisse-AP over IP: the till asks the card terminal for a payment and reads its answer.

Caisse-AP is the vendor-independent till-to-terminal protocol of the Association du
Paiement (https://www.associationdupaiement.fr/protocoles/protocole-caisse/); since its
version 3 it runs over IP. The till opens a TCP connection to the terminal and sends one
message of ASCII fields, each ``TAG`` (2 characters) + ``LEN`` (3 digits) + ``VALUE``
(1 to 999 characters), the protocol version first; the terminal keeps the connection
open while the customer presents the card and answers with one message in the same
format, the request's fields echoed and the result added. Field tags, as published with
the public Caisse-AP IP simulator (github.com/akretion/caisse-ap-ip) and the OCA Odoo
module ``l10n_fr_pos_caisse_ap_ip``:

Sent by the till
    CZ  protocol version, "0300"
    CJ  terminal identifier ("identifiant protocole Concert"), 12 digits
    CA  till number, 2 digits
    CB  amount in cents, 2 to 12 digits ("05" for 5 cents)
    CD  action: "0" debit (payment), "1" credit (refund)
    CE  currency, ISO 4217 number: "978" for the euro
    BA  answer mode: "0" = answer once the transaction is over
Read back from the terminal
    AE  result: "10" done, "01" not done (then AF says why)
    AF  why not done: "04" refused, "05" forbidden, "08" terminal timeout,
        "09" message not understood, "11" abandoned on the terminal
    AC  authorisation number (kept as the payment's reference, printed on the receipt)
    AA  card number, masked by the terminal
    CC  card kind ("001" CB contact, "00B" CB contactless, …)

Nothing else is used. Everything here is plain Python and sockets: no Qt.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from app.errors import ComptoirError, InvalidInput
from app.values.money import format_cents

VERSION = "0300"
EURO = "978"
DEBIT, CREDIT = "0", "1"
DONE, NOT_DONE = "10", "01"
DEFAULT_PORT = 8888
DEFAULT_TIMEOUT = 180.0  # seconds: a customer may take time to find a card and type a PIN
MAX_AMOUNT_CENTS = 10**12 - 1
REASONS = {
    "04": "paiement refusé par la banque ou le terminal",
    "05": "opération interdite pour cette carte",
    "08": "délai dépassé sur le terminal",
    "09": "le terminal n'a pas compris la demande",
    "11": "transaction abandonnée sur le terminal",
}


class TerminalError(ComptoirError):
    """The terminal could not be reached or gave no usable answer."""


class TerminalLost(TerminalError):
    """The request was sent but no answer came back: whether the card was charged is
    unknown until the cashier checks the terminal."""


class TerminalCancelled(TerminalLost):
    """The cashier stopped waiting for the terminal."""


@dataclass(frozen=True)
class TerminalConfig:
    host: str
    port: int = DEFAULT_PORT
    terminal_id: str = "000000000001"
    till_number: str = "01"
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        check_config(self.host, self.port, self.terminal_id, self.till_number)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def check_config(host: str, port: int, terminal_id: str, till_number: str) -> None:
    if not host or any(c.isspace() for c in host):
        raise InvalidInput("Terminal de paiement : indiquez son adresse IP ou son nom.")
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidInput("Terminal de paiement : port entre 1 et 65535.")
    if not (terminal_id.isdigit() and 1 <= len(terminal_id) <= 12):
        raise InvalidInput("Terminal de paiement : identifiant de 1 à 12 chiffres.")
    if not (till_number.isdigit() and len(till_number) == 2):
        raise InvalidInput("Terminal de paiement : numéro de caisse sur 2 chiffres (01…99).")


@dataclass(frozen=True)
class Answer:
    """What the terminal said about one transaction."""

    approved: bool
    result: str
    reason_code: str
    authorisation: str
    card: str
    fields: tuple[tuple[str, str], ...]

    @property
    def reason(self) -> str:
        """Why the payment was not made, in French; empty when it was."""
        if self.approved:
            return ""
        return REASONS.get(self.reason_code, f"refus du terminal (code {self.reason_code})")


# -- the wire format ---------------------------------------------------------------------
def encode(fields: Iterable[tuple[str, str]]) -> bytes:
    out = []
    for tag, value in fields:
        if len(tag) != 2 or not tag.isascii() or not 1 <= len(value) <= 999:
            raise InvalidInput(f"Champ Caisse-AP invalide : {tag!r}.")
        out.append(f"{tag}{len(value):03d}{value}")
    return "".join(out).encode("ascii")


def decode(data: bytes) -> list[tuple[str, str]]:
    """The fields of one message; raises ValueError while the message is incomplete or
    not Caisse-AP."""
    text = data.decode("ascii")
    fields, i = [], 0
    while i < len(text):
        tag, size = text[i : i + 2], text[i + 2 : i + 5]
        if len(tag) < 2 or len(size) < 3 or not size.isdigit():
            raise ValueError("truncated field header")
        end = i + 5 + int(size)
        if end > len(text):
            raise ValueError("truncated field value")
        fields.append((tag, text[i + 5 : end]))
        i = end
    return fields


def payment_request(config: TerminalConfig, amount_cents: int, *, credit: bool = False) -> bytes:
    """The message asking for a payment (or a refund when credit) of amount_cents."""
    if not isinstance(amount_cents, int) or not 0 < amount_cents <= MAX_AMOUNT_CENTS:
        raise InvalidInput("Montant invalide pour le terminal de paiement.")
    return encode(
        [
            ("CZ", VERSION),
            ("CJ", config.terminal_id.zfill(12)),
            ("CA", config.till_number),
            ("CB", f"{amount_cents:02d}"),
            ("CD", CREDIT if credit else DEBIT),
            ("CE", EURO),
            ("BA", "0"),
        ]
    )


def read_answer(fields: list[tuple[str, str]]) -> Answer:
    values = dict(fields)
    result = values.get("AE", "")
    return Answer(
        approved=result == DONE,
        result=result,
        reason_code=values.get("AF", ""),
        authorisation=values.get("AC", ""),
        card=values.get("AA", ""),
        fields=tuple(fields),
    )


# -- one transaction ---------------------------------------------------------------------
class Exchange:
    """One request to the terminal and its answer; ``cancel`` (from any thread) stops the
    wait by closing the connection."""

    def __init__(self, config: TerminalConfig) -> None:
        self.config = config
        self._sock: socket.socket | None = None
        self._cancelled = threading.Event()
        self._lock = threading.Lock()

    def cancel(self) -> None:
        self._cancelled.set()
        with self._lock:
            if self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.shutdown(socket.SHUT_RDWR)

    def pay(self, amount_cents: int, *, credit: bool = False) -> Answer:
        request = payment_request(self.config, amount_cents, credit=credit)
        what = "remboursement" if credit else "paiement"
        try:
            sock = socket.create_connection((self.config.host, self.config.port), timeout=10)
        except OSError as error:
            raise TerminalError(
                f"Terminal de paiement injoignable ({self.config.address}) : vérifiez qu'il "
                f"est allumé et sur le réseau. Le {what} de {format_cents(amount_cents)} "
                "n'a pas été envoyé.",
                detail=repr(error),
            ) from error
        with sock:
            with self._lock:
                self._sock = sock
            if self._cancelled.is_set():
                raise TerminalCancelled(_unknown(what, amount_cents, "attente annulée"))
            try:
                sock.sendall(request)
            except OSError as error:
                raise TerminalLost(
                    _unknown(what, amount_cents, "connexion perdue"), detail=repr(error)
                ) from error
            return self._receive(sock, what, amount_cents)

    def _receive(self, sock: socket.socket, what: str, amount_cents: int) -> Answer:
        sock.settimeout(self.config.timeout)
        data = b""
        while True:
            try:
                chunk = sock.recv(4096)
            except TimeoutError as error:
                seconds = int(self.config.timeout)
                raise TerminalLost(
                    _unknown(what, amount_cents, f"pas de réponse en {seconds} s"),
                    detail=repr(error),
                ) from error
            except OSError as error:
                if self._cancelled.is_set():
                    raise TerminalCancelled(
                        _unknown(what, amount_cents, "attente annulée")
                    ) from error
                raise TerminalLost(
                    _unknown(what, amount_cents, "connexion perdue"), detail=repr(error)
                ) from error
            if not chunk:
                if self._cancelled.is_set():
                    raise TerminalCancelled(_unknown(what, amount_cents, "attente annulée"))
                raise TerminalLost(_unknown(what, amount_cents, "connexion coupée"))
            data += chunk
            try:
                fields = decode(data)
            except UnicodeDecodeError as error:
                raise TerminalLost(
                    _unknown(what, amount_cents, "réponse illisible"), detail=repr(data)
                ) from error
            except ValueError:
                continue  # the rest of the message is on its way
            if any(tag == "AE" for tag, _ in fields):
                return read_answer(fields)


def _unknown(what: str, amount_cents: int, why: str) -> str:
    return (
        f"Terminal de paiement : {why}. Le {what} de {format_cents(amount_cents)} n'est pas "
        "enregistré ; regardez l'écran ou le ticket du terminal pour savoir s'il a été accepté."
    )


def check_reachable(config: TerminalConfig) -> None:
    """Open and close a connection: the test button of the settings (nothing is charged)."""
    try:
        with socket.create_connection((config.host, config.port), timeout=5):
            pass
    except OSError as error:
        raise TerminalError(
            f"Terminal de paiement injoignable ({config.address}) : vérifiez qu'il est "
            "allumé, sur le même réseau, et son adresse dans les réglages.",
            detail=repr(error),
        ) from error
