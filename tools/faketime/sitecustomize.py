"""Loaded (through PYTHONPATH) only by tools/faketime_suite.sh, in every Python process of a
suite run under libfaketime.

libfaketime 0.9.10 cannot both leave the monotonic clock alone and sleep: with
FAKETIME_DONT_FAKE_MONOTONIC=1 (without it, every ``Event.wait(timeout)`` waits forever),
``time.sleep`` fails with EINVAL, since Python sleeps with ``clock_nanosleep`` until an
absolute monotonic time. A relative ``select`` timeout is passed through untouched.
"""

import select
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


time.sleep = _sleep
