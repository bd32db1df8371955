"""The ledger's files on disk: readable by their owner only, and no leftovers.

The ledger (with its ``-wal`` and ``-shm``), its backups, archives, printed documents,
anchors and keys hold customers' names and the shop's sales: files are written 0600 and
folders 0700 (where the platform has POSIX modes), and ``secure_ledger_files`` puts back
what an older version, a copy or a restore left more open, each time a ledger is opened
for writing.

A backup or an archive is first written under a temporary name carrying the writer's
process id (``.<name>.<pid>.tmp``, the archive's staging folder ``.archive-<pid>-…`` of
plain CSV files); a process killed half-way leaves them behind, and
``clean_leftovers`` removes those whose process is gone at the next opening.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
POSIX = os.name == "posix"
LEDGER_SIDECARS = ("-wal", "-shm", "-journal")
# Temporaries first: an archive's (".archive-2026-….zip.<pid>.tmp") starts like a staging
# folder whose pid would be the year. A backup copy killed while SQLite wrote it also
# leaves its rollback journal. Staging folders are ".archive-<pid>-" + mkdtemp's suffix.
_LEFTOVER = re.compile(
    r"^\.(?:.+\.(?P<temporary>\d+)\.tmp(?:-journal|-wal|-shm)?|archive-(?P<staging>\d+)-[^.]+)$"
)


def private_dir(path: Path) -> Path:
    """Make the folder (and missing parents) and keep it to its owner."""
    path.mkdir(parents=True, exist_ok=True)
    if POSIX:
        with contextlib.suppress(OSError):
            os.chmod(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> None:
    if POSIX:
        with contextlib.suppress(OSError):
            os.chmod(path, PRIVATE_FILE)


def create_private(path: Path) -> None:
    """Create an empty file only its owner can read, if there is none (SQLite then gives
    the same mode to the ``-wal`` and ``-shm`` it makes beside it)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))


def write_private_bytes(path: Path, data: bytes) -> None:
    """Write a file (a PDF) only its owner can read."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    private_file(path)  # an existing file keeps its mode through O_TRUNC


def temporary_name(target: Path) -> Path:
    """Where ``target`` is written before it is complete (see ``clean_leftovers``)."""
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


def staging_prefix() -> str:
    return f".archive-{os.getpid()}-"


def ledger_folders(ledger_path: Path) -> list[Path]:
    """The folders Comptoir keeps beside a ledger file by default."""
    stem = ledger_path.stem
    return [
        ledger_path.with_name(f"{stem}-{suffix}")
        for suffix in ("sauvegardes", "archives", "documents", "controles")
    ]


def secure_ledger_files(ledger_path: Path, folders: Iterable[Path] = ()) -> list[Path]:
    """Bring back to 0600 / 0700 the ledger, its sidecars and what the folders hold;
    returns what was changed (logged once)."""
    if not POSIX:
        return []
    changed: list[Path] = []
    for name in ("", *LEDGER_SIDECARS):
        _restrict(Path(f"{ledger_path}{name}"), PRIVATE_FILE, changed)
    for folder in folders:
        if not folder.is_dir():
            continue
        _restrict(folder, PRIVATE_DIR, changed)
        for root, dirs, files in os.walk(folder):
            for name in dirs:
                _restrict(Path(root) / name, PRIVATE_DIR, changed)
            for name in files:
                _restrict(Path(root) / name, PRIVATE_FILE, changed)
    if changed:
        log.warning("access to %d ledger files restricted to their owner", len(changed))
    return changed


def _restrict(path: Path, mode: int, changed: list[Path]) -> None:
    try:
        current = path.lstat()
    except OSError:
        return
    if path.is_symlink() or current.st_mode & 0o777 == mode:
        return
    with contextlib.suppress(OSError):
        os.chmod(path, mode)
        changed.append(path)


def clean_leftovers(folders: Iterable[Path]) -> list[Path]:
    """Remove the temporaries of backups and archives whose writing process is gone."""
    removed: list[Path] = []
    for folder in folders:
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            match = _LEFTOVER.match(entry.name)
            if match is None:
                continue
            pid = int(match.group("staging") or match.group("temporary"))
            if _running(pid):
                continue
            try:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
            except OSError as exc:
                log.warning("could not remove the leftover %s: %s", entry, exc)
                continue
            removed.append(entry)
    if removed:
        log.warning("removed %d leftovers of an interrupted backup or archive", len(removed))
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if not POSIX:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, another user's
        return True
    return True
