"""Where the card terminal is: kept with the ledger's preferences (not fiscal)."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.ledger.operators import Permission, require
from app.ledger.preferences import get_preference, set_preference
from app.sales.terminal.protocol import TerminalConfig

CARD_TERMINAL = "card_terminal"


def terminal_config(session: Session) -> TerminalConfig | None:
    """The terminal set in Réglages, None when the till has none (card typed by hand)."""
    try:
        data = json.loads(get_preference(session, CARD_TERMINAL, "{}"))
        return TerminalConfig(**data) if data.get("host") else None
    except (ValueError, TypeError, InvalidInput):
        return None


def save_terminal_config(
    session: Session,
    *,
    host: str,
    port: int,
    terminal_id: str,
    till_number: str,
    operator: str,
) -> TerminalConfig | None:
    """Save the terminal's address (an empty host removes it)."""
    require(session, operator, Permission.EDIT_SETTINGS)
    host = host.strip()
    if not host:
        set_preference(session, CARD_TERMINAL, "{}")
        return None
    config = TerminalConfig(host, port, terminal_id.strip(), till_number.strip())
    data = {
        "host": config.host,
        "port": config.port,
        "terminal_id": config.terminal_id,
        "till_number": config.till_number,
    }
    set_preference(session, CARD_TERMINAL, json.dumps(data, sort_keys=True))
    return config
