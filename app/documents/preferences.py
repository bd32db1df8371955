"""Document preferences kept with the ledger but not fiscal: receipt texts, the printer."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.ledger.operators import Permission, require
from app.ledger.preferences import get_preference, set_preference

RECEIPT_HEADER = "receipt_header"
RECEIPT_FOOTER = "receipt_footer"
PRINTER = "printer"
RECEIPT_WIDTH = 48
RECEIPT_MAX_LINES = 8
BAUDRATES = (9600, 19200, 38400, 57600, 115200)


def receipt_texts(session: Session) -> tuple[str, str]:
    """The receipt header and footer, as typed (lines separated by "\\n")."""
    return get_preference(session, RECEIPT_HEADER), get_preference(session, RECEIPT_FOOTER)


def _check_receipt_text(text: str, what: str) -> str:
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    if len(lines) > RECEIPT_MAX_LINES:
        raise InvalidInput(f"{what} : {RECEIPT_MAX_LINES} lignes au plus.")
    for number, line in enumerate(lines, 1):
        if len(line) > RECEIPT_WIDTH:
            raise InvalidInput(
                f"{what}, ligne {number} : {RECEIPT_WIDTH} caractères au plus "
                f"(largeur du ticket), elle en a {len(line)}."
            )
    return "\n".join(lines)


def save_receipt_texts(session: Session, header: str, footer: str, *, operator: str) -> None:
    require(session, operator, Permission.EDIT_SETTINGS)
    set_preference(session, RECEIPT_HEADER, _check_receipt_text(header, "En-tête"))
    set_preference(session, RECEIPT_FOOTER, _check_receipt_text(footer, "Pied de ticket"))


def check_printer_config(config: dict[str, Any]) -> dict[str, Any]:
    """A complete printer setup, or InvalidInput. USB ids are ints (0x04b8 → 1208)."""
    kind = config.get("kind", "none")
    if kind == "none":
        return {"kind": "none"}
    if kind == "network":
        host = str(config.get("host", "")).strip()
        port = config.get("port", 9100)
        if not host:
            raise InvalidInput("Imprimante réseau : indiquez l'adresse (IP ou nom).")
        if not isinstance(port, int) or not 1 <= port <= 65535:
            raise InvalidInput("Imprimante réseau : port entre 1 et 65535.")
        return {"kind": kind, "host": host, "port": port}
    if kind == "usb":
        ids = [config.get("vendor_id"), config.get("product_id")]
        if not all(isinstance(i, int) and 0 < i <= 0xFFFF for i in ids):
            raise InvalidInput("Imprimante USB : identifiants fabricant et produit requis.")
        return {"kind": kind, "vendor_id": ids[0], "product_id": ids[1]}
    if kind == "serial":
        device = str(config.get("device", "")).strip()
        if not device:
            raise InvalidInput("Imprimante série : indiquez le port (COM1, /dev/ttyUSB0…).")
        if config.get("baudrate") not in BAUDRATES:
            raise InvalidInput("Imprimante série : vitesse non prise en charge.")
        return {"kind": kind, "device": device, "baudrate": config["baudrate"]}
    if kind == "file":
        path = str(config.get("path", "")).strip()
        if not path:
            raise InvalidInput("Imprimante fichier : indiquez le chemin du fichier.")
        return {"kind": kind, "path": path}
    raise InvalidInput(f"Type d'imprimante inconnu : {kind!r}.")


def printer_config(session: Session) -> dict[str, Any]:
    try:
        return check_printer_config(json.loads(get_preference(session, PRINTER, "{}")))
    except (ValueError, InvalidInput, AttributeError):
        return {"kind": "none"}


def save_printer_config(
    session: Session, config: dict[str, Any], *, operator: str
) -> dict[str, Any]:
    require(session, operator, Permission.EDIT_SETTINGS)
    config = check_printer_config(config)
    set_preference(session, PRINTER, json.dumps(config, sort_keys=True))
    return config


def parse_usb_id(text: str, what: str) -> int:
    """A USB id typed in hexadecimal: "04b8" or "0x04B8"."""
    cleaned = text.strip().lower().removeprefix("0x")
    try:
        value = int(cleaned, 16)
    except ValueError:
        raise InvalidInput(f"{what} : nombre hexadécimal attendu (ex. 04b8).") from None
    if not 0 < value <= 0xFFFF:
        raise InvalidInput(f"{what} : entre 0001 et ffff.")
    return value
