"""The central server as one more anchor of a till's chain.

Each upload batch leaves on the central a ``till_upload`` row signed by the till's key
over its last record's number and hash (``upload.UploadTrace``). The latest one is what
the central knows of the till's head, out of the till's reach: ``comptoir verify`` on
the till compares its ledger with it (``app.ledger.verify.anchors.Elsewhere``), as it
compares it with the anchors kept on this computer.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.errors import ComptoirError
from app.ledger.central.models import TillKey, TillUpload
from app.ledger.central.service import open_central
from app.ledger.central.sync import configured_central
from app.ledger.central.upload import UploadTrace
from app.ledger.chain import load_public_der
from app.ledger.db import Target
from app.ledger.store import Ledger
from app.ledger.verify.anchors import Elsewhere

LABEL = "le serveur central"


def central_anchors(target: Path | str) -> tuple[list[Elsewhere], list[str]]:
    """(the till's head as its central holds it, notices): nothing when no central is
    configured, a notice when it cannot be reached or its trace does not check."""
    with Ledger.open(target, kind=None, readonly=True) as ledger:
        central = configured_central(ledger)
        ledger_id = ledger.ledger_id
    if central is None:
        return [], []
    try:
        found = _latest_upload(central, ledger_id)
    except ComptoirError as exc:
        return [], [f"Serveur central non consulté : {exc.message}"]
    if found is None:
        return [], []
    trace, signature, public = found
    if public is None or not trace.signed_by(load_public_der(public), signature):
        return [], [
            f"Le serveur central garde pour cette caisse un envoi (jusqu'au n°{trace.to_seq}) "
            "dont la signature ne se vérifie pas : il n'a pas été comparé au journal."
        ]
    return [Elsewhere(LABEL, trace.to_seq, trace.last_hash, trace.uploaded_at)], []


def _latest_upload(
    central: Target, ledger_id: str
) -> tuple[UploadTrace, bytes, bytes | None] | None:
    with open_central(central, readonly=True) as opened, opened.reader() as session:
        row = session.scalars(
            select(TillUpload)
            .where(TillUpload.ledger_id == ledger_id)
            .order_by(TillUpload.to_seq.desc(), TillUpload.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        key = session.get(TillKey, (ledger_id, row.key_id))
        return UploadTrace.of(row), row.signature, key.public_key if key else None
