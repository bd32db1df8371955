"""What the Archives screen does with a closed period: the FEC and the tax-audit pack of
a fiscal year, the archive of a closed month or year, the purge of an archived year.
Each asks its questions (``dialogs``), then hands one ``operations`` call to the
screen's runner; the answer comes back to the screen."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import ComptoirError
from app.ledger.closures import month_label
from app.ledger.operators import Permission
from app.ledger.records import RecordType
from app.ui.archive_viewer import operations
from app.ui.errors import show_error

if TYPE_CHECKING:
    from app.ledger.archive.purge import PurgePlan
    from app.ui.archive_viewer.viewer import ArchiveViewer


class PeriodJobs:
    """The period jobs of one Archives screen."""

    def __init__(self, viewer: ArchiveViewer) -> None:
        self.viewer = viewer

    def _manager(self, refusal: str) -> bool:
        if self.viewer.ctx.can(Permission.CLOSE_PERIOD):
            return True
        show_error(self.viewer, ComptoirError(refusal))
        return False

    def _ask_year(self, name: str, title: str, label: str, chosen: Any) -> None:
        """Which fiscal year of the journal: a window-modal list, newest first."""
        if self.viewer.browser is None:
            return
        years = [str(p.year) for p in reversed(self.viewer.browser.periods())]
        if not years:
            self.viewer._say("Le journal ne contient aucun exercice.")
            return
        self.viewer.dialogs.ask_choice(name, title, label, years, chosen)

    def ask_fec(self) -> None:
        def folder(year: str) -> None:
            self.viewer.dialogs.ask_folder(
                "fecDirDialog",
                f"Dossier du FEC {year}",
                lambda out_dir: self.export_fec(int(year), out_dir),
            )

        self._ask_year("fecYearDialog", "Fichier des écritures comptables", "Exercice :", folder)

    def export_fec(self, year: int, out_dir: Path) -> None:
        fec = partial(
            operations.export_fec,
            self.viewer.ctx.ledger,
            year,
            out_dir,
            operator=self.viewer.ctx.operator_name,
        )
        self.viewer.ops.run(f"FEC {year}", fec, self.viewer._done, cancellable=False)

    def ask_audit_pack(self) -> None:
        """Choose the fiscal year, then the folder; the pack is written off the GUI thread."""

        def folder(year: str) -> None:
            self.viewer.dialogs.ask_folder(
                "auditDirDialog",
                f"Dossier de contrôle {year} : où l'écrire",
                lambda out_dir: self.build_audit_pack(int(year), out_dir),
            )

        title = "Dossier pour un contrôle fiscal"
        self._ask_year("auditYearDialog", title, "Exercice contrôlé :", folder)

    def build_audit_pack(self, year: int, out_dir: Path) -> None:
        pack = partial(
            operations.build_audit_pack,
            self.viewer.ctx.ledger,
            year,
            out_dir,
            operator=self.viewer.ctx.operator_name,
        )
        self.viewer.ops.run(
            f"Dossier de contrôle {year}", pack, self.viewer._done, cancellable=False
        )

    def archivable_periods(self) -> list[tuple[str, str]]:
        """Closed months and fiscal years: (period, label), newest first."""
        if self.viewer.browser is None:
            return []
        out = []
        for entry in reversed(self.viewer.browser.closures()):
            if entry.record_type is RecordType.YEAR_CLOSURE:
                out.append((entry.period, f"Exercice {entry.period}"))
            elif entry.record_type is RecordType.MONTH_CLOSURE:
                out.append((entry.period, f"Mois de {month_label(entry.period)}"))
        return out

    def ask_create_archive(self) -> None:
        periods = self.archivable_periods()
        if not periods:
            self.viewer._say("Aucun mois ni exercice clôturé à archiver.")
            return
        labels = [label for _, label in periods]
        self.viewer.dialogs.ask_choice(
            "archivePeriodDialog",
            "Créer une archive",
            "Période clôturée à archiver :",
            labels,
            lambda label: self.create_archive(periods[labels.index(label)][0]),
        )

    def create_archive(self, period: str, out_dir: Path | None = None) -> None:
        if not self._manager("Seul un gérant peut créer une archive."):
            return
        archive = partial(
            operations.create_archive,
            self.viewer.ctx.ledger,
            period,
            operator=self.viewer.ctx.operator_name,
            out_dir=out_dir,
        )
        self.viewer.ops.run(f"Archive {period}", archive, self.viewer._done, cancellable=False)

    def ask_purge(self) -> None:
        """Choose the archive of the year to purge; the checks run off the GUI thread, then a
        confirmation names the year and the number of records."""
        if not self._manager("Seul un gérant peut purger un exercice archivé."):
            return
        self.viewer.dialogs.ask_archive(
            "purgeArchiveDialog",
            "Archive de l'exercice à purger",
            self.archive_dir(),
            self.prepare_purge,
        )

    def prepare_purge(self, archive: Path) -> None:
        plan = partial(operations.plan_purge, self.viewer.ctx.ledger, archive)
        self.viewer.ops.run("Vérification avant la purge", plan, self.confirm_purge)

    def confirm_purge(self, plan: PurgePlan) -> None:
        """Window-modal and explicit: nothing is deleted unless the purge button is pressed."""
        self.viewer.dialogs.confirm_purge(
            plan,
            lambda: self.purge(plan.year, plan.archive_path),
            lambda: self.viewer._say("Purge abandonnée : rien n'a été supprimé."),
        )

    def purge(self, year: str, archive: Path) -> None:
        if not self._manager("Seul un gérant peut purger un exercice archivé."):
            return
        purge = partial(
            operations.purge_year,
            self.viewer.ctx.ledger,
            year,
            archive,
            operator=self.viewer.ctx.operator_name,
        )
        self.viewer.ops.run(f"Purge de l'exercice {year}", purge, self.viewer._done)

    def archive_dir(self) -> Path:
        try:
            from app.ledger.archive.folder import default_archive_dir

            folder = default_archive_dir(Path(self.viewer.ctx.ledger.path))
        except (ImportError, AttributeError):
            folder = Path(self.viewer.ctx.ledger.path).parent
        return folder if folder.is_dir() else Path(self.viewer.ctx.ledger.path).parent
