"""Child process of test_crash_operations: runs one command of the command line and stops
dead at a chosen point, so that the parent's SIGKILL lands exactly there.

Usage: python crash_ops_child.py POINT ARGV...

POINT is one of (``none``: run to the end):

- ``record:TYPE`` or ``record:EVENT:CODE``: when the journal row of that record is being
  inserted, inside its transaction (the commit has not happened);
- ``call:MODULE:FUNCTION``: when that function of the application is called;
- ``copy:N``: at the N-th block copied into a ZIP archive (the archive half written);
- ``replace:SUFFIX``: just before a file ending with SUFFIX is renamed into place;
- ``partial-copy``: a backup's copy of the database half made.

On reaching it the child prints ``AT POINT`` and sleeps until it is killed. The hooks are
installed here, in the child only: the application carries no test code.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from typing import Any

from app.cli import main
from app.ledger import journal


def _stop(point: str) -> None:
    print(f"AT {point}", flush=True)
    while True:
        time.sleep(60)


def _install(point: str) -> None:
    kind, _, what = point.partition(":")
    if kind == "record":
        rtype, _, code = what.partition(":")
        marker = f'"code":"{code}"'.encode() if code else b""
        original_insert = journal._insert

        def insert(conn: Any, statement: Any, rows: list[dict[str, Any]]) -> None:
            if statement is journal._INSERT_RECORD and any(
                row["record_type"] == rtype and marker in row["canonical"] for row in rows
            ):
                _stop(point)
            original_insert(conn, statement, rows)

        journal._insert = insert  # type: ignore[assignment]
    elif kind == "call":
        module_name, _, name = what.partition(":")
        module = importlib.import_module(module_name)
        original: Callable[..., Any] = getattr(module, name)

        def called(*args: Any, **kwargs: Any) -> Any:
            _stop(point)
            return original(*args, **kwargs)

        setattr(module, name, called)
    elif kind == "copy":
        limit, copies = int(what), [0]
        original_copy = shutil.copyfileobj

        def copy(src: Any, dst: Any, length: int = 0) -> None:
            copies[0] += 1
            if copies[0] == limit:
                dst.write(src.read(1000))  # some of it is in the ZIP already
                _stop(point)
            original_copy(src, dst, length)

        shutil.copyfileobj = copy  # type: ignore[assignment]
    elif kind == "replace":
        original_replace = os.replace

        def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
            if str(dst).endswith(what):
                _stop(point)
            original_replace(src, dst, *args, **kwargs)

        os.replace = replace  # type: ignore[assignment]
    elif kind == "partial-copy":
        # The backup's copy stopped between two steps: a partial file and its rollback
        # journal, as when the kill lands inside SQLite's one-step copy.
        from app.ledger.backup import copies

        def copy_database(source: Any, target: Any) -> None:
            src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            dst = sqlite3.connect(target)
            src.backup(dst, pages=1, progress=lambda *_: _stop(point))

        copies._copy_database = copy_database  # type: ignore[assignment]
    elif kind != "none":
        raise SystemExit(f"unknown point {point!r}")


if __name__ == "__main__":
    _install(sys.argv[1])
    sys.exit(main(sys.argv[2:]))
