"""Long work of the viewer (verification, exports, archives) and what it reports.

A ``Job`` is shared between the GUI thread and the worker running it: the worker writes
its progress and reads the cancel flag; the GUI polls the progress with a timer and sets
the flag. Plain attributes and a ``threading.Event`` are enough for that; widgets are
only touched on the GUI thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from app.documents.verification_report import (
    ARCHIVE_METHOD,
    LEDGER_METHOD,
    ReportFinding,
    VerificationSummary,
)
from app.errors import ComptoirError


class Job:
    def __init__(self, title: str) -> None:
        self.title = title
        self.done = 0
        self.total = 0
        self._cancel = threading.Event()

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()


class VerificationCancelled(ComptoirError):
    def __init__(self) -> None:
        super().__init__("Vérification interrompue avant la fin : aucun constat n'est établi.")


@dataclass(frozen=True)
class Verdict:
    """A verification's outcome, whatever was verified: what the screen and the PDF show."""

    ok: bool
    cancelled: bool
    summary: str
    records: int
    findings: tuple[ReportFinding, ...]
    notices: tuple[str, ...]
    source: str
    archive: bool

    def printable(self, *, operator: str, shop_name: str, timezone: str) -> VerificationSummary:
        from zoneinfo import ZoneInfo

        return VerificationSummary(
            source=self.source,
            verdict=self.summary,
            ok=self.ok,
            cancelled=self.cancelled,
            records=self.records,
            operator=operator,
            checked_at=datetime.now(ZoneInfo(timezone)),
            findings=self.findings,
            notices=self.notices,
            shop_name=shop_name,
            method=ARCHIVE_METHOD if self.archive else LEDGER_METHOD,
        )


def verify_live(path: Path, *, operator: str, job: Job, source: str) -> Verdict:
    """The live ledger from its latest checkpoint (the whole ledger when there is none),
    through the service that journals the result on the shop's own computer; an
    interrupted check is not journaled (it proves nothing)."""
    from app.ledger import service

    report = service.verify_and_record(
        path, operator=operator, progress=job.progress, cancelled=job.cancelled, incremental=True
    )
    findings = tuple(ReportFinding(f.seq, path.name, f.message) for f in report.findings)
    return _verdict(report, findings, source=source, archive=False)


def verify_archive_file(path: Path, *, job: Job, source: str) -> Verdict:
    from app.ledger.archive.check import verify_archive

    report = verify_archive(path, progress=job.progress, cancelled=job.cancelled)
    findings = tuple(ReportFinding(f.seq, f.file or path.name, f.message) for f in report.findings)
    return _verdict(report, findings, source=source, archive=True)


def _verdict(
    report: Any, findings: tuple[ReportFinding, ...], *, source: str, archive: bool
) -> Verdict:
    """A ledger report and an archive report answer the same questions (ok, cancelled,
    summary, records, notices); only where a finding points differs, so the caller
    names the file of each."""
    return Verdict(
        ok=report.ok,
        cancelled=report.cancelled,
        summary=report.summary(),
        records=report.records,
        findings=findings,
        notices=tuple(_notices(report)),
        source=source,
        archive=archive,
    )


def _notices(report: Any) -> list[str]:
    notices = getattr(report, "notices", None)
    return list(notices) if notices else []
