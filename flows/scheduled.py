"""The flow that schedules deploy: ``pipeline run`` itself, so a scheduled run is a CLI run.

A deployment of ``release_flow`` alone would skip what the command line does around it:
the output folder's lock (a scheduled run overlapping a manual one waits for it), the
cleanup after interrupted runs, the up-to-date check (an unchanged corpus publishes
nothing) and the exit codes. This flow runs the command line's ``run`` with the same
arguments, so the release flow runs as its subflow and publishes only when validation
passes; a run that does not exit 0 fails the flow run, with the command's messages in
the flow run's logs.
"""

# No `from __future__ import annotations` here: Prefect builds the flow's parameter model
# from the annotations, and as strings it cannot resolve `Literal` in the flow run process.
from pathlib import Path
from typing import Literal

from prefect import flow

from pipeline.publish.release import latest_version


class RunFailed(RuntimeError):
    """``pipeline run`` exited with a non-zero code (its messages are in the logs)."""


def run_arguments(
    input: str,
    output: str,
    batch_size: int | None = None,
    workers: int | None = None,
    lock_timeout: float | None = None,
    runner: Literal["local", "dask"] | None = None,
    dask_address: str | None = None,
) -> list[str]:
    """The ``pipeline run`` command line for these parameters (None: the CLI's default)."""
    argv = ["run", "--input", input, "--output", output]
    optional = {
        "--runner": runner,
        "--batch-size": batch_size,
        "--workers": workers,
        "--lock-timeout": lock_timeout,
        "--dask-address": dask_address,
    }
    for option, value in optional.items():
        if value is not None:
            argv += [option, str(value)]
    return argv


# log_prints: the command's messages (published, up to date, validation failures) go to
# the flow run's logs, where a scheduled run's user looks for them.
@flow(name="pipeline-run", log_prints=True)
def pipeline_run(
    input: str = "seeds",
    output: str = "outputs",
    batch_size: int | None = None,
    workers: int | None = None,
    lock_timeout: float | None = None,
    runner: Literal["local", "dask"] | None = None,
    dask_address: str | None = None,
) -> str:
    """``pipeline run`` with these arguments: build, validate and (only if every check
    passes) publish a release of ``input`` under ``output``; nothing when up to date."""
    from pipeline.cli import EXIT_OK, main

    argv = run_arguments(input, output, batch_size, workers, lock_timeout, runner, dask_address)
    code = main(argv)
    if code != EXIT_OK:
        raise RunFailed(f"`pipeline {' '.join(argv)}` exited {code}; see the messages above")
    return f"LATEST of {output}: {latest_version(Path(output))}"
