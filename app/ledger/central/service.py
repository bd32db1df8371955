"""The central ledger of a shop with several tills (BOFiP §210, « système centralisateur »).

Each till keeps its own ledger, numbering and chain, and sells without the central. The
central is itself a Comptoir ledger (kind ``central``, a SQLite file or a PostgreSQL
database) whose own chain holds the shop closures and the verifications, signed by the
central's key, and whose ``till_*`` tables hold every till's chain and the trace of its
uploads, signed by that till's key. Uploading needs no key of the central's: a till
opens it with ``for_upload=True``, which cannot append to its chain.

This module opens the central and is what callers import. The work is done in
``central_upload`` (the tills' uploads), ``central_closures`` (shop closures, status),
``central_verify`` (verification of the whole shop) and ``central_snapshot`` (a till's
chain, or the shop's, as a ledger file for the archive viewer).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError

from app.errors import ComptoirError, LedgerError, LedgerMismatch
from app.ledger import keys
from app.ledger.central.closures import (
    CentralKeyMissing,
    PendingShopClosure,
    ShopClosurePending,
    ShopStatus,
    central_key_missing,
    close_shop_day,
    close_shop_month,
    close_shop_year,
    pending_shop_closures,
    shop_status,
)
from app.ledger.central.models import CENTRAL_KIND
from app.ledger.central.snapshot import central_snapshot
from app.ledger.central.upload import (
    TillInfo,
    TillKeyMissing,
    UploadRefused,
    UploadResult,
    UploadTrace,
    local_head,
    registered_tills,
    till_info,
    upload,
)
from app.ledger.central.verify import verify_central
from app.ledger.db import DatabaseUnreachable, Target, display_target, is_url, resolve_target
from app.ledger.service import ledger_identity, record_verification
from app.ledger.store import SYSTEM_OPERATOR, Clock, Ledger, utc_now
from app.ledger.verify.engine import Report

log = logging.getLogger(__name__)

__all__ = [
    "CentralKeyMissing",
    "CentralUnreachable",
    "PendingShopClosure",
    "ShopClosurePending",
    "ShopStatus",
    "TillInfo",
    "TillKeyMissing",
    "UploadRefused",
    "UploadResult",
    "UploadTrace",
    "central_snapshot",
    "close_shop_day",
    "close_shop_month",
    "close_shop_year",
    "display_target",
    "is_url",
    "local_head",
    "open_central",
    "open_central_for_upload",
    "pending_shop_closures",
    "registered_tills",
    "shop_status",
    "till_info",
    "upload",
    "upload_to",
    "verify_central",
    "verify_central_and_record",
]

CENTRAL_TILL = "CENTRAL"  # the ``till`` of the central's own records


class CentralUnreachable(LedgerError):
    """The central database cannot be reached now; the till keeps its records and retries."""


def central_target(text: str) -> Target:
    """What the user typed: a PostgreSQL URL, or the path of a SQLite file."""
    return resolve_target(text.strip())


# -- opening --------------------------------------------------------------------------
def open_central(
    target: str | Path,
    *,
    clock: Clock = utc_now,
    operator: str = SYSTEM_OPERATOR,
    create: bool = False,
    readonly: bool = False,
    for_upload: bool = False,
) -> Ledger:
    """Open the central ledger at ``target`` (a SQLite file or a PostgreSQL URL).

    To write to the central's own chain (shop closures, verifications), its signing key
    must be on this computer: opening the ledger without it would put a new, unendorsed
    key into the shop's chain, so it is refused (``CentralKeyMissing``). ``for_upload``
    opens it for a till's uploads, which need no key of the central's: no key is loaded
    nor made, and nothing can be appended to its chain (``Ledger.open(signing=False)``).
    ``create`` makes a new central ledger when there is none at ``target``."""
    if for_upload and (create or readonly):
        raise ValueError("for_upload opens an existing central for writing its till tables")
    try:
        if readonly:
            return Ledger.open(target, kind=CENTRAL_KIND, readonly=True)  # type: ignore[arg-type]
        identity = ledger_identity(target)
        if identity is None and not create:
            raise CentralUnreachable(
                f"Serveur central introuvable ou injoignable ({display_target(target)}). Les "
                "ventes continuent ; les enregistrements seront envoyés dès qu'il répondra."
            )
        if identity is not None:
            ledger_id, kind = identity
            if kind != CENTRAL_KIND:
                raise LedgerMismatch(
                    f"{display_target(target)} n'est pas un serveur central Comptoir "
                    "(c'est le journal d'une caisse)."
                )
            if not for_upload and keys.load_key(ledger_id) is None:
                raise central_key_missing(ledger_id)
        return Ledger.open(
            target,  # type: ignore[arg-type]
            kind=CENTRAL_KIND,
            create=create,
            clock=clock,
            till_id=CENTRAL_TILL,
            operator=operator,
            signing=not for_upload,
        )
    except (DBAPIError, OSError, DatabaseUnreachable) as exc:
        raise _unreachable(target, exc) from exc


def open_central_for_upload(target: str | Path, *, clock: Clock = utc_now) -> Ledger:
    """The central as a till opens it to upload: without the central's key."""
    return open_central(target, clock=clock, for_upload=True)


def _unreachable(target: str | Path, exc: BaseException) -> CentralUnreachable:
    return CentralUnreachable(
        f"Serveur central injoignable ({display_target(target)}). Les ventes continuent ; "
        "les enregistrements seront envoyés dès que le serveur répondra.",
        detail=repr(exc),
    )


def upload_to(
    local: Ledger,
    target: str | Path,
    *,
    batch: int = 500,
    till_id: str | None = None,
) -> UploadResult:
    """Open the central at ``target`` for upload, upload, close it; a connection lost on
    the way is CentralUnreachable (what was committed stays, the next upload goes on from
    there). An upload is the till's act, signed by the till's key: it names no operator."""
    central = open_central_for_upload(target)
    try:
        return upload(local, central, batch=batch, till_id=till_id)
    except ComptoirError:
        raise
    except (DBAPIError, OSError) as exc:
        raise _unreachable(target, exc) from exc
    finally:
        central.close()


def verify_central_and_record(
    target: Target,
    *,
    till: str | None = None,
    operator: str = SYSTEM_OPERATOR,
    progress: Any = None,
    cancelled: Any = None,
) -> Report:
    """Verify the central (the whole shop, or one till), then journal the result in the
    central's chain when this computer holds its key, as ``verify_and_record`` does for a
    till; anywhere else verification writes nothing."""
    report = verify_central(target, till=till, progress=progress, cancelled=cancelled)
    identity = ledger_identity(target)
    if report.cancelled or identity is None or keys.load_key(identity[0]) is None:
        return report
    try:
        with open_central(target, operator=operator) as central, central.transaction() as session:
            record_verification(session, report, operator=operator, till=till)
    except Exception as exc:  # a failed journal write must not hide the verdict
        log.warning("could not journal the verification of the central: %s", exc)
    return report
