"""The run's process environment: Arrow's allocator default and the user's choice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.runtime import prefect_logging_config

_SCRIPT = """
import sys
from pathlib import Path

import pytest

from pipeline.runtime import prefect_logging_config
import pyarrow as pa
pa.array([1, 2, 3])  # the default pool is in use before the run configures itself
from pipeline.runtime import configure_local_runtime
configure_local_runtime(Path(sys.argv[1]))
import os
print(pa.default_memory_pool().backend_name, os.environ["ARROW_DEFAULT_MEMORY_POOL"])
"""


def _run_configured(
    script: str, tmp_path: Path, unset: tuple[str, ...], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """``script`` in a fresh interpreter, without the ``unset`` variables, plus ``env``."""
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "state")],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )


def _pool_after_configure(tmp_path: Path, **env: str) -> list[str]:
    return _run_configured(_SCRIPT, tmp_path, ("ARROW_DEFAULT_MEMORY_POOL",), env).stdout.split()


def test_runs_allocate_from_the_system_allocator_by_default(tmp_path: Path) -> None:
    # the variable is set too, so worker processes started by the run use it as well
    assert _pool_after_configure(tmp_path) == ["system", "system"]


def test_a_users_pool_choice_wins(tmp_path: Path) -> None:
    chosen = _pool_after_configure(tmp_path, ARROW_DEFAULT_MEMORY_POOL="jemalloc")
    assert chosen == ["jemalloc", "jemalloc"]


_LOGGING_SCRIPT = """
import logging
import sys
from pathlib import Path

import pytest

from pipeline.runtime import prefect_logging_config
from pipeline.runtime import configure_local_runtime
configure_local_runtime(Path(sys.argv[1]))
from prefect.logging.configuration import setup_logging
setup_logging()  # as the ephemeral server's process does (create_app)
logging.getLogger("sqlalchemy.pool.impl.AsyncAdaptedQueuePool").error("pool reset cancelled")
logging.getLogger("pipeline.stages").warning("a pipeline warning")
"""


def _stderr_after_configure(tmp_path: Path, **env: str) -> str:
    mine = ("PREFECT_HOME", "PREFECT_LOGGING_CONFIG_PATH", "PREFECT_LOGGING_SETTINGS_PATH")
    return _run_configured(_LOGGING_SCRIPT, tmp_path, mine, env).stderr


def test_prefects_pool_shutdown_noise_is_quiet_and_other_warnings_are_not(
    tmp_path: Path,
) -> None:
    err = _stderr_after_configure(tmp_path)
    assert "pool reset cancelled" not in err
    assert "WARNING | pipeline.stages - a pipeline warning" in err  # Prefect's format


def test_a_users_prefect_logging_config_wins(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs.yml"
    theirs.write_text(
        "version: 1\n"
        "disable_existing_loggers: false\n"
        "formatters: {plain: {format: 'theirs %(name)s %(message)s'}}\n"
        "handlers: {err: {class: logging.StreamHandler, formatter: plain,"
        " stream: ext://sys.stderr}}\n"
        "root: {level: WARNING, handlers: [err]}\n"
    )
    err = _stderr_after_configure(tmp_path, PREFECT_LOGGING_CONFIG_PATH=str(theirs))
    assert "theirs sqlalchemy.pool.impl.AsyncAdaptedQueuePool pool reset cancelled" in err
    home = tmp_path / "home"
    home.mkdir()
    (home / "logging.yml").write_text(theirs.read_text())
    err = _stderr_after_configure(tmp_path, PREFECT_HOME=str(home))
    assert "theirs sqlalchemy.pool.impl.AsyncAdaptedQueuePool pool reset cancelled" in err


def test_the_logging_config_is_prefects_own_plus_the_quieted_loggers() -> None:
    default = "version: 1\nloggers:\n  prefect:\n    level: '${PREFECT_LOGGING_LEVEL}'\n"
    config = prefect_logging_config(default)
    assert config["loggers"]["prefect"] == {"level": "${PREFECT_LOGGING_LEVEL}"}
    assert config["loggers"]["sqlalchemy.pool"] == {"level": "CRITICAL"}
    assert prefect_logging_config("version: 1\n")["loggers"] == {
        "sqlalchemy.pool": {"level": "CRITICAL"}
    }


_PEAK_SCRIPT = """
import resource
from pipeline.runtime import own_peak_rss_kb
print(own_peak_rss_kb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="Linux's /proc only")
def test_a_runs_peak_is_its_own_not_that_of_the_process_that_started_it() -> None:
    ballast = bytearray(400 * 2**20)
    ballast[:: 2**12] = b"\x01" * len(range(0, len(ballast), 2**12))  # touch every page
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT], capture_output=True, text=True, check=True
    )
    del ballast
    own_kb, inherited_kb = map(int, done.stdout.split())
    assert inherited_kb > 400 * 1024  # what ru_maxrss says: this process's peak
    assert own_kb < 200 * 1024  # an interpreter and pipeline.runtime's imports


def test_gc_paused_pauses_and_restores_the_collector() -> None:
    import gc

    from pipeline.runtime import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_a_scan_runs_without_the_cyclic_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half of a scan of 100,000 inputs went to collections finding nothing."""
    import gc

    from pipeline.publish import fingerprint, hashcache

    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    seen: list[bool] = []
    load = hashcache.load

    def recorded(cache: Path) -> dict[str, hashcache.Known]:
        seen.append(gc.isenabled())
        return load(cache)

    monkeypatch.setattr(hashcache, "load", recorded)
    records = fingerprint.scan_inputs(tmp_path, tmp_path / "cache.parquet")
    assert [r.path for r in records] == ["a.txt"] and seen == [False] and gc.isenabled()
