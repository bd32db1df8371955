"""The Archives screen's long jobs, one small ``verb_noun`` function each.

Each operation hands one service call the ``Job`` it runs under (for progress and
cancel) and returns a plain value saying what it produced: a ``Verdict``, a purge plan,
a ledger file to browse, or an ``Outcome`` (the file written, the sentence that says so,
whether the journal gained a record). None touches a widget: ``OpRunner`` runs them off
the GUI thread and hands the value back to the screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from app.ui.archive_viewer.central_source import verify_central_source
from app.ui.archive_viewer.jobs import Job, Verdict, verify_archive_file, verify_live

if TYPE_CHECKING:
    from app.documents.verification_report import VerificationSummary
    from app.ledger.archive.purge import PurgePlan
    from app.ledger.export.browse import RecordFilter
    from app.ledger.store import Ledger
    from app.ui.archive_viewer.source import Source


@dataclass(frozen=True)
class Outcome:
    """What an operation changed: the file it wrote (if any), the sentence telling the
    user, whether the journal gained a record, whether the browsed ledger lost some."""

    message: str
    path: Path | None = None
    journaled: bool = False
    reload: bool = False


def verify_ledger(source: Source, *, operator: str, job: Job) -> Verdict:
    """The ledger, archive or central chain on screen, verified by the one engine."""
    if source.central is not None:
        return verify_central_source(
            source.central, operator=operator, job=job, source=source.label
        )
    if source.live:
        return verify_live(source.db_path, operator=operator, job=job, source=source.label)
    assert source.archive is not None
    return verify_archive_file(source.archive, job=job, source=source.label)


def write_report(summary: VerificationSummary, path: Path, *, job: Job) -> Outcome:
    from app.documents.verification_report import write_verification_pdf

    written = write_verification_pdf(summary, path)
    return Outcome(f"Rapport écrit : {written}", written)


def export_view(
    source: Source,
    flt: RecordFilter,
    fmt: Literal["csv", "xlsx"],
    path: Path,
    *,
    ledger: Ledger | None,
    operator: str,
    job: Job,
) -> Outcome:
    """What the table shows (the current filter), journaled when the ledger is writable."""
    from app.ledger.export import views

    label = "journal" if source.live else (source.archive.name if source.archive else "")
    written = views.export_view(
        source.db_path,
        flt,
        fmt,
        path,
        ledger=ledger,
        operator=operator,
        source=label,
        progress=job.progress,
        cancelled=job.cancelled,
    )
    return Outcome(f"Export écrit : {written}", written, journaled=True)


def export_fec(ledger: Ledger, year: int, out_dir: Path, *, operator: str, job: Job) -> Outcome:
    from app.ledger.export.fec import write_fec

    written = write_fec(ledger, year, out_dir, operator=operator)
    return Outcome(f"Export écrit : {written}", written, journaled=True)


def build_audit_pack(
    ledger: Ledger, year: int, out_dir: Path, *, operator: str, job: Job
) -> Outcome:
    from app.audit import pack as audit

    def progress(done: int, total: int, label: str) -> None:
        job.title = label
        job.progress(done, total)

    pack = audit.build_audit_pack(ledger, year, out_dir, operator=operator, progress=progress)
    verdict = "journal intègre" if pack.verified else "ANOMALIES trouvées : voir le rapport"
    message = (
        f"Dossier de contrôle {pack.year} écrit ({verdict}) : {pack.folder} "
        f"et {pack.zip_path.name}."
    )
    return Outcome(message, pack.zip_path, journaled=True)


def create_archive(
    ledger: Ledger, period: str, *, operator: str, out_dir: Path | None, job: Job
) -> Outcome:
    from app.ledger.archive import write

    result = write.create_archive(ledger, period, operator=operator, out_dir=out_dir)
    message = f"Archive {result.period} créée : {result.path} ({result.records} enregistrements)."
    return Outcome(message, result.path, journaled=True)


def open_archive(archive: Path, db_path: Path, *, job: Job) -> Path:
    """The archive loaded into a temporary ledger file, browsed like the journal."""
    from app.ledger.archive.reopen import load_archive_as_ledger

    return load_archive_as_ledger(archive, db_path)


def plan_purge(ledger: Ledger, archive: Path, *, job: Job) -> PurgePlan:
    """Every check before a purge, nothing deleted: what the confirmation shows."""
    from app.ledger.archive import purge

    year = purge.archived_year(archive)
    return purge.plan_purge(
        ledger, year, archive_path=archive, progress=job.progress, cancelled=job.cancelled
    )


def purge_year(ledger: Ledger, year: str, archive: Path, *, operator: str, job: Job) -> Outcome:
    from app.ledger.archive import purge

    plan = purge.purge_period(
        ledger,
        year,
        operator=operator,
        archive_path=archive,
        progress=job.progress,
        cancelled=job.cancelled,
    ).plan
    message = (
        f"Exercice {plan.year} purgé : {plan.records} enregistrements supprimés du journal, "
        f"conservés dans l'archive {plan.archive_path.name}."
    )
    return Outcome(message, journaled=True, reload=True)
