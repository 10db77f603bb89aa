"""``pipeline run`` and ``pipeline releases`` with URLs: the local folders a remote run uses.

A run whose ``--input`` or ``--output`` is a URL works in a local work folder
(``--work-dir``; default ``PIPELINE_WORK_DIR`` or
``$XDG_CACHE_HOME/pipeline/<hash of --input and --output>``, ``~/.cache/...`` when unset):
``input/files/`` mirrors the input URL and ``output/`` is the local output folder of an
output URL (its releases, batch cache ``.work/``, Prefect state and lock). Inside, the run is
the local run, unchanged; ``pipeline.remote`` moves data at the edges. Keeping the work
folder between runs is what makes a rerun cheap (only changed objects are downloaded, only
changed files rebuilt); deleting it is always safe (the next run downloads again).

The work folder is keyed on both locations, and the whole run, input sync included, holds
the local output folder's lock: two runs on the same URLs on one machine take turns.
"""

from __future__ import annotations

import argparse
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.urls import is_url, location, parse_storage_option, storage_options

# pipeline.remote (and through it pyarrow) is imported in the methods: the command line
# imports this module for its arguments, and the no-op run must stay about a second.

WORK_DIR_ENV = "PIPELINE_WORK_DIR"


def env_location(name: str, fallback: Path) -> str | Path:
    """The location in environment variable ``name`` (a URL stays a URL), else ``fallback``."""
    value = os.environ.get(name)
    return location(value) if value else fallback


def _option(text: str) -> str:
    try:
        parse_storage_option(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err
    return text


def add_arguments(command: argparse.ArgumentParser, *, work_dir: bool) -> None:
    """``--storage-option`` (and, for ``run``, ``--work-dir``) on a subcommand."""
    command.add_argument(
        "--storage-option",
        dest="storage_option",
        action="append",
        default=[],
        type=_option,
        metavar="KEY=VALUE",
        help="fsspec storage option for a URL --input/--output, repeatable; values are read "
        "as JSON when they parse, dots nest (client_kwargs.region_name=eu-west-1). "
        "Credentials and endpoint otherwise come from the environment (AWS_PROFILE, "
        "AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, ...)",
    )
    if work_dir:
        value = os.environ.get(WORK_DIR_ENV)
        command.add_argument(
            "--work-dir",
            type=Path,
            default=Path(value) if value else None,
            help="local folder where a run with a URL --input/--output mirrors the input and "
            f"builds the output (default: {WORK_DIR_ENV} or ~/.cache/pipeline/<hash of "
            "--input and --output>)",
        )


def default_work_dir(input_: str | Path, output: str | Path) -> Path:
    """``$XDG_CACHE_HOME/pipeline/<hash>`` (``~/.cache`` when unset), one per location pair."""
    key = "\n".join(str(x) if is_url(x) else str(Path(x).resolve()) for x in (input_, output))
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "pipeline" / hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def releases(args: argparse.Namespace) -> list[dict[str, Any]]:
    """``pipeline releases --output URL``: read from the store (raises RemoteError)."""
    from pipeline.remote import list_releases

    return list_releases(str(args.output), storage_options(args.storage_option))


@dataclass
class RemoteRun:
    """A run with a URL input and/or output: where its local copies are, and the edges."""

    input_url: str | None
    output_url: str | None
    work_dir: Path
    local_output: Path
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def prepare(cls, args: argparse.Namespace) -> RemoteRun | None:
        """None when --input and --output are local; else point ``args`` at the local
        folders (``args.input``, ``args.output``) and set ``args.remote``."""
        input_, output = args.input, args.output
        if not (is_url(input_) or is_url(output)):
            return None
        work = args.work_dir or default_work_dir(input_, output)
        run = cls(
            input_url=input_ if is_url(input_) else None,
            output_url=output if is_url(output) else None,
            work_dir=work,
            local_output=work / "output" if is_url(output) else Path(output),
            options=storage_options(args.storage_option),
        )
        if run.input_url is not None:
            args.input = work / "input" / "files"
        args.output = run.local_output
        args.remote = run
        return run

    def pull(self, say: Callable[[str], None] | None = None) -> None:
        """Sync the input mirror and the remote LATEST (output lock held, after recovery)."""
        from pipeline.remote import pull_latest, sync_input

        if self.input_url is not None:
            synced = sync_input(self.input_url, self.work_dir / "input", self.options)
            if say is not None:
                say(synced.describe())
        if self.output_url is not None:
            pull_latest(self.output_url, self.local_output, self.options)

    def fetch_parent(self) -> None:
        """Before a build: the parent release's tables (changelog, row-count assertions)."""
        from pipeline.publish.release import latest_version
        from pipeline.remote import fetch_release

        version = latest_version(self.local_output)
        if self.output_url is not None and version is not None:
            fetch_release(self.output_url, self.local_output, version, self.options)

    def push(self, version: str) -> None:
        """After a local publish: upload the release, then move the remote LATEST."""
        from pipeline.remote import push_release

        if self.output_url is not None:
            push_release(self.local_output, version, self.output_url, self.options)

    def shown(self, path: Path) -> Path | str:
        """A release's URL for messages when the output is remote, else ``path``."""
        if self.output_url is None:
            return path
        try:
            relative = path.resolve().relative_to(self.local_output.resolve())
        except ValueError:
            return path
        if relative.parts[:1] != ("releases",):
            return path  # failed/ and reports stay local: only releases are uploaded
        return f"{self.output_url.rstrip('/')}/{relative.as_posix()}"
