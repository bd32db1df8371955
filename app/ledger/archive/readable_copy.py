"""A readable file of an archive (CSV, JSON) read alongside its rendering from the
signed records, to find where they differ."""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from typing import IO

from app.ledger.archive.format import ReadableFile

READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    RuntimeError,
    NotImplementedError,
)


class ReadableCopy:
    """A readable file of the archive read alongside its rendering from the signed records:
    notes the first place where they differ, and hashes what it reads. Renderings are
    compared in batches, which reads the ZIP member in large pieces."""

    BATCH = 1 << 16

    def __init__(self, readable: ReadableFile, stream: IO[bytes]) -> None:
        self.readable, self.stream = readable, stream
        self.sha = hashlib.sha256()
        self.differs_at: str | None = None
        self.damaged = False
        self._pending = bytearray()
        self._marks: list[tuple[int, str]] = []  # (end of a rendering in _pending, where)

    def expect(self, data: bytes, where: str) -> None:
        if not data or self.damaged or self.differs_at is not None:
            return  # after a difference, only the digest matters: finish() reads the rest
        self._pending += data
        self._marks.append((len(self._pending), where))
        if len(self._pending) >= self.BATCH:
            self._compare()

    def _compare(self) -> None:
        pending = self._pending
        if not pending:
            return
        try:
            got = self.stream.read(len(pending))
        except READ_ERRORS:
            self.damaged = True
            return
        self.sha.update(got)
        if got != pending:
            index = next(
                (i for i, (a, b) in enumerate(zip(got, pending, strict=False)) if a != b),
                min(len(got), len(pending)),
            )
            self.differs_at = next(where for end, where in self._marks if index < end)
        pending.clear()
        self._marks.clear()

    def finish(self) -> int:
        """Compare what is pending, then read what is left (it should be nothing);
        returns the length of what was left."""
        self._compare()
        extra = 0
        while not self.damaged:
            try:
                chunk = self.stream.read(1 << 20)
            except READ_ERRORS:
                self.damaged = True
                break
            if not chunk:
                break
            extra += len(chunk)
            self.sha.update(chunk)
        self.stream.close()
        return extra
