"""What the Archives screen does beyond browsing: verification, exports, the FEC,
archive creation and the purge of an archived year. Each runs off the GUI thread, one at
a time, behind a progress bar and (where the work can stop) a cancel button; dialogs are
window-modal and never block.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QStandardPaths, Qt, QTimer
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
)

from app.errors import ComptoirError
from app.ledger.models import RecordType
from app.ledger.operators import Permission
from app.ui.archive_viewer.central_source import verify_central_source
from app.ui.archive_viewer.jobs import (
    Job,
    Verdict,
    VerificationCancelled,
    verify_archive_file,
    verify_live,
)
from app.ui.background import Background
from app.ui.errors import show_error

if TYPE_CHECKING:
    from app.ledger.export.browse import LedgerBrowser, RecordIndex
    from app.ui.archive_viewer.source import Source
    from app.ui.context import AppContext

log = logging.getLogger(__name__)


def documents_dir() -> Path:
    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(found) if found else Path.home()


class ViewerActions:
    """Mixed into ArchiveViewer, whose widgets and state these methods use."""

    ctx: AppContext
    source: Source | None
    browser: LedgerBrowser | None
    index: RecordIndex | None
    verdict: Verdict | None
    last_output: Path | None
    tasks: Background
    _task: Job | None
    _search_job: Job | None
    _poll: QTimer
    actions: dict[str, QPushButton]
    task_label: QLabel
    progress: QProgressBar
    cancel_button: QPushButton
    open_button: QPushButton
    live_button: QPushButton
    message: QLabel
    tabs: QTabWidget
    verify_result: QLabel
    findings: QTableWidget
    report_button: QPushButton

    def select_seq(self, seq: int) -> bool:
        raise NotImplementedError

    def show_live(self) -> None:
        raise NotImplementedError

    def _archive_dir(self) -> Path:
        raise NotImplementedError

    # -- long tasks ------------------------------------------------------------------------------
    def _run_task(
        self,
        title: str,
        work: Callable[[Job], Any],
        done: Callable[[Any], None],
        *,
        cancellable: bool = True,
    ) -> bool:
        if self.tasks.busy:
            self._say("Une opération est déjà en cours : attendez sa fin ou annulez-la.")
            return False
        job = self._task = Job(title)
        self.task_label.setText(title + "…")
        self.progress.setRange(0, 0)  # busy until the work says how much there is
        for widget in (self.task_label, self.progress):
            widget.setVisible(True)
        self.cancel_button.setVisible(cancellable)
        self.cancel_button.setEnabled(True)
        self._update_actions()
        self.tasks.run(
            lambda: work(job),
            lambda result: self._task_ended(job, done, result),
            lambda error: self._task_failed(job, error),
        )
        self._poll.start()
        return True

    def _show_progress(self) -> None:
        job = self._task
        if job is None or job.total <= 0:
            return
        self.task_label.setText(job.title + "…")
        if self.progress.maximum() != job.total:
            self.progress.setRange(0, job.total)
        self.progress.setValue(min(job.done, job.total))

    def _finish_task(self) -> None:
        self._poll.stop()
        self._task = None
        for widget in (self.task_label, self.progress, self.cancel_button):
            widget.setVisible(False)
        self._update_actions()

    def _task_ended(self, job: Job, done: Callable[[Any], None], result: Any) -> None:
        self._finish_task()
        done(result)

    def _task_failed(self, job: Job, error: BaseException) -> None:
        self._finish_task()
        if job.cancelled() or isinstance(error, VerificationCancelled):
            message = error.message if isinstance(error, ComptoirError) else "Opération annulée."
            self._say(message)
            if isinstance(error, VerificationCancelled):
                self._show_verdict_text(message, ok=False)
            return
        if isinstance(error, ComptoirError):
            self._say(error.message)
            show_error(self, error)
            return
        log.exception("archive viewer task failed", exc_info=error)
        self._say(f"{job.title} n'a pas pu aboutir : {error}")

    def cancel_task(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.cancel_button.setEnabled(False)
            self.task_label.setText(f"{self._task.title} : annulation…")

    def cancel_all(self) -> None:
        for job in (self._task, self._search_job):
            if job is not None:
                job.cancel()

    def _update_actions(self) -> None:
        busy = self.tasks.busy
        live = self.source is not None and self.source.live
        ready = self.browser is not None
        manager = self.ctx.can(Permission.CLOSE_PERIOD)
        self.actions["verifyButton"].setEnabled(ready and not busy)
        self.actions["exportCsv"].setEnabled(ready and not busy)
        self.actions["exportXlsx"].setEnabled(ready and not busy)
        self.actions["fecButton"].setEnabled(live and not busy)
        self.actions["auditButton"].setEnabled(
            live and not busy and self.ctx.can(Permission.READ_ALL)
        )
        self.actions["auditButton"].setToolTip(
            "Dossier pour un contrôle fiscal : attestation, vérification, clôtures, "
            "événements, archives et FEC d'un exercice, signés, en un dossier et un ZIP."
            if live
            else "Disponible sur le journal en cours."
        )
        for name in ("archiveButton", "purgeButton"):
            self.actions[name].setVisible(manager)
            self.actions[name].setEnabled(live and manager and not busy)
        self.open_button.setEnabled(not busy)
        self.live_button.setEnabled(not busy and not live)
        for name in ("fecButton", "archiveButton", "purgeButton"):
            tip = "" if live else "Disponible sur le journal en cours."
            self.actions[name].setToolTip(tip)

    def _say(self, text: str) -> None:
        self.message.setText(text)

    # -- verification -------------------------------------------------------------------------
    def start_verify(self) -> None:
        if self.source is None:
            return
        source = self.source
        operator = self.ctx.operator_name

        def work(job: Job) -> Verdict:
            if source.central is not None:
                return verify_central_source(
                    source.central, operator=operator, job=job, source=source.label
                )
            if source.live:
                return verify_live(source.db_path, operator=operator, job=job, source=source.label)
            assert source.archive is not None
            return verify_archive_file(source.archive, job=job, source=source.label)

        if self._run_task("Vérification de l'intégrité", work, self._verified):
            self.tabs.setCurrentIndex(1)
            self.verify_result.setText("Vérification en cours…")
            self.verify_result.setProperty("state", "")
            self.findings.setRowCount(0)
            self.report_button.setEnabled(False)

    def _verified(self, verdict: Verdict) -> None:
        self.verdict = verdict
        self._show_verdict_text(verdict.summary, ok=verdict.ok)
        notices = [f"Remarque : {n}" for n in verdict.notices]
        if notices:
            self.verify_result.setText("\n".join([verdict.summary, *notices]))
        self.findings.setRowCount(len(verdict.findings))
        for row, finding in enumerate(verdict.findings):
            seq = "" if finding.seq is None else str(finding.seq)
            for column, text in enumerate((seq, finding.file, finding.message)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.findings.setItem(row, column, item)
        self.report_button.setEnabled(True)
        if self.source is not None and self.source.live:
            self.ctx.ledger_changed.emit()  # the check is journaled on the shop's computer

    def _show_verdict_text(self, text: str, *, ok: bool) -> None:
        self.verify_result.setText(text)
        self.verify_result.setProperty("state", "ok" if ok else "bad")
        self.verify_result.style().unpolish(self.verify_result)
        self.verify_result.style().polish(self.verify_result)

    def _finding_clicked(self, row: int, _column: int) -> None:
        item = self.findings.item(row, 0)
        if item is not None and item.text().isdigit() and self.select_seq(int(item.text())):
            self.tabs.setCurrentIndex(0)

    def ask_report(self) -> None:
        if self.verdict is None:
            return
        stamp = datetime.now().strftime("%Y%m%d-%H%M")
        self._save_dialog(
            "Rapport de vérification",
            f"verification-{stamp}.pdf",
            "PDF (*.pdf)",
            self.write_report,
        )

    def write_report(self, path: Path) -> None:
        """The verification's printable report, written off the GUI thread."""
        if self.verdict is None or self.browser is None:
            return
        summary = self.verdict.printable(
            operator=self.ctx.operator_name,
            shop_name=str(self.browser.shop().get("name", "")),
            timezone=self.browser.timezone,
        )

        def work(job: Job) -> Path:
            from app.documents.verification_report import write_verification_pdf

            return write_verification_pdf(summary, path)

        self._run_task("Rapport PDF", work, self._written, cancellable=False)

    def _written(self, path: Path) -> None:
        self.last_output = path
        self._say(f"Rapport écrit : {path}")

    # -- exports -----------------------------------------------------------------------------
    def ask_export(self, fmt: str) -> None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M")
        self._save_dialog(
            f"Exporter en {fmt.upper()}",
            f"journal-{stamp}.{fmt}",
            f"{fmt.upper()} (*.{fmt})",
            lambda path: self.export_to(fmt, path),
        )

    def export_to(self, fmt: str, path: Path) -> None:
        """Export what the table shows (the current filter) to ``path``, journaled."""
        if self.source is None or self.index is None:
            return
        from app.ledger.export.views import export_view

        source, flt = self.source, self.index.filter
        ledger = None if self.ctx.ledger.readonly else self.ctx.ledger
        operator = self.ctx.operator_name
        label = "journal" if source.live else (source.archive.name if source.archive else "")

        def work(job: Job) -> Path:
            return export_view(
                source.db_path,
                flt,
                fmt,  # type: ignore[arg-type]
                path,
                ledger=ledger,
                operator=operator,
                source=label,
                progress=job.progress,
                cancelled=job.cancelled,
            )

        self._run_task(f"Export {fmt.upper()}", work, self._exported)

    def _exported(self, path: Path) -> None:
        self.last_output = path
        self._say(f"Export écrit : {path}")
        self.ctx.ledger_changed.emit()

    def ask_fec(self) -> None:
        self._ask_year(
            "fecYearDialog", "Fichier des écritures comptables", "Exercice :", self._fec_year_chosen
        )

    def _ask_year(self, name: str, title: str, label: str, chosen: Callable[[str], None]) -> None:
        """Which fiscal year of the journal: a window-modal list, newest first."""
        if self.browser is None:
            return
        years = [str(p.year) for p in reversed(self.browser.periods())]
        if not years:
            self._say("Le journal ne contient aucun exercice.")
            return
        dialog = QInputDialog(self)
        dialog.setObjectName(name)
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        dialog.setComboBoxItems(years)
        dialog.setComboBoxEditable(False)
        dialog.textValueSelected.connect(chosen)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.open()

    def _fec_year_chosen(self, year: str) -> None:
        dialog = QFileDialog(self, f"Dossier du FEC {year}", str(documents_dir()))
        dialog.setObjectName("fecDirDialog")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        self._open_dialog(dialog, lambda folder: self.export_fec(int(year), Path(folder)))

    def export_fec(self, year: int, out_dir: Path) -> None:
        ledger, operator = self.ctx.ledger, self.ctx.operator_name

        def work(job: Job) -> Path:
            from app.ledger.export.fec import write_fec

            return write_fec(ledger, year, out_dir, operator=operator)

        self._run_task(f"FEC {year}", work, self._exported, cancellable=False)

    # -- tax-audit pack ------------------------------------------------------------------------
    def ask_audit_pack(self) -> None:
        """Choose the fiscal year, then the folder; the pack is written off the GUI thread."""
        self._ask_year(
            "auditYearDialog",
            "Dossier pour un contrôle fiscal",
            "Exercice contrôlé :",
            self._audit_year_chosen,
        )

    def _audit_year_chosen(self, year: str) -> None:
        dialog = QFileDialog(
            self, f"Dossier de contrôle {year} : où l'écrire", str(documents_dir())
        )
        dialog.setObjectName("auditDirDialog")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        self._open_dialog(dialog, lambda folder: self.build_audit_pack(int(year), Path(folder)))

    def build_audit_pack(self, year: int, out_dir: Path) -> None:
        ledger, operator = self.ctx.ledger, self.ctx.operator_name

        def work(job: Job) -> Any:
            from app.audit.pack import build_audit_pack

            def progress(done: int, total: int, label: str) -> None:
                job.title = label
                job.progress(done, total)

            return build_audit_pack(ledger, year, out_dir, operator=operator, progress=progress)

        self._run_task(f"Dossier de contrôle {year}", work, self._audit_packed, cancellable=False)

    def _audit_packed(self, pack: Any) -> None:
        self.last_output = pack.zip_path
        verdict = "journal intègre" if pack.verified else "ANOMALIES trouvées : voir le rapport"
        self._say(
            f"Dossier de contrôle {pack.year} écrit ({verdict}) : {pack.folder} "
            f"et {pack.zip_path.name}."
        )
        self.ctx.ledger_changed.emit()

    # -- archives ----------------------------------------------------------------------------
    def archivable_periods(self) -> list[tuple[str, str]]:
        """Closed months and fiscal years: (period, label), newest first."""
        if self.browser is None:
            return []
        from app.ledger.closures import month_label

        out = []
        for entry in reversed(self.browser.closures()):
            if entry.record_type is RecordType.YEAR_CLOSURE:
                out.append((entry.period, f"Exercice {entry.period}"))
            elif entry.record_type is RecordType.MONTH_CLOSURE:
                out.append((entry.period, f"Mois de {month_label(entry.period)}"))
        return out

    def ask_create_archive(self) -> None:
        periods = self.archivable_periods()
        if not periods:
            self._say("Aucun mois ni exercice clôturé à archiver.")
            return
        labels = [label for _, label in periods]
        dialog = QInputDialog(self)
        dialog.setObjectName("archivePeriodDialog")
        dialog.setWindowTitle("Créer une archive")
        dialog.setLabelText("Période clôturée à archiver :")
        dialog.setComboBoxItems(labels)
        dialog.setComboBoxEditable(False)
        dialog.textValueSelected.connect(
            lambda label: self.create_archive(periods[labels.index(label)][0])
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.open()

    def create_archive(self, period: str, out_dir: Path | None = None) -> None:
        if not self.ctx.can(Permission.CLOSE_PERIOD):
            show_error(self, ComptoirError("Seul un gérant peut créer une archive."))
            return
        ledger, operator = self.ctx.ledger, self.ctx.operator_name

        def work(job: Job) -> Any:
            from app.ledger.archive.write import create_archive

            return create_archive(ledger, period, operator=operator, out_dir=out_dir)

        self._run_task(f"Archive {period}", work, self._archived, cancellable=False)

    def _archived(self, result: Any) -> None:
        self.last_output = result.path
        self._say(
            f"Archive {result.period} créée : {result.path} ({result.records} enregistrements)."
        )
        self.ctx.ledger_changed.emit()

    # -- purge ---------------------------------------------------------------------------------
    def ask_purge(self) -> None:
        """Choose the archive of the year to purge; the checks run off the GUI thread, then a
        confirmation names the year and the number of records."""
        if not self.ctx.can(Permission.CLOSE_PERIOD):
            show_error(self, ComptoirError("Seul un gérant peut purger un exercice archivé."))
            return
        dialog = QFileDialog(self, "Archive de l'exercice à purger", str(self._archive_dir()))
        dialog.setObjectName("purgeArchiveDialog")
        dialog.setNameFilter("Archives Comptoir (*.zip)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        self._open_dialog(dialog, lambda chosen: self.prepare_purge(Path(chosen)))

    def prepare_purge(self, archive: Path) -> None:
        ledger = self.ctx.ledger

        def work(job: Job) -> Any:
            from app.ledger.archive.purge import archived_year, plan_purge

            year = archived_year(archive)
            return plan_purge(
                ledger, year, archive_path=archive, progress=job.progress, cancelled=job.cancelled
            )

        self._run_task("Vérification avant la purge", work, self.confirm_purge)

    def confirm_purge(self, plan: Any) -> None:
        """Window-modal and explicit: nothing is deleted unless the purge button is pressed."""
        count = f"{plan.records:,}".replace(",", "\u202f")
        box = QMessageBox(self)
        box.setObjectName("purgeConfirmDialog")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(f"Purger l'exercice {plan.year}")
        box.setText(f"Supprimer du journal les {count} enregistrements de l'exercice {plan.year} ?")
        box.setInformativeText(plan.describe())
        purge = box.addButton(f"Purger l'exercice {plan.year}", QMessageBox.ButtonRole.AcceptRole)
        purge.setObjectName("purgeConfirmButton")
        cancel = box.addButton("Annuler", QMessageBox.ButtonRole.RejectRole)
        cancel.setObjectName("purgeCancelButton")
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        purge.clicked.connect(lambda: self.purge(plan.year, plan.archive_path))
        cancel.clicked.connect(lambda: self._say("Purge abandonnée : rien n'a été supprimé."))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()

    def purge(self, year: str, archive: Path) -> None:
        if not self.ctx.can(Permission.CLOSE_PERIOD):
            show_error(self, ComptoirError("Seul un gérant peut purger un exercice archivé."))
            return
        ledger, operator = self.ctx.ledger, self.ctx.operator_name

        def work(job: Job) -> Any:
            from app.ledger.archive.purge import purge_period

            return purge_period(
                ledger,
                year,
                operator=operator,
                archive_path=archive,
                progress=job.progress,
                cancelled=job.cancelled,
            )

        self._run_task(f"Purge de l'exercice {year}", work, self._purged)

    def _purged(self, result: Any) -> None:
        plan = result.plan
        self.show_live()  # the records are gone: browse the ledger as it is now
        self._say(
            f"Exercice {plan.year} purgé : {plan.records} enregistrements supprimés du journal, "
            f"conservés dans l'archive {plan.archive_path.name}."
        )
        self.ctx.ledger_changed.emit()

    # -- dialogs -------------------------------------------------------------------------------
    def _save_dialog(
        self, title: str, name: str, pattern: str, chosen: Callable[[Path], None]
    ) -> None:
        dialog = QFileDialog(self, title, str(documents_dir() / name), pattern)
        dialog.setObjectName("saveDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        self._open_dialog(dialog, lambda path: chosen(Path(path)))

    def _open_dialog(self, dialog: QFileDialog, chosen: Callable[[str], None]) -> None:
        """Window-modal and non-blocking: the rest of the application keeps running."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.fileSelected.connect(chosen)
        dialog.open()
