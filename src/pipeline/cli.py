"""Command line: ``pipeline run | validate | releases``."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from pipeline.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


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
        type=Path,
        default=defaults.input_dir,
        help="folder of input documents (default: %(default)s)",
    )
    run.add_argument(
        "--output",
        type=Path,
        default=defaults.output_dir,
        help="output folder holding releases/ and LATEST (default: %(default)s)",
    )
    run.add_argument(
        "--batch-size",
        type=int,
        default=defaults.batch_size,
        help="documents per task (default: %(default)s)",
    )

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

    releases = commands.add_parser(
        "releases",
        help="list releases, newest first",
        description="List releases under --output, newest first, with row counts.",
    )
    releases.add_argument(
        "--output",
        type=Path,
        default=defaults.output_dir,
        help="output folder (default: %(default)s)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"run": _run, "validate": _validate, "releases": _releases}
    return handlers[args.command](args)


def _run(args: argparse.Namespace) -> int:
    from pipeline.plan import make_plan
    from pipeline.publish.release import RELEASES, up_to_date

    started = time.perf_counter()
    settings = Settings(
        input_dir=args.input, output_dir=args.output, batch_size=max(1, args.batch_size)
    )
    if not settings.input_dir.is_dir():
        print(f"pipeline run: input folder {settings.input_dir} does not exist", file=sys.stderr)
        return EXIT_USAGE
    plan = make_plan(settings)
    current = up_to_date(plan.output_dir, plan.run_fingerprint)
    if current is not None:
        print(f"up to date: {current} ({plan.output_dir / RELEASES / current}); nothing published")
        return EXIT_OK
    result = _run_flow(settings)
    seconds = time.perf_counter() - started
    if not result.published:
        print(
            f"validation failed: release {result.version} NOT published; "
            f"report: {result.path / 'validation'}",
            file=sys.stderr,
        )
        print(result.report.describe_failures(), file=sys.stderr)
        return EXIT_FAILED
    print(f"published {result.version} ({result.path}) in {seconds:.1f} s")
    return EXIT_OK


def _run_flow(settings: Settings):  # type: ignore[no-untyped-def]
    """Import Prefect only when there is work: its local API costs seconds to start."""
    from pipeline.runtime import configure_local_runtime

    configure_local_runtime(settings.output_dir.resolve() / ".state")
    from flows.release_flow import release_flow

    return release_flow(
        str(settings.input_dir),
        str(settings.output_dir),
        str(settings.expectations_dir),
        settings.max_document_bytes,
        settings.batch_size,
    )


def _validate(args: argparse.Namespace) -> int:
    from pipeline.runtime import configure_local_runtime

    release_dir: Path = args.release_dir
    if not (release_dir / "manifest.json").is_file():
        print(
            f"pipeline validate: {release_dir} is not a release (no manifest.json)", file=sys.stderr
        )
        return EXIT_USAGE
    configure_local_runtime(Path(tempfile.gettempdir()) / "pipeline-state")
    from pipeline.validate import validate_release

    report_dir = args.report or Path(tempfile.mkdtemp(prefix="pipeline-validate-"))
    report = validate_release(release_dir, Settings().expectations_dir, report_dir)
    for name, outcome in report.to_json().items():
        status = "ok  " if outcome["success"] else "FAIL"
        print(f"{status} {name}: {outcome['evaluated']} expectations, {outcome['failed']} failed")
    if not report.success:
        print(report.describe_failures())
        print(f"report: {report_dir}")
        return EXIT_FAILED
    return EXIT_OK


def _releases(args: argparse.Namespace) -> int:
    from pipeline.publish.release import list_releases

    found = list_releases(args.output)
    if not found:
        print(f"no releases under {args.output}")
        return EXIT_OK
    for release in found:
        marker = "* " if release["latest"] else "  "
        counts = ", ".join(f"{name}={rows}" for name, rows in release["rows"].items())
        print(f"{marker}{release['version']}  {release['created_at']}  {counts}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
