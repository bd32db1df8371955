"""Where the customer display is: a second window, and a pole display on a serial or
USB port (kept with the ledger's preferences, not fiscal). Apart from the device code so
that the till reads it without loading python-escpos."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from app.documents.preferences import check_printer_config
from app.errors import InvalidInput
from app.ledger.operators import Permission, require
from app.ledger.preferences import get_preference, set_preference

CUSTOMER_DISPLAY = "customer_display"
POLE_KINDS = ("none", "serial", "usb")
NO_DISPLAY: dict[str, Any] = {"window": False, "pole": {"kind": "none"}}


def check_display_config(config: dict[str, Any]) -> dict[str, Any]:
    """{"window": bool, "pole": printer-like settings of kind none, serial or usb}."""
    pole = dict(config.get("pole") or {"kind": "none"})
    if pole.get("kind", "none") not in POLE_KINDS:
        raise InvalidInput("Afficheur client : branché en série, en USB, ou aucun.")
    pole = check_printer_config(pole)
    window = config.get("window", False)
    if not isinstance(window, bool):
        raise InvalidInput("Écran client : oui ou non.")
    return {"window": window, "pole": pole}


def display_config(session: Session) -> dict[str, Any]:
    try:
        return check_display_config(json.loads(get_preference(session, CUSTOMER_DISPLAY, "{}")))
    except (ValueError, InvalidInput, AttributeError, TypeError):
        return dict(NO_DISPLAY)


def save_display_config(
    session: Session, config: dict[str, Any], *, operator: str
) -> dict[str, Any]:
    require(session, operator, Permission.EDIT_SETTINGS)
    config = check_display_config(config)
    set_preference(session, CUSTOMER_DISPLAY, json.dumps(config, sort_keys=True))
    return config
