"""An archive's time-stamps, checked offline with the archive alone.

The archive's own token, for the SHA-256 of its manifest, is added to the ZIP as
``timestamp.tsr`` once it arrives. The tokens the ledger holds for the closures of the
period are written into the archive when it is made (``horodatages/<seq>.tsr``), listed in
the manifest like every other file, and checked against the closures of ``clotures.json``.

The token stamps the manifest, which names the digest of every other file, so it is the
one member outside the manifest (adding it later changes nothing that was signed). It is
added by writing a complete copy under a temporary name, flushed, then renamed over the
archive: a crash leaves the archive as it was and a hidden leftover the next start cleans.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import LedgerError
from app.ledger.archive.format import CLOSURES_JSON
from app.ledger.files import create_private, temporary_name
from app.ledger.models import JournalRecord
from app.ledger.records import CLOSURE_TYPES
from app.ledger.timestamps.queue import TimeStamp
from app.ledger.timestamps.token import Stamp, TokenInvalid, check_response

TOKEN_NAME = "timestamp.tsr"
TOKENS_DIR = "horodatages/"

# Clocks differ: a token is "before" what it stamps only past this margin.
CLOCK_MARGIN = timedelta(minutes=2)


def add_token_to_archive(path: Path, response: bytes) -> bool:
    """Put ``response`` into the archive at ``path``; False when it already has a token."""
    try:
        with zipfile.ZipFile(path) as archive:
            if TOKEN_NAME in archive.namelist():
                return False
        temporary = temporary_name(path)
        try:
            create_private(temporary)
            shutil.copyfile(path, temporary)
            with zipfile.ZipFile(temporary, "a", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(TOKEN_NAME, response)
            with temporary.open("rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except (OSError, zipfile.BadZipFile) as exc:
        raise LedgerError(
            f"L'horodatage n'a pas pu être ajouté à l'archive {path.name} : il reste dans le "
            "journal.",
            detail=repr(exc),
        ) from exc
    return True


def closure_tokens(session: Session, first_seq: int, last_seq: int) -> dict[str, bytes]:
    """The tokens of the closures from ``first_seq`` to ``last_seq``, by their name in the
    archive."""
    rows = session.execute(
        select(TimeStamp.seq, TimeStamp.response)
        .join(JournalRecord, JournalRecord.seq == TimeStamp.seq)
        .where(
            TimeStamp.seq.between(first_seq, last_seq),
            JournalRecord.record_type.in_([t.value for t in CLOSURE_TYPES]),
        )
        .order_by(TimeStamp.seq)
    )
    return {f"{TOKENS_DIR}{seq}.tsr": bytes(response) for seq, response in rows}


def check_archive_token(
    archive: zipfile.ZipFile, manifest_bytes: bytes, manifest: dict[str, Any]
) -> tuple[list[tuple[str, int | None, str]], str | None]:
    """(problems as (file, seq, French sentence); what the tokens say when sound). No
    token: nothing to say here (the ledger's verification reports a missing one)."""
    problems: list[tuple[str, int | None, str]] = []
    said: list[str] = []
    names = set(archive.namelist())
    if TOKEN_NAME in names:
        created = _moment(manifest.get("created_at"))
        try:
            stamp = check_response(
                archive.read(TOKEN_NAME), hashlib.sha256(manifest_bytes).hexdigest()
            )
        except TokenInvalid as exc:
            problems.append((TOKEN_NAME, None, f"Horodatage de l'archive : {exc.message}"))
        except (OSError, zipfile.BadZipFile, ValueError) as exc:
            problems.append((TOKEN_NAME, None, f"Le fichier {TOKEN_NAME} est endommagé ({exc})."))
        else:
            if created is not None and stamp.gen_time < created - CLOCK_MARGIN:
                problems.append(
                    (
                        TOKEN_NAME,
                        None,
                        f"L'horodatage de l'archive ({_when(stamp)}) est antérieur à sa "
                        f"création ({created:%d/%m/%Y à %H:%M:%S} UTC) : il ne peut pas lui "
                        "appartenir.",
                    )
                )
            else:
                said.append(
                    f"Horodatée le {_when(stamp)} par {stamp.tsa} (jeton RFC 3161 vérifié)."
                )
    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    listed = sorted(n for n in files if n.startswith(TOKENS_DIR) and n in names)
    if listed:
        sound = _closure_tokens(archive, files, listed, problems)
        if sound:
            said.append(
                f"{sound} horodatage{'s' if sound > 1 else ''} de clôture vérifié"
                f"{'s' if sound > 1 else ''} hors ligne."
            )
    return problems, " ".join(said) or None


def _closure_tokens(
    archive: zipfile.ZipFile,
    files: dict[str, Any],
    listed: list[str],
    problems: list[tuple[str, int | None, str]],
) -> int:
    try:
        closures = {
            entry["record"]["seq"]: (entry["hash"], entry["record"]["ts"])
            for entry in json.loads(archive.read(CLOSURES_JSON))
        }
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile):
        return 0  # the archive check names a damaged clotures.json
    sound = 0
    for name in listed:
        seq_text = name[len(TOKENS_DIR) : -len(".tsr")]
        seq = int(seq_text) if seq_text.isdigit() else None
        data = archive.read(name)
        if hashlib.sha256(data).hexdigest() != files.get(name):
            problems.append(
                (
                    name,
                    seq,
                    f"Le fichier {name} a été modifié : son empreinte ne correspond pas "
                    "au manifeste.",
                )
            )
            continue
        if seq not in closures:
            problems.append((name, seq, f"Le fichier {name} ne correspond à aucune clôture."))
            continue
        record_hash, ts = closures[seq]
        try:
            stamp = check_response(data, record_hash)
        except TokenInvalid as exc:
            problems.append((name, seq, f"Horodatage de la clôture n°{seq} : {exc.message}"))
            continue
        recorded = _moment(ts)
        if recorded is not None and stamp.gen_time < recorded - CLOCK_MARGIN:
            problems.append(
                (
                    name,
                    seq,
                    f"L'horodatage de la clôture n°{seq} ({_when(stamp)}) est antérieur aux "
                    "enregistrements qu'elle couvre.",
                )
            )
            continue
        sound += 1
    return sound


def _moment(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def _when(stamp: Stamp) -> str:
    return f"{stamp.gen_time:%d/%m/%Y à %H:%M:%S} UTC"
