"""Schedules: the deployment `pipeline serve` registers, prefect.yaml, and one served run.

The first tests check what would be scheduled without waiting for it (no server, about a
second); the slow one serves a deployment on a real local server and sees a run publish.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from pipeline.cli import main
from pipeline.commands.serve import run_parameters, schedule_kwargs, schedule_problem
from tests.conftest import PROJECT_ROOT, SEEDS

UTC = dt.UTC


def _next_dates(cron: str, timezone: str | None, start: dt.datetime, n: int = 3) -> list[Any]:
    from prefect.server.schemas.schedules import CronSchedule

    schedule = CronSchedule(cron=cron, timezone=timezone)
    return list(asyncio.run(schedule.get_dates(n=n, start=start)))


def test_cron_deployment_registers_the_schedule_and_its_next_dates(tmp_path: Path) -> None:
    from flows.scheduled import pipeline_run
    from prefect.client.schemas.schedules import CronSchedule

    parameters = {"input": str(tmp_path / "in"), "output": str(tmp_path / "out")}
    deployment = pipeline_run.to_deployment(
        name="daily", parameters=parameters, **schedule_kwargs("0 6 * * *", None)
    )
    assert deployment.flow_name == "pipeline-run"
    assert deployment.parameters == parameters
    [registered] = deployment.schedules
    schedule = registered.schedule
    assert isinstance(schedule, CronSchedule)
    assert schedule.cron == "0 6 * * *"
    assert registered.active
    start = dt.datetime(2026, 3, 1, 7, 30, tzinfo=UTC)
    dates = _next_dates(schedule.cron, schedule.timezone, start)
    assert [d.isoformat() for d in dates] == [
        "2026-03-02T06:00:00+00:00",
        "2026-03-03T06:00:00+00:00",
        "2026-03-04T06:00:00+00:00",
    ]


def test_cron_in_a_time_zone_follows_its_clock() -> None:
    from flows.scheduled import pipeline_run

    deployment = pipeline_run.to_deployment(
        name="paris", **schedule_kwargs("0 6 * * 1-5", None, "Europe/Paris")
    )
    [registered] = deployment.schedules
    assert registered.schedule.timezone == "Europe/Paris"
    # Friday 27 March 2026, then Monday 30 March, after the switch to summer time
    start = dt.datetime(2026, 3, 27, 0, 0, tzinfo=UTC)
    dates = _next_dates(registered.schedule.cron, "Europe/Paris", start, n=2)
    assert [d.astimezone(UTC).isoformat() for d in dates] == [
        "2026-03-27T05:00:00+00:00",
        "2026-03-30T04:00:00+00:00",
    ]


def test_interval_is_anchored_now_so_runs_come_from_when_serving_starts() -> None:
    from flows.scheduled import pipeline_run
    from prefect.client.schemas.schedules import IntervalSchedule

    now = dt.datetime(2026, 5, 1, 12, 0, 7, tzinfo=UTC)
    deployment = pipeline_run.to_deployment(name="often", **schedule_kwargs(None, 30.0, now=now))
    [registered] = deployment.schedules
    assert isinstance(registered.schedule, IntervalSchedule)
    assert registered.schedule.interval == dt.timedelta(seconds=30)
    assert registered.schedule.anchor_date == now


@pytest.mark.parametrize(
    ("cron", "interval", "timezone", "expected"),
    [
        ("0 25 * * *", None, None, 'Invalid cron string: "0 25 * * *"'),
        ("0 6 * *", None, None, "5 fields"),
        ("H 6 * * *", None, None, "Invalid cron string"),
        ("0 6 * * *", None, "Mars/Olympus", 'Invalid timezone: "Mars/Olympus"'),
        (None, 0.0, None, "--interval must be > 0"),
        (None, 60.0, "UTC", "--cron only"),
    ],
)
def test_bad_schedules_are_refused_with_the_reason(
    cron: str | None, interval: float | None, timezone: str | None, expected: str
) -> None:
    problem = schedule_problem(cron, interval, timezone)
    assert problem is not None and expected in problem
    assert schedule_problem("0 6 * * *", None, "Europe/Paris") is None
    assert schedule_problem(None, 5.0, None) is None


def test_serve_with_a_bad_cron_exits_2_before_starting_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["serve", "--cron", "61 * * * *", "--output", str(tmp_path / "out")])
    assert code == 2
    assert "Invalid cron string" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # no server, no state folder


def test_serve_needs_a_schedule(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve"])
    assert exit_info.value.code == 2
    assert "--cron" in capsys.readouterr().err


def test_deployment_parameters_are_absolute_and_are_the_cli_run_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.scheduled import pipeline_run, run_arguments

    from pipeline.cli import _parser

    monkeypatch.chdir(tmp_path)
    args = _parser().parse_args(
        ["serve", "--interval", "5", "--input", "in", "--output", "out", "--workers", "2"]
    )
    parameters = run_parameters(args)
    assert parameters == {
        "input": str(tmp_path / "in"),
        "output": str(tmp_path / "out"),
        "workers": 2,
    }
    assert set(parameters) <= set(pipeline_run.parameters.properties)
    argv = run_arguments(**parameters)
    run = _parser().parse_args(argv)
    assert (run.command, run.input, run.output, run.workers) == (
        "run",
        tmp_path / "in",
        tmp_path / "out",
        2,
    )


def test_scheduled_flow_is_the_cli_run_and_fails_when_it_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.scheduled import RunFailed, pipeline_run

    import pipeline.cli

    calls: list[list[str]] = []
    codes = iter([0, 1])

    def fake_main(argv: list[str]) -> int:
        calls.append(argv)
        return next(codes)

    monkeypatch.setattr(pipeline.cli, "main", fake_main)
    output = tmp_path / "out"
    assert "LATEST" in pipeline_run.fn(input="in", output=str(output), runner="dask")
    with pytest.raises(RunFailed, match="exited 1"):
        pipeline_run.fn(input="in", output=str(output), lock_timeout=5.0)
    assert calls == [
        ["run", "--input", "in", "--output", str(output), "--runner", "dask"],
        ["run", "--input", "in", "--output", str(output), "--lock-timeout", "5.0"],
    ]


def test_prefect_yaml_deploys_the_cli_run_flow_with_its_parameters() -> None:
    from prefect.cli.deploy._models import PrefectYamlModel
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.flows import load_flow_from_entrypoint

    config = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    model = PrefectYamlModel.model_validate(config)  # what `prefect deploy` reads
    assert model.deployments
    for deployment in model.deployments:
        assert deployment.entrypoint is not None
        path, _, name = deployment.entrypoint.partition(":")
        assert (PROJECT_ROOT / path).is_file()
        flow = load_flow_from_entrypoint(str(PROJECT_ROOT / deployment.entrypoint))
        assert flow.name == "pipeline-run" and name == "pipeline_run"
        accepted = set(flow.parameters.properties)
        assert set(deployment.parameters) <= accepted
        assert {"input", "output"} <= set(deployment.parameters)
        for folder in ("input", "output"):
            assert not Path(deployment.parameters[folder]).is_absolute()  # repo-relative
        assert (PROJECT_ROOT / deployment.parameters["input"]).is_dir()
        assert deployment.work_pool is not None and deployment.work_pool.name
        assert deployment.schedules
        for item in deployment.schedules:
            schedule = item.model_dump(exclude_none=True)
            CronSchedule(cron=schedule["cron"], timezone=schedule.get("timezone"))


def _flow_runs(api_url: str, flow_name: str) -> list[dict[str, Any]]:
    body = json.dumps({"flows": {"name": {"any_": [flow_name]}}}).encode()
    request = urllib.request.Request(
        f"{api_url}/flow_runs/filter",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        runs: list[dict[str, Any]] = json.load(response)
    return runs


def _interruptible() -> None:
    """Ctrl-C's default in the child, as in a terminal: a suite started in the background
    by a non-interactive shell inherits SIGINT ignored, and Python then never raises
    KeyboardInterrupt, so the SIGINT below would be lost."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.e2e
@pytest.mark.slow
def test_serve_runs_the_schedule_on_a_local_server_and_publishes(tmp_path: Path) -> None:
    """`pipeline serve --interval` starts a server, a run publishes, Ctrl-C stops all."""
    from pipeline.server import is_healthy

    started = time.monotonic()
    inputs, output = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    for seed in sorted(SEEDS.glob("*.txt"))[:2]:
        shutil.copy(seed, inputs / seed.name)
    env = {**os.environ, "PREFECT_RUNNER_POLL_FREQUENCY": "1", "PIPELINE_WORKERS": "1"}
    env.pop("PREFECT_API_URL", None)  # serve starts its own server
    log = tmp_path / "serve.log"  # a file, not a pipe nobody drains: runs log a lot
    with log.open("w") as sink:
        serve = subprocess.Popen(
            [
                *(sys.executable, "-m", "pipeline.cli", "serve", "--interval", "5"),
                *("--input", str(inputs), "--output", str(output), "--name", "test"),
            ],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            preexec_fn=_interruptible,
        )
    process = psutil.Process(serve.pid)
    try:
        deadline = time.monotonic() + 150
        while "Prefect API at " not in log.read_text() and time.monotonic() < deadline:
            assert serve.poll() is None, log.read_text()
            time.sleep(0.25)
        first = log.read_text().splitlines()[0]
        assert "serving pipeline-run/test" in first, first
        api_url = first.split("Prefect API at ")[1].split(";")[0]
        completed: list[dict[str, Any]] = []
        while not completed and time.monotonic() < deadline:
            assert serve.poll() is None, log.read_text()
            runs = _flow_runs(api_url, "pipeline-run")
            completed = [r for r in runs if r["state_type"] == "COMPLETED"]
            failed = [r for r in runs if r["state_type"] in ("FAILED", "CRASHED")]
            assert not failed, (failed, log.read_text())
            time.sleep(1)
        assert completed, "no scheduled run completed in time"
        assert completed[0]["deployment_id"] is not None
        latest = (output / "LATEST").read_text(encoding="utf-8").strip()
        assert (output / "releases" / latest / "manifest.json").is_file()
        children = process.children(recursive=True)
        ran = time.monotonic() - started
    finally:
        if serve.poll() is None:
            serve.send_signal(signal.SIGINT)  # what Ctrl-C does
        try:
            serve.wait(timeout=60)
        finally:
            if serve.poll() is None:
                serve.kill()
    stopped = time.monotonic() - started
    assert serve.returncode == 0
    _, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, [p.cmdline() for p in alive]
    assert not is_healthy(api_url, timeout=1.0)
    print(f"serve test: first run completed after {ran:.1f} s, all stopped after {stopped:.1f} s")
