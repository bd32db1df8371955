"""Where the card terminal is: kept with the ledger's preferences (not fiscal).

Training never charges a card: a training ledger only talks to a terminal on this
computer (the simulator, ``comptoir terminal-sandbox``), and the real ledger's terminal is
not copied into it."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.ledger.operators import Permission, require
from app.ledger.preferences import get_preference, set_preference
from app.ledger.training import is_training
from app.sales.terminal.protocol import TerminalConfig

CARD_TERMINAL = "card_terminal"


LOOPBACK = ("127.0.0.1", "localhost", "::1")
TRAINING_ONLY_SIMULATOR = (
    "En formation, seul le terminal simulé de ce poste (comptoir terminal-sandbox, "
    "adresse 127.0.0.1) peut être utilisé : aucune carte réelle n'est débitée."
)


def terminal_config(session: Session) -> TerminalConfig | None:
    """The terminal set in Réglages, None when the till has none (card typed by hand)."""
    try:
        data = json.loads(get_preference(session, CARD_TERMINAL, "{}"))
        config = TerminalConfig(**data) if data.get("host") else None
    except (ValueError, TypeError, InvalidInput):
        return None
    if config is not None and is_training(session) and config.host not in LOOPBACK:
        return None
    return config


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
    if is_training(session) and config.host not in LOOPBACK:
        raise InvalidInput(TRAINING_ONLY_SIMULATOR)
    data = {
        "host": config.host,
        "port": config.port,
        "terminal_id": config.terminal_id,
        "till_number": config.till_number,
    }
    set_preference(session, CARD_TERMINAL, json.dumps(data, sort_keys=True))
    return config
