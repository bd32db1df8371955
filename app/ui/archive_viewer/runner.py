"""One operation at a time, off the GUI thread, behind a progress row.

``OpRunner.run`` hands an operation (a function of a ``Job``) to the background helper,
shows the task's label, progress bar and (where the work can stop) cancel button, polls
the job's progress, then hides the row and calls back on the GUI thread: ``success``
with the operation's value, or the failure handling every operation shares (a French
message, the error dialog for a refusal, a log entry for the unexpected).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QWidget

from app.errors import ComptoirError
from app.ui.archive_viewer.jobs import Job, VerificationCancelled
from app.ui.background import Background
from app.ui.errors import show_error

log = logging.getLogger(__name__)

T = TypeVar("T")

BUSY = "Une opération est déjà en cours : attendez sa fin ou annulez-la."


class OpRunner(QObject):
    """Runs the operations of one screen; ``changed`` is called whenever it starts or
    stops being busy (the screen enables its buttons), ``say`` shows a message."""

    def __init__(
        self,
        screen: QWidget,
        *,
        label: QLabel,
        progress: QProgressBar,
        cancel_button: QPushButton,
        say: Callable[[str], None],
        changed: Callable[[], None],
    ) -> None:
        super().__init__(screen)
        self._screen = screen
        self._label, self._progress, self._cancel_button = label, progress, cancel_button
        self._say, self._changed = say, changed
        self.tasks = Background(self)
        self.job: Job | None = None
        self._poll = QTimer(self, interval=100, timeout=self._show_progress)
        cancel_button.clicked.connect(self.cancel)

    @property
    def busy(self) -> bool:
        return self.tasks.busy

    def run(
        self,
        title: str,
        operation: Callable[..., T],
        success: Callable[[T], None],
        *,
        cancellable: bool = True,
        interrupted: Callable[[str], None] | None = None,
    ) -> bool:
        """Start ``operation`` (called with ``job=``); False, and a message, when another
        one still runs. ``interrupted`` is told the message when the work stopped before its end."""
        if self.tasks.busy:
            self._say(BUSY)
            return False
        job = self.job = Job(title)
        self._label.setText(title + "…")
        self._progress.setRange(0, 0)  # busy until the work says how much there is
        for widget in (self._label, self._progress):
            widget.setVisible(True)
        self._cancel_button.setVisible(cancellable)
        self._cancel_button.setEnabled(True)
        self.tasks.run(
            lambda: operation(job=job),
            lambda result: self._ended(success, result),
            lambda error: self._failed(job, error, interrupted),
        )
        self._changed()  # now busy: the screen's other jobs are disabled until the end
        self._poll.start()
        return True

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self._cancel_button.setEnabled(False)
            self._label.setText(f"{self.job.title} : annulation…")

    def _show_progress(self) -> None:
        job = self.job
        if job is None or job.total <= 0:
            return
        self._label.setText(job.title + "…")
        if self._progress.maximum() != job.total:
            self._progress.setRange(0, job.total)
        self._progress.setValue(min(job.done, job.total))

    def _finish(self) -> None:
        self._poll.stop()
        self.job = None
        for widget in (self._label, self._progress, self._cancel_button):
            widget.setVisible(False)
        self._changed()

    def _ended(self, success: Callable[[Any], None], result: Any) -> None:
        self._finish()
        success(result)

    def _failed(
        self, job: Job, error: BaseException, interrupted: Callable[[str], None] | None
    ) -> None:
        self._finish()
        if job.cancelled() or isinstance(error, VerificationCancelled):
            message = error.message if isinstance(error, ComptoirError) else "Opération annulée."
            self._say(message)
            if isinstance(error, VerificationCancelled) and interrupted is not None:
                interrupted(message)
            return
        if isinstance(error, ComptoirError):
            self._say(error.message)
            show_error(self._screen, error)
            return
        log.exception("archive viewer task failed", exc_info=error)
        self._say(f"{job.title} n'a pas pu aboutir : {error}")
