"""The run's process environment: Arrow's allocator default and the user's choice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_SCRIPT = """
import sys
from pathlib import Path
import pyarrow as pa
pa.array([1, 2, 3])  # the default pool is in use before the run configures itself
from pipeline.runtime import configure_local_runtime
configure_local_runtime(Path(sys.argv[1]))
import os
print(pa.default_memory_pool().backend_name, os.environ["ARROW_DEFAULT_MEMORY_POOL"])
"""


def _pool_after_configure(tmp_path: Path, **env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path / "state")],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def test_runs_allocate_from_the_system_allocator_by_default(tmp_path: Path) -> None:
    # the variable is set too, so worker processes started by the run use it as well
    assert _pool_after_configure(tmp_path) == ["system", "system"]


def test_a_users_pool_choice_wins(tmp_path: Path) -> None:
    chosen = _pool_after_configure(tmp_path, ARROW_DEFAULT_MEMORY_POOL="jemalloc")
    assert chosen == ["jemalloc", "jemalloc"]
