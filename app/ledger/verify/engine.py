"""Verification of a whole ledger: the check anyone can run with the public key alone.

Every record is re-hashed, its signature checked against the key the chain itself
introduced, its numbering and timestamps checked, its query copies compared with its
canonical bytes, and every closure's totals recomputed from the records it covers
(``checks``, ``closures``). Large ledgers are cut into chunks checked in parallel by
worker processes (``scan``, ``parallel``). A verification of a ledger that is being
written checks what was committed when it started: records are never changed, so the
chunks agree.

``incremental=True`` starts from the latest checkpoint a sound verification journaled
(``checkpoint``) and falls back to the whole chain when there is none to trust.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from app.ledger.db import resolve_target
from app.ledger.purged import NOTHING_PURGED, Purged
from app.ledger.verify import checkpoint
from app.ledger.verify.anchors import Elsewhere, check_anchors
from app.ledger.verify.parallel import Stitcher, chunks, run_chunks
from app.ledger.verify.report import (
    Finding,
    Report,
    count,
    numbering_message,
    record_name,
    reused_message,
)
from app.ledger.verify.scan import Keys, scan_chunk
from app.ledger.verify.sources import connect, keys_of, ledger_id_of, purges_of, read_errors
from app.ledger.verify.timestamps import time_stamp_findings
from app.ledger.verify.totals import (
    RunningTotals,
    compare_totals,
    ticket_problem,
    totals_of_body,
)

__all__ = [
    "CHUNK",
    "Finding",
    "Progress",
    "Report",
    "RunningTotals",
    "compare_totals",
    "numbering_message",
    "record_name",
    "reused_message",
    "scan_chunk",
    "ticket_problem",
    "totals_of_body",
    "verify_ledger",
]

CHUNK = 20_000
Progress = Callable[[int, int], None]


def verify_ledger(
    target: Path | str,
    *,
    workers: int | None = None,
    chunk_size: int = CHUNK,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    incremental: bool = False,
    elsewhere: Sequence[Elsewhere] = (),
) -> Report:
    """Verify the ledger at ``target`` (a SQLite file's path or a PostgreSQL URL, as
    ``Ledger.target``); never writes to it. ``incremental``: from the latest checkpoint
    when there is one to trust, else from the first record. ``elsewhere``: the heads other
    systems hold (a central), compared with the ledger as its own anchors are."""
    resolved = resolve_target(target)
    path = str(resolved.resolve()) if isinstance(resolved, Path) else resolved
    report = Report()
    conn = connect(path)
    try:
        ledger_id = ledger_id_of(conn)
        lo, hi = conn.execute("SELECT MIN(seq), MAX(seq) FROM journal").fetchone()
        keys, unendorsed = keys_of(conn)
        purged = purges_of(conn)
    except read_errors(conn):  # not a ledger: no such tables
        ledger_id, lo, hi, keys, unendorsed = None, None, None, [], []
        purged = NOTHING_PURGED
    report.keys = len(keys)
    # A key the previous key did not vouch for could be anyone's: a finding, not a remark.
    report.findings.extend(unendorsed)
    if ledger_id is None or lo is None:
        conn.close()
        report.findings.append(Finding(None, "empty", "le journal est vide ou illisible."))
        return report
    stitcher = Stitcher(report, purged)
    try:
        if incremental:
            found = checkpoint.latest(conn)
            if found is not None and checkpoint.restore(stitcher, conn, keys, *found):
                report.since_seq = stitcher.prev_seq
                lo = stitcher.prev_seq + 1
    finally:
        conn.close()
    span = (lo, hi)
    _walk(stitcher, path, span, ledger_id, keys, purged, workers, chunk_size, progress, cancelled)
    if report.since_seq is not None:
        report.notices.append(
            f"Vérification incrémentale : enregistrements n°{report.since_seq + 1} à "
            f"n°{report.last_seq}, depuis le point de contrôle signé n°{report.since_seq} ; "
            "la vérification complète : « comptoir verify »."
        )
    if not report.cancelled:
        _check_anchors(path, ledger_id, keys, report, elsewhere)
        stamp_findings, stamp_notices = time_stamp_findings(path)
        report.findings.extend(stamp_findings)
        report.notices.extend(stamp_notices)
        report.notices.extend(_purge_notices(purged, stitcher.closures.by_archive))
        if report.ok:
            report.checkpoint = stitcher.state(checkpoint.key_at(keys, stitcher.prev_seq))
    report.findings.sort(key=lambda f: f.seq or 0)
    return report


def _walk(
    stitcher: Stitcher,
    path: str,
    span: tuple[int, int],
    ledger_id: str,
    keys: Keys,
    purged: Purged,
    workers: int | None,
    chunk_size: int,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
) -> None:
    lo, hi = span
    report = stitcher.report
    total = hi - lo + 1
    if workers is None:
        workers = min(-(-total // chunk_size), os.cpu_count() or 1)
    ranges = list(chunks(lo, hi, chunk_size, workers))
    for chunk in run_chunks(path, ranges, ledger_id, keys, workers, purged):
        if cancelled is not None and cancelled():
            report.cancelled = True
            break
        stitcher.add(chunk)
        if progress is not None:
            progress(chunk.hi - lo + 1, total)


def _purge_notices(purged: Purged, by_archive: int) -> list[str]:
    """What a reader of the verdict must know about archived years no longer online."""
    notices = [
        f"Exercice {note.year} purgé (enregistrement n°{note.seq}) : {count(note.records)} "
        f"enregistrements retirés du journal, conservés dans l'archive {note.archive_file} "
        "(vérifiez-la avec « comptoir archive verify »)."
        for note in purged.notes
    ]
    if by_archive == 1:
        notices.append(
            "1 clôture vérifiée par son archive : ses tickets ont été purgés ; son empreinte, "
            "sa signature et ses grands totaux perpétuels sont vérifiés ici."
        )
    elif by_archive:
        notices.append(
            f"{count(by_archive)} clôtures vérifiées par leur archive : leurs tickets ont été "
            "purgés ; leurs empreintes, signatures et grands totaux perpétuels sont vérifiés ici."
        )
    return notices


def _check_anchors(
    path: str, ledger_id: str, keys: Keys, report: Report, elsewhere: Sequence[Elsewhere]
) -> None:
    """The ledger against the anchors kept outside it (``app.ledger.verify.anchors``)."""
    conn = connect(path)
    try:
        check_anchors(conn, path, ledger_id, keys, report, elsewhere)
    finally:
        conn.close()
