"""The Prefect API a local run starts for itself (pipeline.server.local_api)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest

from pipeline import server


def _forbid_launch(monkeypatch: pytest.MonkeyPatch, why: str) -> None:
    """Make starting a server fail the test with ``why``."""

    def launch(state_dir: Path) -> None:
        raise AssertionError(why)

    monkeypatch.setattr(server, "_launch", launch)


def test_a_configured_api_is_used_as_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(server.API_URL_ENV, "http://127.0.0.1:1/api")
    _forbid_launch(monkeypatch, "nothing may be started when PREFECT_API_URL is set")
    with server.local_api(tmp_path) as ready:
        assert ready() is False  # the user's API outlives the run
        assert os.environ[server.API_URL_ENV] == "http://127.0.0.1:1/api"


def test_a_server_that_dies_leaves_the_run_on_the_ephemeral_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(server.API_URL_ENV, raising=False)
    died = [sys.executable, "-c", "print('no database here'); raise SystemExit(3)"]
    monkeypatch.setattr(server, "_start_command", lambda port: died)
    quiet_api = server.local_api(tmp_path, timeout=30)
    with caplog.at_level(logging.WARNING, logger="pipeline.server"), quiet_api as ready:
        assert ready() is True  # the ephemeral API ends with the run too
        assert server.API_URL_ENV not in os.environ
    assert "exited with code 3" in caplog.text and "no database here" in caplog.text
    assert "the ephemeral API serves the run instead" in caplog.text


def test_a_server_that_never_answers_is_stopped_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(server.API_URL_ENV, raising=False)
    silent = [sys.executable, "-c", "import time; time.sleep(600)"]
    monkeypatch.setattr(server, "_start_command", lambda port: silent)
    launched: list[server.Launched] = []
    launch = server._launch

    def recorded(state_dir: Path) -> server.Launched:
        launched.append(launch(state_dir))
        return launched[-1]

    monkeypatch.setattr(server, "_launch", recorded)
    silent_api = server.local_api(tmp_path, timeout=0.5)
    with caplog.at_level(logging.WARNING, logger="pipeline.server"), silent_api as ready:
        ready()
        assert server.API_URL_ENV not in os.environ
        assert launched[0].process.poll() is not None  # stopped, not left running
    assert "did not answer" in caplog.text


def test_a_server_launched_ahead_serves_the_run_and_is_stopped_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(server.API_URL_ENV, raising=False)
    died = [sys.executable, "-c", "print('started ahead'); raise SystemExit(4)"]
    monkeypatch.setattr(server, "_start_command", lambda port: died)
    with server.launched_ahead(tmp_path) as ahead:
        assert ahead is not None
        _forbid_launch(monkeypatch, "local_api must use the server launched ahead")
        with (
            caplog.at_level(logging.WARNING, logger="pipeline.server"),
            server.local_api(tmp_path, timeout=30, launched=ahead) as ready,
        ):
            ready()
    assert "exited with code 4" in caplog.text and "started ahead" in caplog.text


def test_a_server_launched_ahead_and_not_used_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(server.API_URL_ENV, raising=False)
    silent = [sys.executable, "-c", "import time; time.sleep(600)"]
    monkeypatch.setattr(server, "_start_command", lambda port: silent)
    with server.launched_ahead(tmp_path) as ahead:
        assert ahead is not None and ahead.process.poll() is None
    assert ahead.process.poll() is not None  # an up-to-date rerun leaves no server behind


def test_nothing_is_launched_ahead_when_an_api_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(server.API_URL_ENV, "http://127.0.0.1:1/api")
    _forbid_launch(monkeypatch, "nothing may be started when PREFECT_API_URL is set")
    with server.launched_ahead(tmp_path) as ahead:
        assert ahead is None


def test_heartbeats_are_off_in_the_block_unless_the_user_set_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.settings import get_current_settings

    for name in server.HEARTBEAT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert get_current_settings().flows.heartbeat_frequency is not None  # Prefect's default
    with server.without_heartbeats():
        assert get_current_settings().flows.heartbeat_frequency is None
    assert get_current_settings().flows.heartbeat_frequency is not None
    # a user's own interval (read by Prefect as it starts) is left alone
    monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "45")
    before = get_current_settings().flows.heartbeat_frequency
    with server.without_heartbeats():
        assert get_current_settings().flows.heartbeat_frequency == before is not None
