"""Process environment for Prefect and GX: local, quiet, no telemetry (set before import)."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib.util
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

# Arrow's allocator for runs. The default (mimalloc) keeps freed pages: reading 600 MB of
# Parquet and sorting it held 1.1 GB more RSS than the system allocator did, at equal speed.
ARROW_POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"
ARROW_POOL = "system"

# Prefect's names for a logging configuration file; without one it reads
# $PREFECT_HOME/logging.yml if present, else its own default.
PREFECT_LOGGING_PATH_VARIABLES = ("PREFECT_LOGGING_CONFIG_PATH", "PREFECT_LOGGING_SETTINGS_PATH")
# As Prefect's ephemeral server stops, SQLAlchemy may log the cancellation of its database
# pool as an ERROR ("Exception during reset or similar ... CancelledError"; PrefectHQ/prefect
# issue 16504). Harmless, but it lands on the stderr of a run that succeeded.
QUIETED_LOGGERS = {"sqlalchemy.pool": "CRITICAL"}


def configure_local_runtime(state_dir: Path) -> None:
    """Defaults only: a user's own PREFECT_* / GX settings win."""
    state_dir.mkdir(parents=True, exist_ok=True)
    defaults = {
        "PREFECT_HOME": str(state_dir / "prefect"),
        "PREFECT_LOCAL_STORAGE_PATH": str(state_dir / "prefect" / "results"),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_LOGGING_LOG_PRINTS": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "60",
        "PREFECT_CLI_PROMPT": "false",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "false",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    if not _user_has_prefect_logging_config():
        config_path = write_prefect_logging_config(state_dir / "prefect-logging.yml")
        os.environ[PREFECT_LOGGING_PATH_VARIABLES[0]] = str(config_path)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    use_arrow_pool_default()


def _user_has_prefect_logging_config() -> bool:
    if any(name in os.environ for name in PREFECT_LOGGING_PATH_VARIABLES):
        return True
    return (Path(os.environ["PREFECT_HOME"]).expanduser() / "logging.yml").is_file()


def prefect_logging_config(default_text: str) -> dict[str, Any]:
    """Prefect's logging configuration with ``QUIETED_LOGGERS`` added.

    Built from the installed Prefect's own file rather than a copy of it, so the rest
    follows Prefect's upgrades; its ``${SETTING}`` templates survive as plain strings.
    """
    config: dict[str, Any] = yaml.safe_load(default_text)
    loggers = config.setdefault("loggers", {})
    for name, level in QUIETED_LOGGERS.items():
        loggers.setdefault(name, {"level": level})
    return config


def write_prefect_logging_config(path: Path) -> Path:
    """Write ``prefect_logging_config`` to ``path`` (atomically: runs may share a state dir).

    Prefect is located, not imported: importing it configures its logging from the
    environment this module is still setting.
    """
    spec = importlib.util.find_spec("prefect")
    if spec is None or spec.origin is None:
        raise RuntimeError("Prefect is not installed: the pipeline's flows need it")
    default = Path(spec.origin).parent / "logging" / "logging.yml"
    text = yaml.safe_dump(prefect_logging_config(default.read_text()), sort_keys=True)
    if path.is_file() and path.read_text() == text:
        return path
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    staging.write_text(text)
    os.replace(staging, path)
    return path


def use_arrow_pool_default() -> None:
    """Arrow allocates from the system allocator unless the user chose a pool.

    Arrow reads ``ARROW_DEFAULT_MEMORY_POOL`` once, when the pool is first used (often at
    import), so the variable is for worker processes started later; this process switches
    its pool explicitly.
    """
    if ARROW_POOL_VARIABLE in os.environ:
        return
    os.environ[ARROW_POOL_VARIABLE] = ARROW_POOL
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


def return_freed_memory() -> None:
    """Give memory a finished stage freed back to the operating system.

    glibc keeps freed small and medium blocks in its heap, so a process that ran one
    heavy stage starts the next one holding that stage's peak (20,000 documents: the
    publish step peaked 500 MB above what it needed). No-op where there is no glibc.
    """
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def own_peak_rss_kb() -> int:
    """This process's peak resident set size, in KiB.

    Linux's ``ru_maxrss`` carries the peak of the process that started this one over to
    it (across fork and exec), so a run started by a large process (the benchmark, holding
    a 100,000-document corpus) reported that process's 1 GB as its own. ``VmHWM`` is this
    process's memory's own high-water mark; ``ru_maxrss`` where there is none.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: for steps that make many small objects, none in
    cycles worth finding, while each full collection walks all of them (at 10,000
    documents assembly's collections took more time than the grouping itself; at 100,000
    inputs half of a scan's 1.5-1.9 s)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
