"""An archive's time-stamp: the TSA's token for the SHA-256 of its manifest, added to the
ZIP as ``timestamp.tsr`` once it arrives, and checked offline with the archive.

The token stamps the manifest, which names the digest of every other file, so it is the
one member outside the manifest (adding it later changes nothing that was signed). It is
added by writing a complete copy under a temporary name, flushed, then renamed over the
archive: a crash leaves the archive as it was and a hidden leftover the next start cleans.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

from app.errors import LedgerError
from app.ledger.files import create_private, temporary_name
from app.ledger.timestamps.token import TokenInvalid, check_response

TOKEN_NAME = "timestamp.tsr"

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


def check_archive_token(
    archive: zipfile.ZipFile, manifest: bytes, created_at: str | None
) -> tuple[list[str], str | None]:
    """(problems, in French; what the token says when sound). No token: nothing to say
    here (the ledger's verification reports a missing one)."""
    if TOKEN_NAME not in archive.namelist():
        return [], None
    try:
        data = archive.read(TOKEN_NAME)
        stamp = check_response(data, hashlib.sha256(manifest).hexdigest())
    except TokenInvalid as exc:
        return [f"Horodatage de l'archive : {exc.message}"], None
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        return [f"Le fichier {TOKEN_NAME} est endommagé ({exc})."], None
    when = f"{stamp.gen_time:%d/%m/%Y à %H:%M:%S} UTC"
    if created_at:
        try:
            created = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
        except ValueError:
            created = None
        if created is not None and stamp.gen_time < created - CLOCK_MARGIN:
            return [
                f"L'horodatage de l'archive ({when}) est antérieur à sa création "
                f"({created:%d/%m/%Y à %H:%M:%S} UTC) : il ne peut pas lui appartenir."
            ], None
    return [], f"Horodatée le {when} par {stamp.tsa} (jeton RFC 3161 vérifié)."
