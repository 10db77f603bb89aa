"""Great Expectations is loaded in the background while a run's batches are processed."""

from __future__ import annotations

import subprocess
import sys

_SCRIPT = """
import sys
from pipeline.validate.run import import_gx_in_background
assert "great_expectations" not in sys.modules
thread = import_gx_in_background()
thread.join(timeout=120)
assert not thread.is_alive() and thread.daemon
assert "great_expectations" in sys.modules
print("loaded")
"""


def test_gx_is_imported_by_the_background_thread() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["loaded"]
