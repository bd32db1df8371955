"""Where the card terminal is: kept with the ledger's preferences (not fiscal).

Training never charges a card: a training ledger only talks to a terminal on this
computer (the simulator, ``comptoir terminal-sandbox``), and the real ledger's terminal is
not copied into it. Nor does the demo shop, whose window starts the simulator itself."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.ledger.operators import Permission, require
from app.ledger.preferences import get_preference, set_preference
from app.ledger.store import ledger_of
from app.sales.terminal.protocol import TerminalConfig

CARD_TERMINAL = "card_terminal"


LOOPBACK = ("127.0.0.1", "localhost", "::1")
TRAINING_ONLY_SIMULATOR = (
    "En formation, seul le terminal simulé de ce poste (comptoir terminal-sandbox, "
    "adresse 127.0.0.1) peut être utilisé : aucune carte réelle n'est débitée."
)
DEMO_ONLY_SIMULATOR = (
    "Boutique de démonstration : seul le terminal simulé de ce poste (adresse 127.0.0.1) "
    "peut être utilisé ; aucune carte réelle n'est débitée."
)
SIMULATOR_ONLY = {"training": TRAINING_ONLY_SIMULATOR, "demo": DEMO_ONLY_SIMULATOR}


def terminal_config(session: Session) -> TerminalConfig | None:
    """The terminal set in Réglages, None when the till has none (card typed by hand)."""
    try:
        data = json.loads(get_preference(session, CARD_TERMINAL, "{}"))
        config = TerminalConfig(**data) if data.get("host") else None
    except (ValueError, TypeError, InvalidInput):
        return None
    if config is not None and _simulator_only(session) and config.host not in LOOPBACK:
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
    refusal = _simulator_only(session)
    if refusal and config.host not in LOOPBACK:
        raise InvalidInput(refusal)
    data = {
        "host": config.host,
        "port": config.port,
        "terminal_id": config.terminal_id,
        "till_number": config.till_number,
    }
    set_preference(session, CARD_TERMINAL, json.dumps(data, sort_keys=True))
    return config


def _simulator_only(session: Session) -> str | None:
    """Why this ledger may use only the simulator (training, demo), None for the real one."""
    return SIMULATOR_ONLY.get(ledger_of(session).kind)
