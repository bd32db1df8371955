"""Anchors: the head of the chain, signed, kept where the ledger file is not.

A ledger file put back to an earlier copy, cut short, or rewritten from some point on
with the shop's own key still verifies on its own: every link that remains is sound.
What shows it is a statement made earlier and kept elsewhere — « this ledger's record
n°N had the hash H » — that the file in place contradicts.

Each anchor names the ledger, a sequence number, that record's hash and time, the key
that signs it, and is signed by the shop's key (``chain.sign_hash`` over the SHA-256 of
its canonical statement). After every transaction that appends records
(``Ledger.transaction``), the new head is written:

- to the **anchor log** beside the key (``keys/<ledger id>.anchors``, 0600): one line per
  anchor, appended, never rewritten. A line never goes backwards: a head at or below the
  last line's sequence number is not written (a ledger rolled back and written again
  does not move the log). The one way back is a journaled restore
  (``app.ledger.backup.restore``), which appends a ``restore`` line naming the restored
  copy's last record; older lines stay as they were;
- to the OS keyring, when one works (the latest anchor only, never moved backwards);
- beside every backup copy (``<copy>.anchor``, written by ``app.ledger.backup``).

The ledger itself remembers, in its preferences, from which record on it has been
anchored (``ANCHORED_SINCE``): a log missing then is a finding, not a mere absence.
``app.ledger.verify.anchors`` compares the ledger with every anchor it can reach.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import keyring
from cryptography.hazmat.primitives.asymmetric import ec
from keyring.backends import fail
from sqlalchemy.orm import Session

from app.ledger import chain, keys
from app.ledger.files import PRIVATE_FILE, private_dir, private_file, write_private_bytes
from app.ledger.preferences import get_preference, set_preference

try:  # POSIX: a lock keeps two processes' lines in order
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

STATEMENT_TYPE = "comptoir-anchor"
STATEMENT_VERSION = 1
HEAD = "head"
RESTORE = "restore"
ANCHORED_SINCE = "anchored_since"  # shop preference: first record anchored (a seq)
BESIDE_SUFFIX = ".anchor"
_KEYRING_ENTRY = "ledger-anchor:{}"
_TAIL_BYTES = 4096
_sync = getattr(os, "fdatasync", os.fsync)
HashAt = Callable[[int], "str | None"]


@dataclass(frozen=True)
class Head:
    """The last record a transaction appended (set by ``journal.append``)."""

    seq: int
    hash: str
    ts: str
    prev_hash: str


@dataclass(frozen=True)
class Anchor:
    """A signed statement: record ``seq`` of ledger ``ledger_id`` has hash ``hash``."""

    ledger_id: str
    seq: int
    hash: str
    ts: str  # the anchored record's time (UTC, canonical format)
    key_id: str
    kind: str = HEAD  # HEAD, or RESTORE: the chain continues from a restored copy
    restored_seq: int | None = None  # RESTORE: the restored copy's last record
    signature: str = ""  # base64 DER

    def statement(self) -> bytes:
        body: dict[str, Any] = {
            "type": STATEMENT_TYPE,
            "version": STATEMENT_VERSION,
            "ledger_id": self.ledger_id,
            "seq": self.seq,
            "hash": self.hash,
            "ts": self.ts,
            "key_id": self.key_id,
            "kind": self.kind,
        }
        if self.restored_seq is not None:
            body["restored_seq"] = self.restored_seq
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def digest(self) -> str:
        return hashlib.sha256(self.statement()).hexdigest()

    def signed(self, key: ec.EllipticCurvePrivateKey) -> Anchor:
        return replace(
            self, signature=base64.b64encode(chain.sign_hash(key, self.digest())).decode()
        )

    def signature_ok(self, public_key: ec.EllipticCurvePublicKey) -> bool:
        try:
            raw = base64.b64decode(self.signature, validate=True)
        except ValueError:
            return False
        return chain.signature_ok(public_key, self.digest(), raw)

    def line(self) -> str:
        data = json.loads(self.statement())
        data["signature"] = self.signature
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def parse(cls, text: str) -> Anchor | None:
        """The anchor a line holds, or None when it is not one."""
        try:
            data = json.loads(text)
            if data.get("type") != STATEMENT_TYPE or data.get("version") != STATEMENT_VERSION:
                return None
            restored = data.get("restored_seq")
            anchor = cls(
                ledger_id=str(data["ledger_id"]),
                seq=int(data["seq"]),
                hash=str(data["hash"]),
                ts=str(data["ts"]),
                key_id=str(data["key_id"]),
                kind=str(data["kind"]),
                restored_seq=None if restored is None else int(restored),
                signature=str(data["signature"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        return anchor if anchor.kind in (HEAD, RESTORE) else None


# -- where anchors are kept -------------------------------------------------------------
def log_path(ledger_id: str) -> Path:
    """The anchor log: beside the key, never beside the ledger file."""
    return keys.keys_dir() / f"{ledger_id}.anchors"


def beside_path(copy: Path) -> Path:
    return copy.with_name(copy.name + BESIDE_SUFFIX)


@contextlib.contextmanager
def _locked_log(path: Path) -> Iterator[int]:
    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # closing releases the lock


def _tail(fd: int) -> Anchor | None:
    """The last anchor of the log open at ``fd`` (the last complete line that is one)."""
    size = os.fstat(fd).st_size
    if size == 0:
        return None
    start = max(0, size - _TAIL_BYTES)
    data = _read_at(fd, size - start, start)
    for line in reversed(data.split(b"\n")):
        if line.strip():
            found = Anchor.parse(line.decode("utf-8", "replace"))
            if found is not None:
                return found
    if start > 0:  # a line longer than the tail read: read the whole file once
        found = None
        for line in _read_at(fd, size, 0).split(b"\n"):
            found = Anchor.parse(line.decode("utf-8", "replace")) or found
        return found
    return None


def _read_at(fd: int, size: int, offset: int) -> bytes:
    """``size`` bytes from ``offset`` (os.pread is not on every platform); appends still go
    to the end of the file, which is open with O_APPEND."""
    os.lseek(fd, offset, os.SEEK_SET)
    chunks = []
    while size > 0:
        chunk = os.read(fd, size)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _append(fd: int, anchor: Anchor) -> None:
    os.write(fd, (anchor.line() + "\n").encode("utf-8"))
    # The ledger commits with synchronous=FULL: its anchor is made as durable (the data
    # and the file's new size; fdatasync spares the times, which nobody reads back).
    _sync(fd)


def keep_head(
    ledger_id: str,
    key: ec.EllipticCurvePrivateKey,
    head: Head,
    hash_at: HashAt,
    place: Path | None = None,
) -> Anchor | None:
    """Anchor ``head`` after its transaction committed: appended to the log unless the
    log already holds this record or a later one, or the ledger no longer holds the log's
    last record (rolled back, rewritten: the log keeps what it saw and is not moved onto
    another version of the chain). Then mirrored in the keyring. ``hash_at(seq)`` reads
    the ledger's hash of a record; ``place``: the SQLite file written (see ``places``).

    An anchor is a safeguard: a full disk must not stop a sale (logged, not raised)."""
    anchor = Anchor(ledger_id, head.seq, head.hash, head.ts, chain.key_id_of(key.public_key()))
    path = log_path(ledger_id)
    try:
        if place is not None:
            _remember_place(ledger_id, place)
        with _locked_log(path) as fd:
            last = _tail(fd)
            if last is not None and last.seq >= head.seq:
                return None
            if last is not None and not _descends(head, last, hash_at):
                log.warning(
                    "ledger %s no longer holds its anchored record %s: anchor not moved",
                    ledger_id,
                    last.seq,
                )
                return None
            anchor = anchor.signed(key)
            _append(fd, anchor)
    except OSError as exc:
        log.warning("could not write the ledger anchor %s: %s", path, exc)
        return None
    _mirror_in_keyring(anchor)
    return anchor


# -- where the ledger is written ------------------------------------------------------------
_placed: set[tuple[str, str]] = set()  # (ledger id, file) already remembered by this process


def places_path(ledger_id: str) -> Path:
    return keys.keys_dir() / f"{ledger_id}.places"


def _remember_place(ledger_id: str, place: Path) -> None:
    """The files this computer writes the ledger to, one per line: a backup copy verified
    elsewhere is then told from the ledger in place (a copy is behind by nature)."""
    where = str(place)
    if (ledger_id, where) in _placed:
        return
    if where not in (places(ledger_id) or ()):
        path = places_path(ledger_id)
        private_dir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
        try:
            os.write(fd, (where + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
    _placed.add((ledger_id, where))


def places(ledger_id: str) -> set[str] | None:
    """The files this computer wrote the ledger to, or None when it never noted one."""
    try:
        text = places_path(ledger_id).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return {line for line in text.split("\n") if line}


def _descends(head: Head, last: Anchor, hash_at: HashAt) -> bool:
    """Whether ``head`` continues the chain the log last anchored (the usual case, one
    record after it, is told without reading the ledger)."""
    if last.seq == head.seq - 1:
        return last.hash == head.prev_hash
    return hash_at(last.seq) == last.hash


def record_restore(
    ledger_id: str, key: ec.EllipticCurvePrivateKey, head: Head, restored_seq: int
) -> Anchor:
    """The one way back: after a journaled restore, a ``restore`` line anchors its event
    (``head``) and names the restored copy's last record; earlier lines are kept."""
    anchor = Anchor(
        ledger_id,
        head.seq,
        head.hash,
        head.ts,
        chain.key_id_of(key.public_key()),
        kind=RESTORE,
        restored_seq=restored_seq,
    ).signed(key)
    with _locked_log(log_path(ledger_id)) as fd:
        _append(fd, anchor)
    _mirror_in_keyring(anchor)
    return anchor


class LogLine(NamedTuple):
    """A line of the log read quickly: its number, sequence number, hash and time, and
    its text, parsed and its signature checked only where it matters (``Anchor.parse``)."""

    number: int
    seq: int
    hash: str
    ts: str
    text: str


# A line as ``Anchor.line`` writes it (sorted keys), read without decoding the JSON: a log
# holds one line per transaction and is read at every verification.
_LINE = (
    r'(\{"hash":"([0-9a-f]{64})","key_id":"[^"]*","kind":"[a-z]+","ledger_id":"[^"]*",'
    r'(?:"restored_seq":\d+,)?"seq":(\d+),"signature":"[^"]*","ts":"([^"]*)",'
    rf'"type":"{STATEMENT_TYPE}","version":{STATEMENT_VERSION}\}})'
)
_ALL_LINES = re.compile(rf"^{_LINE}$", re.MULTILINE)
_ONE_LINE = re.compile(_LINE)


def read_log(ledger_id: str) -> tuple[list[LogLine], list[int]] | None:
    """(the log's lines in order, the numbers of those that are not anchors), or None
    when there is no log."""
    try:
        text = log_path(ledger_id).read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        return None
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    matched = _ALL_LINES.findall(text)  # one pass in C: the usual case, every line sound
    if len(matched) == lines:
        found = [
            LogLine(number, int(seq), link, ts, line)
            for number, (line, link, seq, ts) in enumerate(matched, 1)
        ]
        return found, []
    found, unreadable = [], []
    for number, line in enumerate(text.split("\n")[:lines], 1):
        fields = _ONE_LINE.fullmatch(line)
        if fields is None:
            unreadable.append(number)
        else:
            _line, link, seq, ts = fields.groups()
            found.append(LogLine(number, int(seq), link, ts, line))
    return found, unreadable


def read_anchor(ledger_id: str) -> Anchor | None:
    """The latest anchor of the log (what this computer last saw of the chain)."""
    try:
        fd = os.open(log_path(ledger_id), os.O_RDONLY)
    except OSError:
        return None
    try:
        return _tail(fd)
    finally:
        os.close(fd)


# -- the OS keyring ---------------------------------------------------------------------
def keyring_usable() -> bool:
    """Whether a real keyring backend is there (not keyring's « fail » nor « null »)."""
    try:
        backend = keyring.get_keyring()
    except Exception:
        return False
    if isinstance(backend, fail.Keyring):
        return False
    try:
        return float(backend.priority) > 0
    except Exception:
        return False


_mirrored: dict[str, int] = {}  # ledger id -> seq last put in the keyring by this process


def _mirror_in_keyring(anchor: Anchor) -> None:
    if not keyring_usable():
        return
    entry = _KEYRING_ENTRY.format(anchor.ledger_id)
    try:
        if anchor.kind == HEAD:
            known = _mirrored.get(anchor.ledger_id)
            if known is None:
                current = read_keyring(anchor.ledger_id)
                known = current.seq if current is not None else 0
            if known >= anchor.seq:
                return
        keyring.set_password(keys.KEYRING_SERVICE, entry, anchor.line())
        _mirrored[anchor.ledger_id] = anchor.seq
    except Exception as exc:  # a keyring that fails is only one place fewer
        log.debug("keyring anchor not written: %s", exc)


def read_keyring(ledger_id: str) -> Anchor | None:
    if not keyring_usable():
        return None
    try:
        text = keyring.get_password(keys.KEYRING_SERVICE, _KEYRING_ENTRY.format(ledger_id))
    except Exception:
        return None
    return Anchor.parse(text) if text else None


# -- beside a backup copy ---------------------------------------------------------------
def write_beside(copy: Path, ledger_id: str) -> Path | None:
    """Put the latest anchor next to a backup copy: the medium then says how far the
    chain had gone, even once the computer is lost or its files are replaced."""
    anchor = read_anchor(ledger_id)
    if anchor is None:
        return None
    path = beside_path(copy)
    try:
        write_private_bytes(path, (anchor.line() + "\n").encode("utf-8"))
        private_file(path)
    except OSError as exc:
        log.warning("could not write the anchor beside %s: %s", copy, exc)
        return None
    return path


def read_beside(folder: Path, ledger_id: str) -> list[tuple[Path, Anchor | None]]:
    """The anchors next to backup copies in ``folder`` that name this ledger (or cannot
    be read at all)."""
    found: list[tuple[Path, Anchor | None]] = []
    try:
        paths = sorted(folder.glob(f"*{BESIDE_SUFFIX}"))
    except OSError:
        return []
    for path in paths:
        try:
            text = path.read_text("utf-8").strip()
        except (OSError, UnicodeDecodeError):
            continue
        anchor = Anchor.parse(text)
        if anchor is None or anchor.ledger_id == ledger_id:
            found.append((path, anchor))
    return found


# -- the ledger's own note ------------------------------------------------------------------
def note_anchored(session: Session, head: Head) -> None:
    """Inside the transaction of the first anchored record: the ledger remembers that an
    anchor log exists from this record on (so that its loss is noticed)."""
    if not get_preference(session, ANCHORED_SINCE):
        set_preference(session, ANCHORED_SINCE, str(head.seq))
