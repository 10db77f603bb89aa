"""``pipeline diff OLD NEW``: what changed between two releases, per table, and why."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.publish.release import LATEST, MANIFEST, RELEASES, latest_version
from pipeline.settings import Settings

EXIT_OK, EXIT_USAGE = 0, 2
DEFAULT_MAX_ROWS = 50


class UnknownRelease(LookupError):
    """OLD or NEW names no release; the message says what exists and what to run."""


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], defaults: Settings
) -> None:
    parser = commands.add_parser(
        "diff",
        help="what changed between two releases, per table, and why",
        description="Compare release NEW with release OLD (each a version under --output, "
        "'latest', or a release folder): rows added, removed and changed per table, each "
        "with its cause: document_changed, document_added, document_removed (its source "
        "file), other_documents (its source is unchanged; corpus-wide results moved with "
        "other files) or code_or_config (its source is unchanged; the pipeline's code or "
        "config changed). Counts first, then the rows. Exit 2 when OLD or NEW is not a "
        "release.",
    )
    parser.add_argument("old", metavar="OLD", help="version, 'latest' or release folder")
    parser.add_argument("new", metavar="NEW", help="version, 'latest' or release folder")
    parser.add_argument(
        "--output",
        type=Path,
        default=defaults.output_dir,
        help="output folder holding releases/ (default: %(default)s)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: markdown tables; json: one object with every row (default: %(default)s)",
    )
    parser.add_argument(
        "--max-rows",
        type=_non_negative,
        default=DEFAULT_MAX_ROWS,
        metavar="N",
        help="rows printed per table in text (default: %(default)s; JSON has every row)",
    )
    parser.set_defaults(handler=_diff)


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {value}")
    return value


def resolve(output: Path, name: str, role: str) -> Path:
    """The release folder ``name`` stands for: 'latest', a version, or a folder path."""
    known = sorted(p.parent.name for p in (output / RELEASES).glob(f"*/{MANIFEST}"))
    if name == "latest":
        version = latest_version(output)
        if version is not None:
            return output / RELEASES / version
        looked = f"{output / LATEST} names no published release"
    else:
        candidates = [Path(name)]
        if "/" not in name and name not in ("", ".", ".."):
            candidates.insert(0, output / RELEASES / name)
        for path in candidates:
            if (path / MANIFEST).is_file():
                return path
        looked = "no " + " and no ".join(str(c / MANIFEST) for c in candidates)
    if not known:
        hint = (
            f"there are no releases under {output / RELEASES}: run 'pipeline run --output "
            f"{output}' first, or pass --output the folder holding releases/"
        )
    else:
        hint = (
            f"releases under {output / RELEASES}: {', '.join(known)}; 'pipeline releases "
            f"--output {output}' lists them with the latest marked"
        )
    raise UnknownRelease(f"{role} {name!r} is not a release ({looked}); {hint}")


def _diff(args: argparse.Namespace) -> int:
    from pipeline.publish import diff

    try:
        old_dir = resolve(args.output, args.old, "OLD")
        new_dir = resolve(args.output, args.new, "NEW")
    except UnknownRelease as err:
        print(f"pipeline diff: {err}", file=sys.stderr)
        return EXIT_USAGE
    old, new = diff.side_from_dir(old_dir), diff.side_from_dir(new_dir)
    if args.format == "json":
        diff.write_json(old, new, sys.stdout)
        return EXIT_OK
    result = diff.diff_releases(old, new, limit=args.max_rows)
    command = f"pipeline diff {args.old} {args.new} --output {args.output} --format json"
    print(f"# Diff: {old_dir.name} → {new_dir.name}\n")
    sys.stdout.write(diff.render_markdown(result, args.max_rows, command))
    return EXIT_OK
