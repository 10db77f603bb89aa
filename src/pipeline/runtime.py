"""Process environment for Prefect and GX: local, quiet, no telemetry (set before import)."""

from __future__ import annotations

import logging
import os
from pathlib import Path


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
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
