"""What the archive viewer shows: the live ledger, an archive, or a central's chain."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class CentralSource:
    """Which central, and which chain of it (``till`` None: the shop's own chain)."""

    target: Path | str
    till: str | None
    display: str


@dataclass
class Source:
    """What the viewer shows: the live ledger, or an archive loaded into a temporary file."""

    db_path: Path
    label: str
    archive: Path | None = None
    workdir: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)
    central: CentralSource | None = None  # a snapshot of a central server's chain

    @property
    def live(self) -> bool:
        return self.archive is None and self.central is None
