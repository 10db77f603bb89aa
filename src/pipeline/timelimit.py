"""A time limit on one document's processing, so a pathological input cannot stall a run.

A document whose text makes a pattern slow (very long lines, thousands of digits) is stopped
by SIGALRM: ``re`` checks for signals while it matches, so even a slow match is interrupted.
Signals reach only the main thread of a process, which is where batch bodies run (in the
worker processes of ``pipeline.workers``, or in a plain call); elsewhere the limit is not
enforced, and ``time_limit`` says so by yielding False.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class TimeLimitExceeded(BaseException):
    """Raised inside the limited block when its time is up.

    A BaseException, like KeyboardInterrupt, so that the ``except Exception`` that turns a
    failing document into a ``processing_error`` does not swallow it.
    """


def enforceable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float | None) -> Iterator[bool]:
    """Raise TimeLimitExceeded in the block after ``seconds``; yields whether it can."""
    if not seconds or seconds <= 0 or not enforceable():
        yield False
        return

    def _expire(signum: int, frame: FrameType | None) -> None:
        raise TimeLimitExceeded(f"took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
