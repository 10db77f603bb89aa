"""The real command line with a Prefect-free flow, for fast crash and concurrency tests.

``python -m tests.reliability_support run --input ... --output ...`` is ``pipeline run``
(argument parsing, output lock, start-of-run cleanup, up-to-date check, error handling) with
the release flow replaced by the same library stages called in order, and validation by a
passing report: Prefect's local API and Great Expectations cost seconds per run and are
irrelevant to what these tests check (the output folder after a kill, the lock). The e2e
tests run the real flow. ``RELIABILITY_PAUSE_AFTER_STAGE=<seconds>`` makes the run sleep
after staging, holding the lock, so a test can start a second run meanwhile.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline import cli, stages
from pipeline.plan import make_plan, taken_over
from pipeline.publish.release import new_version
from pipeline.settings import Settings
from pipeline.validate import ValidationReport

PAUSE_ENV = "RELIABILITY_PAUSE_AFTER_STAGE"


@dataclass(frozen=True)
class Result:
    published: bool
    version: str
    path: Path
    report: ValidationReport


def library_flow(settings: Settings, plan_file: str | None = None, ahead: object = None) -> Result:
    """What flows/release_flow.py does, minus Prefect and with validation passed."""
    plan = taken_over(plan_file, settings) or make_plan(settings)
    version = new_version(plan.output_dir, dt.datetime.now(dt.UTC), plan.run_fingerprint)
    batches = plan.batches()
    repeated = stages.repeated_from_counts([stages.count_short_lines(plan, b) for b in batches])
    dirs = [stages.process_batch(plan, b, repeated) for b in batches]
    stages.record_work(plan, batches, dirs)
    staged = stages.stage_release(plan, version, stages.assemble(dirs))
    pause = float(os.environ.get(PAUSE_ENV, "0"))
    if pause:
        time.sleep(pause)
    report = ValidationReport(success=True, suites={})
    path = stages.finish_release(plan, staged, report)
    return Result(True, version, path, report)


def _no_api(settings: Settings) -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext()  # the library flow needs no Prefect API


def main(argv: list[str]) -> int:
    cli._run_flow = library_flow  # type: ignore[assignment]
    cli._api_ahead = _no_api  # type: ignore[assignment]
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


def run_in_process(inputs: Path, output: Path, *extra: str) -> int:
    """``pipeline run`` in this process with the library flow (the caller captures output)."""
    saved = cli._run_flow, cli._api_ahead
    cli._run_flow = library_flow  # type: ignore[assignment]
    cli._api_ahead = _no_api  # type: ignore[assignment]
    try:
        return cli.main(["run", "--input", str(inputs), "--output", str(output), *extra])
    finally:
        cli._run_flow, cli._api_ahead = saved  # type: ignore[assignment]
