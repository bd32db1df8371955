"""The Qt binding must not lose references on signals: a till emits millions of them."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    fired = Signal(object)


def test_emitting_signals_keeps_the_refcount_of_true(qapp) -> None:
    # PySide6 6.12.0 dropped a reference to True on every emission from Python; after
    # enough sales the process aborted ("bool_dealloc"). constraints.txt avoids it.
    emitter = _Emitter()
    emitter.fired.connect(lambda value: None)
    before = sys.getrefcount(True)
    for n in range(500):
        emitter.fired.emit(n)
    assert sys.getrefcount(True) >= before - 5
