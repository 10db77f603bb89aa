"""The release flow: thin Prefect orchestration over pipeline.stages (no logic here)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture

from pipeline import progress, stages, workers
from pipeline.plan import make_plan, taken_over
from pipeline.publish.release import keep_failed, new_version
from pipeline.publish.report_html import ReportDraft
from pipeline.publish.summary import run_summary
from pipeline.settings import Settings
from pipeline.stages import RunPlan
from pipeline.validate import ValidationReport
from pipeline.validate.run import import_gx_in_background

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class FlowResult:
    published: bool
    version: str
    path: Path
    report: ValidationReport
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage
    batches: int = 0


def _batch_key(context: Any, parameters: dict[str, Any]) -> str | None:
    plan, paths, repeated = parameters["plan"], parameters["paths"], parameters["repeated"]
    return stages.batch_cache_key(stages.batch_dir(plan, paths, repeated))


@task(retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def count_lines(plan: RunPlan, paths: list[str]) -> dict[str, int]:
    return stages.count_short_lines(plan, paths)


@task(retries=2, retry_delay_seconds=1, cache_key_fn=_batch_key, persist_result=True)
def process_batch(plan: RunPlan, paths: list[str], repeated: list[str]) -> Path:
    return stages.process_batch(plan, paths, repeated)


@task(cache_policy=NO_CACHE)
def assemble_and_stage(plan: RunPlan, version: str, batch_dirs: list[Path], isolated: bool) -> Path:
    return stages.stage_assembled(plan, version, batch_dirs, isolated=isolated)


@task(cache_policy=NO_CACHE)
def validate(
    plan: RunPlan, staged: Path, beside: bool
) -> tuple[ValidationReport, ReportDraft | None]:
    return stages.validate_and_describe(plan, staged, beside=beside)


@task(retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def publish(
    plan: RunPlan, staged: Path, report: ValidationReport, draft: ReportDraft | None
) -> Path:
    return stages.finish_release(plan, staged, report, draft)


@task(cache_policy=NO_CACHE)
def keep_for_inspection(plan: RunPlan, staged: Path, version: str) -> Path:
    return keep_failed(plan.output_dir, staged, version)


@task(retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def plan_run(settings: Settings, plan_file: str | None = None) -> RunPlan:
    return taken_over(plan_file, settings) or make_plan(settings)


@contextmanager
def _timed(
    stages_seconds: dict[str, float], name: str, batches: int | None = None
) -> Iterator[None]:
    progress.stage(name, batches)  # shown only when the command line installed a display
    started = time.perf_counter()
    yield
    stages_seconds[name] = round(time.perf_counter() - started, 3)


def _results(futures: Sequence[PrefectFuture[R]]) -> list[R]:
    """Each result in submission order, advancing the progress bar as each one arrives."""
    results = []
    for future in futures:
        results.append(future.result())
        progress.advance()
    return results


@flow(name="release", log_prints=False)
def release_flow(
    input_dir: str,
    output_dir: str,
    expectations_dir: str,
    max_document_bytes: int,
    batch_size: int | None,
    workers_count: int = 1,
    process_pool: bool = True,
    plan_file: str | None = None,
) -> FlowResult:
    """Build, validate and (only if every suite passes) publish one release.

    ``plan_file``: the plan the command line made (``plan.hand_over``), used when it
    still fits these settings instead of scanning the inputs again."""
    seconds: dict[str, float] = {}
    with _timed(seconds, "plan"):
        plan = plan_run(
            Settings(
                Path(input_dir),
                Path(output_dir),
                Path(expectations_dir),
                max_document_bytes,
                batch_size,
            ),
            plan_file,
        )
        version = new_version(plan.output_dir, dt.datetime.now(dt.UTC), plan.run_fingerprint)
        batches = plan.batches()
    import_gx_in_background()
    # Batch bodies always run in worker processes: there they run in a main thread, where
    # the per-document time limit (a signal) works; more than one only pays with batches
    # to share out (spawning costs about a second a worker). On a Dask task runner
    # (process_pool=False) the batch tasks run on the cluster, whose workers have pools
    # of their own (pipeline.runners), so none is opened here.
    with workers.pool(max(1, min(workers_count, len(batches))) if process_pool else 0):
        with _timed(seconds, "count_lines", len(batches)):
            counts = [count_lines.submit(plan, paths) for paths in batches]
            repeated = stages.repeated_from_counts(_results(counts))
        with _timed(seconds, "read_clean_extract", len(batches)):
            order = stages.largest_first(batches)
            submitted = {i: process_batch.submit(plan, batches[i], repeated) for i in order}
            batch_dirs = _results([submitted[i] for i in range(len(batches))])
            stages.record_work(plan, batches, batch_dirs)
    with _timed(seconds, "assemble_dedup_claims"):
        # In processes of its own when they are ours to start (not on a Dask worker).
        isolated = process_pool and stages.assembly_isolated(plan)
        staged = assemble_and_stage(plan, version, batch_dirs, isolated)
    with _timed(seconds, "validate"):
        # the changelog, card and report's draft are written meanwhile, where isolated
        report, draft = validate(plan, staged, isolated)
    with _timed(seconds, "publish"):
        if report.success:
            path = publish(plan, staged, report, draft)
        else:
            path = keep_for_inspection(plan, staged, version)
    create_markdown_artifact(key="release-summary", markdown=run_summary(version, path, report))
    return FlowResult(report.success, version, path, report, seconds, len(batches))
