"""An anchor outside the database: the last closure's sequence number and hash.

A ledger cut short after its last closure still verifies on its own (every remaining
link is sound). The anchor, written to the data folder after each closure, lets
verification on the shop's computer notice that records it once held are gone.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from app import config
from app.ledger.files import private_dir, write_private_bytes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    ts: str


def anchor_path(ledger_id: str) -> Path:
    return config.data_dir() / "anchors" / f"{ledger_id}.json"


def write_anchor(ledger_id: str, anchor: Anchor, *, replace: bool = False) -> None:
    """Move the anchor forward; ``replace`` also moves it back (a journaled restore)."""
    path = anchor_path(ledger_id)
    try:
        private_dir(path.parent)
        previous = read_anchor(ledger_id)
        if not replace and previous is not None and previous.seq >= anchor.seq:
            return
        tmp = path.with_suffix(".tmp")
        write_private_bytes(tmp, json.dumps(anchor.__dict__).encode("utf-8"))
        os.replace(tmp, path)
    except OSError as exc:  # the anchor is a safeguard; a full disk must not stop a closure
        log.warning("could not write the ledger anchor %s: %s", path, exc)


def read_anchor(ledger_id: str) -> Anchor | None:
    path = anchor_path(ledger_id)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Anchor(int(data["seq"]), str(data["hash"]), str(data["ts"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
