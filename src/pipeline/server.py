"""A real Prefect API for schedules and Dask runs: the user's, or one started on loopback.

The ephemeral API a plain ``pipeline run`` uses lives inside one Python process: Prefect
cannot schedule on it, and every Dask worker would start a server of its own on the same
SQLite file (see FACTS). Scheduled and distributed runs therefore need ``prefect server
start``. ``prefect_api`` uses ``PREFECT_API_URL`` when it is set (after checking that it
answers) and otherwise starts ``prefect server start`` on a free loopback port as a child
process, points this process at it and stops it when the block ends.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline import prefect_db

API_URL_ENV = "PREFECT_API_URL"
HOST = "127.0.0.1"
# A new database took 17.5-20 s to be ready on 2 cores, a copy of a migrated one 5-7 s
# (``prefect_db``); leave room for a busy machine.
DEFAULT_STARTUP_TIMEOUT = 90.0
_LOG_NAME = "server.log"

logger = logging.getLogger(__name__)


class RunnerUnavailable(RuntimeError):
    """What a scheduled or distributed run needs (a Prefect API, a Dask scheduler) cannot
    be had; the message says what to run. Defined here, where the CLI can import it
    without importing Prefect or Dask."""


class ServerError(RunnerUnavailable):
    """No usable Prefect API; the message says what to run."""


def health_url(api_url: str) -> str:
    """``PREFECT_API_URL`` ends in ``/api``; the health check lives under it."""
    return api_url.rstrip("/") + "/health"


def is_healthy(api_url: str, timeout: float = 2.0) -> bool:
    """True when ``<api_url>/health`` answers 200 (the server is up and its database ready)."""
    try:
        with urllib.request.urlopen(health_url(api_url), timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def free_port() -> int:
    """A port nothing listens on now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def server_home(state_dir: Path) -> Path:
    """The started server's PREFECT_HOME: its own database, apart from the ephemeral one a
    plain ``pipeline run`` on the same output uses (two servers on one SQLite file lock it)."""
    return state_dir / "server"


def _server_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop(API_URL_ENV, None)  # the server must not try to be a client of another one
    env.update(
        {
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "DO_NOT_TRACK": "1",
        }
    )
    return env


def _die_with_parent() -> None:
    """In the child before exec: on Linux, get SIGTERM when the parent dies (even by
    ``kill -9``), so a killed ``pipeline serve`` never leaves a server behind."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _start_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "prefect",
        "server",
        "start",
        "--host",
        HOST,
        "--port",
        str(port),
        "--analytics-off",
    ]


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _stop(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """SIGTERM (uvicorn shuts down cleanly), then SIGKILL after ``grace`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)


def _point_prefect_at(url: str | None) -> None:
    """Set (or unset) PREFECT_API_URL for this process and its future children.

    Prefect reads its settings from the environment once, when it is imported; when it
    already is, its global settings are rebuilt so that the change takes effect here too.
    """
    if url is None:
        os.environ.pop(API_URL_ENV, None)
    else:
        os.environ[API_URL_ENV] = url
    context = sys.modules.get("prefect.context")
    if context is not None:
        context.refresh_global_settings_context()


@dataclass(frozen=True)
class Launched:
    """A ``prefect server start`` process and where it will answer."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    home: Path
    migrates: bool  # on a new database: save it once migrated (``prefect_db``)


def _launch(state_dir: Path) -> Launched:
    """Start ``prefect server start`` on a free loopback port; do not wait for it."""
    home = server_home(state_dir)
    home.mkdir(parents=True, exist_ok=True)
    env = _server_env(home)
    prefect_db.seed(home, env)
    migrates = not (home / prefect_db.DB_NAME).exists()
    port = free_port()
    log_path = home / _LOG_NAME
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            _start_command(port),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # its own session: a Ctrl-C in the terminal reaches us, and we stop the server
            # in order after the runs it serves, instead of both at once
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    return Launched(process, f"http://{HOST}:{port}/api", log_path, home, migrates)


def _await_healthy(server: Launched, timeout: float) -> None:
    """Return once the server answers; ServerError (saying what to run) when it exits or
    does not answer within ``timeout`` seconds of now."""
    url, log_path = server.url, server.log_path
    deadline = time.monotonic() + timeout
    while not is_healthy(url, timeout=1.0):
        if server.process.poll() is not None:
            raise ServerError(
                f"`prefect server start` exited with code {server.process.returncode} before "
                f"answering {health_url(url)}; its log ({log_path}) ends with:\n"
                f"{_tail(log_path)}\nStart a server yourself (`prefect server start`) "
                f"and set {API_URL_ENV}=http://127.0.0.1:4200/api, then run again"
            )
        if time.monotonic() > deadline:
            raise ServerError(
                f"`prefect server start` did not answer {health_url(url)} within "
                f"{timeout:g} s (log: {log_path}). Start a server yourself "
                f"(`prefect server start`) and set {API_URL_ENV}=http://127.0.0.1:4200/api, "
                "then run again"
            )
        time.sleep(0.1)
    if server.migrates:  # answering: migrated, and no run recorded yet
        prefect_db.save(server.home, _server_env(server.home))


@contextlib.contextmanager
def start_server(state_dir: Path, *, timeout: float = DEFAULT_STARTUP_TIMEOUT) -> Iterator[str]:
    """Run ``prefect server start`` on a free loopback port until the block ends; yields
    its API URL (not yet exported: see ``prefect_api``)."""
    server = _launch(state_dir)
    try:
        _await_healthy(server, timeout)
        yield server.url
    finally:
        _stop(server.process)


@contextlib.contextmanager
def local_api(
    state_dir: Path,
    *,
    timeout: float = DEFAULT_STARTUP_TIMEOUT,
    launched: Launched | None = None,
) -> Iterator[Callable[[], bool]]:
    """The Prefect API of a local run, started as the block begins; the block gets
    ``ready``, which waits for it and points Prefect at it.

    Without ``PREFECT_API_URL`` Prefect starts an ephemeral API when the flow first calls
    it: a server in a subprocess too, but only after the run has imported its flow, and
    its start imports the whole server into the run's process as well (about 11 s before
    a flow's first task on 2 cores, 1.5 s more to stop). ``prefect server start`` launched
    here starts while the run imports its flow, and the run never imports the server.
    A server that does not answer is stopped and the run goes on with the ephemeral API,
    as before (logged). With ``PREFECT_API_URL`` set nothing is started. ``launched``: the
    server ``launched_ahead`` started for the run, used instead of starting one.
    ``ready()`` is True when the run's API ends with the run (the server started here, or
    the ephemeral one), False for the user's own.
    """
    if os.environ.get(API_URL_ENV):
        yield lambda: False
        return
    try:
        server = launched or _launch(state_dir)
    except OSError as exc:
        logger.warning("no Prefect server started (%r): the ephemeral API serves the run", exc)
        yield lambda: True
        return
    pointed = False

    def ready() -> bool:
        nonlocal pointed
        try:
            _await_healthy(server, timeout)
        except ServerError as exc:
            logger.warning("%s; the ephemeral API serves the run instead", exc)
            _stop(server.process)
            return True
        _point_prefect_at(server.url)
        pointed = True
        return True

    try:
        yield ready
    finally:
        if pointed:
            _point_prefect_at(None)
        _stop(server.process)


# Prefect's names for the flow-run heartbeat interval (the second one is its older name)
HEARTBEAT_VARIABLES = ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY")


@contextlib.contextmanager
def without_heartbeats() -> Iterator[None]:
    """No flow-run heartbeats in the block, unless the user set their interval.

    Heartbeats tell a long-lived server that a run is still alive; an API that ends with
    the run has no use for them. Their thread sleeps a second at a time, and the end of a
    flow waited for its sleep to end: 0.68 s of a run of the seeds."""
    if any(name in os.environ for name in HEARTBEAT_VARIABLES):
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


@contextlib.contextmanager
def launched_ahead(state_dir: Path) -> Iterator[Launched | None]:
    """``local_api``'s server launched now, before the run knows whether it has work, so
    that it starts while the inputs are scanned (seconds at 100,000 files) rather than
    after; stopped when the block ends, used or not (a rerun with nothing to do stops it
    unused). None with ``PREFECT_API_URL`` set, or when it cannot be launched (logged:
    ``local_api`` then tries again)."""
    if os.environ.get(API_URL_ENV):
        yield None
        return
    try:
        server = _launch(state_dir)
    except OSError as exc:
        logger.warning("no Prefect server started ahead of the run (%r)", exc)
        yield None
        return
    try:
        yield server
    finally:
        _stop(server.process)


@contextlib.contextmanager
def prefect_api(state_dir: Path, *, timeout: float = DEFAULT_STARTUP_TIMEOUT) -> Iterator[str]:
    """A Prefect API for the block: ``PREFECT_API_URL`` if set and healthy, else a server
    started for the block (with its database under ``state_dir``). Yields the API URL;
    inside the block ``PREFECT_API_URL`` names it, for this process and its children.

    Raises ServerError naming the URL and what to run when no API can be had.
    """
    configured = os.environ.get(API_URL_ENV)
    if configured:
        if not is_healthy(configured, timeout=5.0):
            raise ServerError(
                f"{API_URL_ENV}={configured} does not answer {health_url(configured)}: "
                "start that server (`prefect server start`), fix the URL, or unset "
                f"{API_URL_ENV} to let pipeline start a server of its own"
            )
        yield configured
        return
    with start_server(state_dir, timeout=timeout) as url:
        _point_prefect_at(url)
        try:
            yield url
        finally:
            _point_prefect_at(None)
