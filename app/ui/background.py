"""One way to run slow work (network, large files) off the GUI thread: the work runs in
a worker thread; its result or error is handed back on the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, QTimer


class Background(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="comptoir-bg")
        self._running: list[
            tuple[Future[Any], Callable[[Any], None], Callable[[BaseException], None]]
        ] = []
        self._timer = QTimer(self, interval=50, timeout=self._deliver)

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def run(
        self,
        work: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[BaseException], None],
    ) -> None:
        self._running.append((self._pool.submit(work), done, failed))
        self._timer.start()

    def _deliver(self) -> None:
        # Take finished work off the list before any callback runs: a callback then sees
        # ``busy`` as it will be, and may start new work without it being lost.
        finished, still = [], []
        for entry in self._running:
            (finished if entry[0].done() else still).append(entry)
        self._running = still
        if not still:
            self._timer.stop()
        for future, done, failed in finished:
            error = future.exception()
            if error is None:
                done(future.result())
            else:
                failed(error)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
