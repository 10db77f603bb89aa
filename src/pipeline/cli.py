"""Command line: ``pipeline run | validate | eval | releases | bench | verify | rollback | gc``."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from pipeline.publish.lock import LOCK_TIMEOUT_ENV, default_lock_timeout
from pipeline.remote_cli import add_arguments as add_remote_arguments
from pipeline.remote_cli import env_location
from pipeline.settings import Settings
from pipeline.urls import is_url, location

if TYPE_CHECKING:  # the command line imports its stages' modules only when they run
    from pipeline.workcache import WorkGc

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3


def _add_lock_timeout(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--lock-timeout",
        type=float,
        default=default_lock_timeout(),
        metavar="SECONDS",
        help="wait this long for another run holding the output folder's lock, then exit "
        f"{EXIT_LOCKED} naming it; 0 exits at once (default: %(default)s, or "
        f"{LOCK_TIMEOUT_ENV})",
    )


def _add_quiet(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only errors (on stderr); the exit code says how it went",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pipeline",
        description="Turn public diplomatic documents into validated, versioned releases of "
        "source-traceable facts.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    defaults = Settings()

    run = commands.add_parser(
        "run",
        help="build, validate and publish a release",
        description="Ingest every document under --input, build the tables, validate them "
        "and publish a release under --output. Says 'up to date' and publishes "
        "nothing when inputs, code and config are unchanged since the latest "
        "release.",
    )
    run.add_argument(
        "--input",
        type=location,
        default=env_location("PIPELINE_INPUT", defaults.input_dir),
        help="folder (or URL: s3://bucket/prefix) of input documents (default: %(default)s)",
    )
    run.add_argument(
        "--output",
        type=location,
        default=env_location("PIPELINE_OUTPUT", defaults.output_dir),
        help="output folder (or URL) holding releases/ and LATEST (default: %(default)s)",
    )
    add_remote_arguments(run, work_dir=True)
    run.add_argument(
        "--batch-size",
        type=int,
        default=defaults.batch_size,
        help="documents per task on average: batches end where a file's path hashes to a "
        "cut point, so adding or removing a file leaves the other batches' work reusable "
        "(default: by corpus size, 500 below 32,000 files, 1,000 below 64,000, then 2,000)",
    )
    run.add_argument(
        "--workers",
        type=int,
        default=defaults.workers,
        help="processes that read, clean and extract batches (default: PIPELINE_WORKERS or "
        "the number of cores, %(default)s)",
    )
    run.add_argument(
        "--json",
        action="store_true",
        help="print one JSON line (status, version, path, seconds per stage, peak RSS) "
        "instead of the sentence",
    )
    run.add_argument(
        "--runner",
        choices=("local", "dask"),
        default=defaults.runner,
        help="where batches run: 'local' (a pool of --workers processes) or 'dask' (the "
        "scheduler at --dask-address, else a local Dask cluster of --workers processes; "
        "needs a Prefect server: PREFECT_API_URL, or one is started on loopback) "
        "(default: PIPELINE_RUNNER or %(default)s)",
    )
    run.add_argument(
        "--dask-address",
        default=defaults.dask_address,
        metavar="ADDRESS",
        help="Dask scheduler to run batches on, e.g. tcp://10.0.0.5:8786 (with --runner dask; "
        "default: PIPELINE_DASK_ADDRESS)",
    )
    _add_lock_timeout(run)
    _add_quiet(run)

    validate = commands.add_parser(
        "validate",
        help="run every expectation suite against a release",
        description="Run the suites in expectations/ against RELEASE_DIR; exit 1 naming "
        "each failed expectation and table.",
    )
    validate.add_argument("release_dir", type=Path, metavar="RELEASE_DIR")
    validate.add_argument(
        "--report",
        type=Path,
        default=None,
        help="folder for the results and Data Docs (default: a temp folder)",
    )
    validate.add_argument(
        "--gold",
        type=Path,
        default=None,
        help="also score the release against this gold file and fail below --min-f1",
    )
    validate.add_argument(
        "--min-f1",
        type=float,
        default=None,
        help="lowest F1 per kind the --gold check accepts (default: PIPELINE_GOLD_MIN_F1 or 0.9)",
    )

    _add_quiet(validate)

    releases = commands.add_parser(
        "releases",
        help="list releases, newest first",
        description="List releases under --output, newest first, with their validation "
        "outcome and row counts: a table on a terminal, aligned lines otherwise.",
    )
    releases.add_argument(
        "--output",
        type=location,
        default=env_location("PIPELINE_OUTPUT", defaults.output_dir),
        help="output folder or URL (default: %(default)s)",
    )
    add_remote_arguments(releases, work_dir=False)
    releases.add_argument(
        "--json",
        action="store_true",
        help="print one JSON list: version, created_at, latest, validation, rows, path",
    )

    evaluate = commands.add_parser(
        "eval",
        help="score a release's money, quantities and dates against a gold file",
        description="Score the money, quantities and dates tables of a release (default: the "
        "LATEST one under --output) against a gold annotation file, by the scoring rule of "
        "the gold README: precision, recall and F1 per kind, qualifier and period accuracy "
        "on matched money, then every miss and false hit. Exit 2 when the gold file or the "
        "release is missing or invalid.",
    )
    evaluate.add_argument("--gold", type=Path, required=True, help="gold annotation file (JSON)")
    evaluate.add_argument(
        "--release",
        type=Path,
        default=None,
        help="release folder to score (default: LATEST under --output)",
    )
    evaluate.add_argument(
        "--output",
        type=location,
        default=defaults.output_dir,
        help="output folder whose LATEST release is scored (default: %(default)s)",
    )
    evaluate.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="report format (default: %(default)s)",
    )

    _add_ops_commands(commands, defaults)
    from pipeline import commands as extra_commands

    for module in extra_commands.modules():
        module.register(commands, defaults)

    bench = commands.add_parser(
        "bench",
        help="measure extraction and dedup on synthetic corpora",
        description="Benchmarks. 'bench extract' builds a deterministic synthetic corpus from "
        "the seed documents and prints one JSON line of extraction speeds; 'bench dedup' "
        "plants copies in one and prints one JSON line of dedup speed, precision and recall.",
    )
    benches = bench.add_subparsers(dest="bench", required=True, metavar="BENCHMARK")
    extract = benches.add_parser(
        "extract",
        help="extractor speed against quantulum3",
        description="Build a deterministic synthetic corpus of at least --mb million "
        "characters by recombining the cleaned passages of --input with re-drawn numbers, "
        "run every extractor over it, run quantulum3 over its first --quantulum-sample-kb "
        "KB, and print one JSON line: sizes, seconds, characters per second and the ratio.",
    )
    extract.add_argument(
        "--mb",
        type=float,
        default=20.0,
        help="corpus size in millions of characters (default: %(default)s)",
    )
    extract.add_argument(
        "--seed", type=int, default=0, help="random seed of the corpus (default: %(default)s)"
    )
    extract.add_argument(
        "--quantulum-sample-kb",
        type=float,
        default=200.0,
        help="size of the corpus sample quantulum3 parses, in thousands of characters "
        "(default: %(default)s; 0 skips it)",
    )
    extract.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes for the parallel figure (default: the number of cores, "
        "%(default)s; 1 skips it)",
    )
    extract.add_argument(
        "--input",
        type=Path,
        default=defaults.input_dir,
        help="folder of documents the corpus is made from (default: %(default)s)",
    )
    dedup = benches.add_parser(
        "dedup",
        help="duplicate detection: speed, precision and recall on planted copies",
        description="Build a deterministic synthetic corpus of --docs documents from the "
        "sentences of --input with re-drawn numbers and names, plant exact copies (5%%) and "
        "near copies (15%%, word edit rates 0-30%%), find duplicates with exact hashing and "
        "MinHash LSH, and print one JSON line: documents, seconds, docs/s, pairs found, "
        "precision and recall per edit-rate bucket and overall.",
    )
    dedup.add_argument(
        "--docs", type=int, default=10_000, help="documents in the corpus (default: %(default)s)"
    )
    dedup.add_argument(
        "--seed", type=int, default=0, help="random seed of the corpus (default: %(default)s)"
    )
    dedup.add_argument(
        "--input",
        type=Path,
        default=defaults.input_dir,
        help="folder of documents the corpus is made from (default: %(default)s)",
    )
    _add_bench_run(benches, defaults)
    return parser


def _add_bench_run(
    benches: argparse._SubParsersAction[argparse.ArgumentParser], defaults: Settings
) -> None:
    run = benches.add_parser(
        "run",
        help="the whole pipeline on a synthetic corpus: speed, memory, reruns, dedup",
        description="Write a deterministic synthetic corpus of --docs documents (the dedup "
        "benchmark's, as scraped pages with chrome lines and a dateline) to a temp folder, "
        "run 'pipeline run' on it in a child process, and print one JSON line: documents, MB, "
        "seconds per stage and in total, docs/s, MB/s, peak RSS, and the precision and recall "
        "of duplicate detection against the planted copies. --mode noop adds a rerun with "
        "nothing changed, --mode change a rerun after changing --change-fraction of the "
        "documents, --mode all both (keyed noop and change).",
    )
    run.add_argument("--docs", type=int, default=1000, help="documents (default: %(default)s)")
    run.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    run.add_argument("--mode", choices=("full", "noop", "change", "add", "all"), default="full")
    run.add_argument(
        "--change-fraction",
        type=float,
        default=0.01,
        help="share of documents changed in --mode change, and of new ones added in "
        "--mode add (default: %(default)s)",
    )
    run.add_argument(
        "--workers",
        type=int,
        default=defaults.workers,
        help="worker processes of the run (default: %(default)s)",
    )
    run.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="where the temporary corpus and output go (default: the system temp folder)",
    )
    run.add_argument(
        "--runner",
        choices=("local", "dask"),
        default="local",
        help="passed to 'pipeline run': local process pool or a local Dask cluster of "
        "--workers processes (default: %(default)s)",
    )
    run.add_argument(
        "--input",
        type=Path,
        default=defaults.input_dir,
        help="folder of documents the corpus is made from (default: %(default)s)",
    )


def _add_ops_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], defaults: Settings
) -> None:
    verify = commands.add_parser(
        "verify",
        help="recompute a release's checksums against its manifest",
        description="Recompute the sha256, size and row count of every table of RELEASE (a "
        "version name under --output, or a release folder) and compare them with its "
        "manifest.json (and datapackage.json); exit 1 naming each mismatch.",
    )
    verify.add_argument("release", metavar="RELEASE", help="version name or release folder")
    verify.add_argument(
        "--output",
        type=location,
        default=defaults.output_dir,
        help="output folder holding releases/ (default: %(default)s)",
    )
    verify.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: release, version, ok, problems",
    )
    _add_quiet(verify)
    rollback = commands.add_parser(
        "rollback",
        help="point LATEST at another published release",
        description="Atomically point LATEST at VERSION, an earlier (or, to undo a rollback, "
        "later) release under --output, after verifying its checksums; refuses unknown or "
        "incomplete releases. A later 'pipeline run' builds on it as the parent.",
    )
    rollback.add_argument("version", metavar="VERSION", help="version name under releases/")
    rollback.add_argument(
        "--output",
        type=location,
        default=defaults.output_dir,
        help="output folder (default: %(default)s)",
    )
    _add_lock_timeout(rollback)
    _add_quiet(rollback)
    gc = commands.add_parser(
        "gc",
        help="delete old releases, failed runs and unused batch results",
        description="Delete all but the newest --keep releases (never LATEST or its parent) "
        "and all but the newest --keep failed runs under --output; and the batch results in "
        "its work folder (.work/) the latest run does not use.",
    )
    gc.add_argument(
        "--keep", type=int, required=True, metavar="N", help="releases and failed runs to keep"
    )
    gc.add_argument("--dry-run", action="store_true", help="only print what would be deleted")
    gc.add_argument(
        "--output",
        type=location,
        default=defaults.output_dir,
        help="output folder (default: %(default)s)",
    )
    _add_lock_timeout(gc)
    _add_quiet(gc)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = _parser()
    except ValueError as err:  # a malformed PIPELINE_* variable: defaults are read here
        print(f"pipeline: {err}", file=sys.stderr)
        return EXIT_USAGE
    args = parser.parse_args(argv)
    handlers = {
        "run": _run,
        "validate": _validate,
        "releases": _releases,
        "eval": _eval,
        "bench": _bench,
        "verify": _verify,
        "rollback": _rollback,
        "gc": _gc,
    }
    if is_url(getattr(args, "output", None)) and args.command not in ("run", "releases"):
        print(
            f"pipeline {args.command}: --output {args.output}: object storage URLs work with "
            "'run' and 'releases' (and pipeline.read_table); use a local output folder",
            file=sys.stderr,
        )
        return EXIT_USAGE
    handler = getattr(args, "handler", None) or handlers[args.command]
    code: int = handler(args)
    return code


@contextlib.contextmanager
def _locked(output: Path, timeout: float, command: str, quiet: bool = False) -> Iterator[None]:
    """Hold the output folder's lock, then clean up after interrupted runs.

    ``quiet`` drops the notes (waiting, stale lock taken over, cleanup): none is an error.
    """
    from pipeline.faults import crash_point
    from pipeline.publish.lock import Holder, output_lock
    from pipeline.publish.recovery import recover

    def waiting(holder: Holder) -> None:
        if quiet:
            return
        print(
            f"pipeline {command}: {output} is in use by {holder.describe()}; waiting up to "
            f"{timeout:g} s for its lock",
            file=sys.stderr,
        )

    with output_lock(output, max(0.0, timeout), f"pipeline {command}", waiting) as lock:
        crash_point("locked")
        if lock.stale is not None and not quiet:
            print(
                f"pipeline {command}: taking over a stale lock: {lock.stale.describe()} "
                "ended without releasing it",
                file=sys.stderr,
            )
        for line in recover(output):
            if not quiet:
                print(f"pipeline {command}: cleanup: {line}", file=sys.stderr)
        yield


def _storage_error(err: OSError, output: Path) -> str:
    """``storage error on 'FILE': what; what to do`` for rollback and gc."""
    from pipeline.cli_support import storage_hint

    where = f"on '{err.filename}'" if err.filename else f"under {output}"
    return f"storage error {where}: {err.strerror or err}; {storage_hint(err, output)}"


def _not_published(output: Path) -> str:
    from pipeline.publish.release import LATEST, latest_version

    latest = latest_version(output)
    return f"nothing published; {LATEST} " + (
        f"still names {latest}" if latest else "is unchanged (no release yet)"
    )


def _run(args: argparse.Namespace) -> int:
    """The run, holding the output lock; storage and input errors become exit 1."""
    from pipeline.cli_support import count_problem, input_problem, storage_hint
    from pipeline.faults import crash_point
    from pipeline.publish.lock import LockBusy
    from pipeline.publish.recheck import InputsChangedError
    from pipeline.publish.recovery import discard_staging
    from pipeline.remote import RemoteError
    from pipeline.remote_cli import RemoteRun
    from pipeline.server import RunnerUnavailable

    remote = RemoteRun.prepare(args)  # URLs: args now name local folders, synced when locked
    problems = [
        None if remote and remote.input_url else input_problem(args.input),
        count_problem("--batch-size", args.batch_size, "PIPELINE_BATCH_SIZE"),
        count_problem("--workers", args.workers, "PIPELINE_WORKERS"),
    ]
    if problem := next((p for p in problems if p), None):
        print(f"pipeline run: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if args.dask_address and args.runner != "dask":
        print("pipeline run: --dask-address needs --runner dask", file=sys.stderr)
        return EXIT_USAGE
    try:
        with _locked(args.output, args.lock_timeout, "run", args.quiet):
            try:
                if remote is not None:
                    remote.pull(None if args.quiet else _stderr("pipeline run"))
                code = _run_locked(args)
            except (InputsChangedError, OSError):
                discard_staging(args.output)  # free the space now (disk full), best effort
                raise
            crash_point("published")
            return code
    except LockBusy as err:
        print(f"pipeline run: {err}", file=sys.stderr)
        return EXIT_LOCKED
    except InputsChangedError as err:
        print(f"pipeline run: {err}", file=sys.stderr)
        return EXIT_FAILED
    except RemoteError as err:  # names the URL or object; a failed push leaves LATEST as it was
        print(f"pipeline run: {err}", file=sys.stderr)
        return err.exit_code
    except RunnerUnavailable as err:  # no Prefect server or Dask scheduler to run on
        print(f"pipeline run: {err}; {_not_published(args.output)}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as err:
        where = f"on '{err.filename}'" if err.filename else f"under {args.output}"
        print(
            f"pipeline run: storage error {where}: {err.strerror or err}; "
            f"{_not_published(args.output)}; {storage_hint(err, args.output)}",
            file=sys.stderr,
        )
        return EXIT_FAILED


def _run_locked(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    settings = Settings(
        input_dir=args.input,
        output_dir=args.output,
        batch_size=None if args.batch_size is None else max(1, args.batch_size),
        workers=max(1, args.workers),
        runner=args.runner,
        dask_address=args.dask_address,
    )
    if not settings.input_dir.is_dir():
        print(f"pipeline run: input folder {settings.input_dir} does not exist", file=sys.stderr)
        return EXIT_USAGE
    with _api_ahead(settings) as ahead:
        # imported once the server is launched: 0.3 s it starts sooner
        from pipeline.plan import hand_over, make_plan
        from pipeline.publish.release import RELEASES, up_to_date

        plan = make_plan(settings)
        remote = getattr(args, "remote", None)
        current = up_to_date(plan.output_dir, plan.run_fingerprint)
        if current is not None:
            path = _shown(args, plan.output_dir / RELEASES / current)
            if args.json:
                _print_run_json("up_to_date", current, path, started, {"plan": _since(started)})
            elif not args.quiet:
                print(f"up to date: {current} ({path}); nothing published")
            return EXIT_OK
        if remote is not None:
            remote.fetch_parent()  # the changelog and row-count assertions read the parent
        handed = hand_over(plan)
        try:
            with _progress(args), _workers_ahead(settings, len(plan.batches())):
                result = _run_flow(settings, str(handed), ahead)
        finally:
            handed.unlink(missing_ok=True)
    if result.published and remote is not None:
        remote.push(result.version)  # RemoteError: _run says which object failed
    seconds = time.perf_counter() - started
    if args.json:
        status = "published" if result.published else "validation_failed"
        shown = _shown(args, result.path)
        _print_run_json(status, result.version, shown, started, result.stages)
    if not result.published:
        print(
            f"validation failed: release {result.version} NOT published; "
            f"report: {result.path / 'validation'}",
            file=sys.stderr,
        )
        print(result.report.describe_failures(), file=sys.stderr)
        return EXIT_FAILED
    if not args.json and not args.quiet:
        print(f"published {result.version} ({_shown(args, result.path)}) in {seconds:.1f} s")
    if not args.quiet and (extra := result.report.describe_warnings()):
        print(extra, file=sys.stderr)
    return EXIT_OK


def _progress(args: argparse.Namespace) -> contextlib.AbstractContextManager[object]:
    """The stages live on stderr, only for a person at a terminal (never scripts or CI)."""
    from pipeline import progress

    if not progress.wants_progress(sys.stderr, quiet=args.quiet, json=args.json):
        return contextlib.nullcontext()
    reporter = progress.RichReporter()
    reporter.stage("start", None)  # Prefect's local API takes seconds before the flow runs
    return progress.reporting(reporter)


def _bench_run(args: argparse.Namespace) -> int:
    import json

    from pipeline.bench_run import bench_run

    if args.docs < 1 or args.workers < 1 or not 0 < args.change_fraction <= 1:
        print(
            "pipeline bench run: --docs and --workers must be >= 1, --change-fraction in (0, 1]",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        report = bench_run(
            args.input,
            docs=args.docs,
            seed=args.seed,
            mode=args.mode,
            change_fraction=args.change_fraction,
            workers=args.workers,
            work_dir=args.work_dir,
            runner=args.runner,
        )
    except (ValueError, RuntimeError) as err:
        print(f"pipeline bench run: {err}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(report))
    return EXIT_OK


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def _stderr(prefix: str) -> Callable[[str], None]:
    return lambda line: print(f"{prefix}: {line}", file=sys.stderr)


def _shown(args: argparse.Namespace, path: Path) -> Path | str:
    """Where a release is, for messages: its URL when --output is one."""
    remote = getattr(args, "remote", None)
    return path if remote is None else remote.shown(path)


def _print_run_json(
    status: str, version: str, path: Path | str, started: float, stages: dict[str, float]
) -> None:
    """One line for scripts and the benchmark; peak RSS covers the worker processes too."""
    import json
    import resource

    from pipeline.runtime import own_peak_rss_kb
    from pipeline.workers import largest_worker_kb

    self_kb = own_peak_rss_kb()
    # the pool's own figures; else (a Dask run's workers) the children's ru_maxrss
    children_kb = largest_worker_kb() or resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    line = {
        "status": status,
        "version": version,
        "path": str(path),
        "seconds": _since(started),
        "stages": stages,
        "peak_rss_mb": {
            "main": round(self_kb / 1024, 1),
            "largest_worker": round(children_kb / 1024, 1),
        },
    }
    print(json.dumps(line))


def _api_ahead(settings: Settings) -> contextlib.AbstractContextManager[Any]:
    """For a local run, its Prefect API server launched before the inputs are scanned
    (``server.launched_ahead``); nothing for a Dask run, which starts its own."""
    if settings.runner != "local":
        return contextlib.nullcontext()
    from pipeline.server import launched_ahead

    return launched_ahead(settings.output_dir.resolve() / ".state")


def _workers_ahead(settings: Settings, batches: int) -> contextlib.AbstractContextManager[Any]:
    """For a local run, the batch workers its flow will use (one per batch at most)
    started now, to warm up while the Prefect server finishes starting
    (``workers.started_ahead``); nothing for a Dask run, whose batches run on the cluster."""
    if settings.runner != "local":
        return contextlib.nullcontext()
    from pipeline import stages, workers

    return workers.started_ahead(min(settings.workers, batches), stages.warm_up)


def _run_flow(  # type: ignore[no-untyped-def]
    settings: Settings, plan_file: str | None = None, ahead: Any = None
):
    """Import Prefect only when there is work: its local API costs seconds to start.
    ``plan_file``: the plan already made (``plan.hand_over``); ``ahead``: the API server
    ``_api_ahead`` launched."""
    from pipeline.runtime import configure_local_runtime

    configure_local_runtime(settings.output_dir.resolve() / ".state")
    args = (
        str(settings.input_dir),
        str(settings.output_dir),
        str(settings.expectations_dir),
        settings.max_document_bytes,
        settings.batch_size,
        settings.workers,
    )
    if settings.runner == "dask":
        from pipeline.runners import dask_release_flow

        # The same flow with its batch tasks on Dask, against a real Prefect API
        with dask_release_flow(settings) as on_dask:
            return on_dask(*args, process_pool=False, plan_file=plan_file)
    from pipeline.server import local_api, without_heartbeats

    # Prefect's API starts while the flow (and Prefect) are imported
    with local_api(settings.output_dir.resolve() / ".state", launched=ahead) as ready:
        from flows.release_flow import release_flow

        ends_with_run = ready()
        with without_heartbeats() if ends_with_run else contextlib.nullcontext():
            return release_flow(*args, plan_file=plan_file)


def _validate(args: argparse.Namespace) -> int:
    from pipeline.runtime import configure_local_runtime

    release_dir: Path = args.release_dir
    if not (release_dir / "manifest.json").is_file():
        print(
            f"pipeline validate: {release_dir} is not a release (no manifest.json in it); "
            "pass a release folder, <output>/releases/<version> (`pipeline releases` lists "
            "them)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    configure_local_runtime(Path(tempfile.gettempdir()) / "pipeline-state")
    from pipeline.validate import validate_release

    report_dir = args.report or Path(tempfile.mkdtemp(prefix="pipeline-validate-"))
    settings = Settings()
    gold = None
    if args.gold is not None:
        from pipeline.validate.accuracy import GoldGate

        min_f1 = settings.gold_min_f1 if args.min_f1 is None else args.min_f1
        gold = GoldGate(args.gold.resolve(), min_f1)
    report = validate_release(release_dir, settings.expectations_dir, report_dir, gold=gold)
    for name, outcome in report.to_json().items() if not args.quiet else ():
        status = "ok  " if outcome["success"] else "FAIL"
        print(f"{status} {name}: {outcome['evaluated']} expectations, {outcome['failed']} failed")
    if report.success and not args.quiet and (extra := report.describe_warnings()):
        print(extra)
    if not report.success:
        print(report.describe_failures())
        print(f"report: {report_dir}")
        return EXIT_FAILED
    return EXIT_OK


def _releases(args: argparse.Namespace) -> int:
    from pipeline.cli_support import no_release_hint, releases_json, releases_plain
    from pipeline.publish.release import list_releases
    from pipeline.remote import RemoteError
    from pipeline.remote_cli import releases

    try:
        found = releases(args) if is_url(args.output) else list_releases(args.output)
    except RemoteError as err:
        print(f"pipeline releases: {err}", file=sys.stderr)
        return err.exit_code
    if args.json:
        print(releases_json(found))
    elif not found:
        print(f"no releases under {args.output}; {no_release_hint(args.output)}")
    elif sys.stdout.isatty():  # a person reads a table; pipes and logs get greppable lines
        from rich.console import Console

        from pipeline.cli_support import releases_table

        releases_table(found, Console())
    else:
        print("\n".join(releases_plain(found)))
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    from pipeline.cli_support import list_hint
    from pipeline.publish.ops import UnknownRelease, resolve_release, verify_release

    try:
        release_dir = resolve_release(args.output, args.release)
    except UnknownRelease as err:
        print(f"pipeline verify: {err}; {list_hint(args.output)}", file=sys.stderr)
        return EXIT_USAGE
    problems = verify_release(release_dir)
    if args.json:
        import json

        doc = {"release": str(release_dir), "version": release_dir.name, "ok": not problems}
        print(json.dumps({**doc, "problems": problems}))
    if problems:
        print(f"pipeline verify: {release_dir}: {len(problems)} mismatch(es):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_FAILED
    if not args.json and not args.quiet:
        print(f"ok {release_dir}: every table matches its manifest checksum and row count")
    return EXIT_OK


def _rollback(args: argparse.Namespace) -> int:
    from pipeline.cli_support import list_hint
    from pipeline.publish.lock import LockBusy
    from pipeline.publish.ops import UnknownRelease, rollback

    try:
        with _locked(args.output, args.lock_timeout, "rollback", args.quiet):
            previous, current = rollback(args.output, args.version)
    except LockBusy as err:
        print(f"pipeline rollback: {err}", file=sys.stderr)
        return EXIT_LOCKED
    except UnknownRelease as err:
        print(f"pipeline rollback: {err}; {list_hint(args.output)}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as err:
        print(f"pipeline rollback: {err}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as err:
        print(f"pipeline rollback: {_storage_error(err, args.output)}", file=sys.stderr)
        return EXIT_FAILED
    if args.quiet:
        return EXIT_OK
    if previous == current:
        print(f"LATEST already names {current}; nothing changed")
    else:
        print(f"LATEST: {previous or '(none)'} -> {current}")
    return EXIT_OK


def _gc(args: argparse.Namespace) -> int:
    from pipeline.publish.lock import LockBusy
    from pipeline.publish.ops import gc

    if args.keep < 0:
        print("pipeline gc: --keep must be >= 0", file=sys.stderr)
        return EXIT_USAGE
    try:
        with _locked(args.output, args.lock_timeout, "gc", args.quiet):
            plan = gc(args.output, args.keep, dry_run=args.dry_run)
    except LockBusy as err:
        print(f"pipeline gc: {err}", file=sys.stderr)
        return EXIT_LOCKED
    except OSError as err:
        print(f"pipeline gc: {_storage_error(err, args.output)}", file=sys.stderr)
        return EXIT_FAILED
    if args.quiet:
        return EXIT_OK
    verb = "would remove" if args.dry_run else "removed"
    for version in plan.remove:
        print(f"{verb} releases/{version}")
    for name in plan.remove_failed:
        print(f"{verb} failed/{name}")
    for version, why in sorted(plan.protected.items()):
        print(f"kept releases/{version} ({why})")
    print(
        f"{len(plan.keep)} release(s) and {len(plan.keep_failed)} failed run(s) kept, "
        f"{len(plan.remove)} release(s) and {len(plan.remove_failed)} failed run(s) {verb}"
    )
    print(_work_gc_line(plan.work, verb))
    return EXIT_OK


def _work_gc_line(work: WorkGc, verb: str) -> str:
    if not work.recorded:
        return "work folder: no run has recorded the batch results it uses; none removed"
    return (
        f"work folder: {verb} {len(work.batches)} batch folder(s) and {len(work.files)} "
        f"file(s) the latest run does not use ({work.bytes / 1e6:,.1f} MB)"
    )


def _eval(args: argparse.Namespace) -> int:
    from pipeline.cli_support import no_release_hint
    from pipeline.evaluate import (
        GoldError,
        ReleaseError,
        evaluate,
        load_gold,
        load_release_tables,
        render_json,
        render_text,
    )
    from pipeline.publish.release import RELEASES, latest_version

    release_dir: Path | None = args.release
    if release_dir is None:
        version = latest_version(args.output)
        if version is None:
            print(
                f"pipeline eval: no release under {args.output} (no LATEST); "
                f"{no_release_hint(args.output)}, or pass --release DIR",
                file=sys.stderr,
            )
            return EXIT_USAGE
        release_dir = args.output / RELEASES / version
    try:
        gold = load_gold(args.gold)
        tables = load_release_tables(release_dir)
        result = evaluate(tables, gold, release=str(release_dir), gold_file=str(args.gold))
    except (GoldError, ReleaseError) as err:
        print(f"pipeline eval: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(render_json(result) if args.format == "json" else render_text(result))
    return EXIT_OK


def _bench(args: argparse.Namespace) -> int:
    import json

    from pipeline.bench import bench_dedup, bench_extract

    if not args.input.is_dir():
        print(
            f"pipeline bench {args.bench}: input folder {args.input} does not exist",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.bench == "run":
        return _bench_run(args)
    if args.bench == "dedup":
        if args.docs < 1:
            print("pipeline bench dedup: --docs must be >= 1", file=sys.stderr)
            return EXIT_USAGE
        try:
            report = bench_dedup(args.input, docs=args.docs, seed=args.seed)
        except ValueError as err:
            print(f"pipeline bench dedup: {err}", file=sys.stderr)
            return EXIT_USAGE
        print(json.dumps(report, sort_keys=False))
        return EXIT_OK
    if args.mb <= 0 or args.quantulum_sample_kb < 0 or args.workers < 1:
        print(
            "pipeline bench extract: --mb must be > 0, --quantulum-sample-kb >= 0 and "
            "--workers >= 1",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        report = bench_extract(
            args.input,
            mb=args.mb,
            seed=args.seed,
            quantulum_sample_kb=args.quantulum_sample_kb,
            workers=args.workers,
        )
    except ValueError as err:
        print(f"pipeline bench extract: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(report, sort_keys=False))
    return EXIT_OK


def entry() -> NoReturn:
    """The ``pipeline`` command: ``main``, ended without the interpreter's teardown
    (``quick_exit``, over a second after a run)."""
    from pipeline.quick_exit import run_then_exit

    run_then_exit(main)


if __name__ == "__main__":
    entry()
