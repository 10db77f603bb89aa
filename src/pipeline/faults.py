"""Named crash points: a testing hook that makes a run kill itself (SIGKILL) at one moment.

``PIPELINE_CRASH_AT=<point>[,<point>...]`` in the environment makes the process send itself
SIGKILL when it reaches one of those points, exactly what ``kill -9`` at that moment does
(no cleanup, no ``finally``, no flushing). Unset, a point costs one dictionary lookup. The
crash-safety tests use it to check that an output folder survives a kill at every step of a
publish; nothing else sets it.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "PIPELINE_CRASH_AT"

# Every point a run passes, in order (the tests iterate over them).
POINTS = (
    "locked",  # run lock taken, before the start-of-run cleanup
    "staged",  # tables and provisional manifest written to .staging/<version>/
    "publish_started",  # staging folder complete (manifest, changelog, card), fsynced
    "latest_tmp_written",  # .LATEST.<version>.tmp written, release not yet renamed
    "renamed",  # release renamed into releases/, LATEST not yet replaced
    "published",  # end of the run (LATEST replaced when it published), lock still held
)


def crash_point(name: str) -> None:
    """SIGKILL this process when ``name`` is listed in ``PIPELINE_CRASH_AT``."""
    wanted = os.environ.get(CRASH_ENV)
    if wanted and name in wanted.split(","):
        os.kill(os.getpid(), signal.SIGKILL)
