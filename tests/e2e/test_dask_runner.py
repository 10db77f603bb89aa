"""`pipeline run --runner dask`: the same release as a local run, from a Dask cluster."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import psutil
import pytest

from pipeline import timelimit, workers
from pipeline.cli import main
from pipeline.schemas import TABLES
from tests.conftest import SEEDS, PrefectEnv
from tests.e2e.conftest import latest_release, run_cli


def test_dask_address_without_the_dask_runner_is_bad_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["run", "--input", str(SEEDS), "--output", str(tmp_path), "--dask-address", "tcp://x:1"]
    )
    assert code == 2
    assert "--dask-address needs --runner dask" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # refused before taking the lock


def test_unknown_runner_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--runner", "ray"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'ray'" in capsys.readouterr().err


def test_unreachable_scheduler_fails_fast_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    output = tmp_path / "out"
    code = main(
        [
            *("run", "--input", str(SEEDS), "--output", str(output), "--runner", "dask"),
            *("--dask-address", "tcp://127.0.0.1:9", "--lock-timeout", "0"),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "no Dask scheduler answers at tcp://127.0.0.1:9" in err
    assert "nothing published" in err
    assert not (output / ".state" / "server").exists()  # no Prefect server started for it


def test_a_prefect_api_url_that_does_not_answer_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    code = main(
        ["run", "--input", str(SEEDS), "--output", str(tmp_path / "out"), "--runner", "dask"]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "PREFECT_API_URL=http://127.0.0.1:9/api does not answer" in err
    assert "prefect server start" in err


def test_batch_pool_plugin_runs_bodies_where_the_time_limit_fires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline import runners

    worker = SimpleNamespace(address="tcp://test", state=SimpleNamespace(nthreads=1))
    plugin = runners.BatchPoolPlugin()
    plugin.setup(worker)  # type: ignore[arg-type]
    try:
        assert workers.is_pooled()
        assert workers.call(timelimit.enforceable)  # in the pool's main thread
    finally:
        plugin.teardown(worker)  # type: ignore[arg-type]
    assert not workers.is_pooled()

    monkeypatch.setattr(runners, "batch_pool_possible", lambda: False)  # a daemonic worker
    daemonic = runners.BatchPoolPlugin()
    daemonic.setup(worker)  # type: ignore[arg-type]
    assert not workers.is_pooled()  # bodies run in place, without the limit
    daemonic.teardown(worker)  # type: ignore[arg-type]


MARK = "PIPELINE_TEST_RUN_MARK"


def _leftovers(mark: str) -> list[str]:
    """Processes still running that descend from the run marked ``mark`` (the Prefect
    server it started, Dask workers and their pools all inherit its environment)."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            if process.environ().get(MARK) == mark:
                found.append(" ".join(process.info["cmdline"] or []))
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


@pytest.mark.e2e
@pytest.mark.slow
def test_dask_run_publishes_the_tables_of_a_local_run(
    tmp_path: Path, seeds_release: Path, prefect: PrefectEnv
) -> None:
    inputs, output = tmp_path / "in", tmp_path / "out"
    shutil.copytree(SEEDS, inputs)
    started = time.monotonic()
    result = run_cli(
        *("run", "--input", str(inputs), "--output", str(output)),
        *("--runner", "dask", "--workers", "2"),
        prefect=prefect,
        **{MARK: str(tmp_path)},
    )
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-3000:]
    assert "published" in result.stdout
    assert "daemonic" not in result.stderr  # every Dask worker had its batch pool
    dask_release, local_release = latest_release(output), latest_release(seeds_release)
    for name in TABLES:
        on_dask = pd.read_parquet(dask_release / f"{name}.parquet")
        local = pd.read_parquet(local_release / f"{name}.parquet")
        pd.testing.assert_frame_equal(on_dask, local, obj=name)
    assert _leftovers(str(tmp_path)) == []
    print(f"dask run on seeds: {seconds:.1f} s")
