"""Command line: ``pipeline run | validate | eval | releases | bench``."""

from __future__ import annotations

import argparse
import os
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
        type=Path,
        default=defaults.output_dir,
        help="output folder whose LATEST release is scored (default: %(default)s)",
    )
    evaluate.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="report format (default: %(default)s)",
    )

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {
        "run": _run,
        "validate": _validate,
        "releases": _releases,
        "eval": _eval,
        "bench": _bench,
    }
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


def _eval(args: argparse.Namespace) -> int:
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
            print(f"pipeline eval: no release under {args.output} (no LATEST)", file=sys.stderr)
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


if __name__ == "__main__":
    sys.exit(main())
