"""What the command line says: release listings and error messages that say what to do.

Kept out of ``cli.py`` so the command table stays short and these are tested without
parsing arguments. Every error message names the file or folder, says what is wrong and
what to do about it.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

DOCUMENT_SUFFIXES = ".txt, .md, .markdown, .html or .htm"
# The tables a person looks at first; `--json` and the plain listing give every table.
MAIN_TABLES = ("documents", "money", "quantities", "dates", "entities", "claims", "quarantine")


def input_problem(folder: Path, env: str = "PIPELINE_INPUT") -> str | None:
    """What is wrong with an input folder (None: usable).

    An empty folder is an error rather than an empty release: it is nearly always a wrong
    path or a mount that is not there, and publishing it would make an empty LATEST.
    """
    fix = f"pass --input DIR (or set {env}) to the folder of documents"
    if not folder.exists():
        return (
            f"input folder {folder} does not exist; create it and put the documents in it, or {fix}"
        )
    if not folder.is_dir():
        return f"input {folder} is a file, not a folder; {fix}"
    if not _has_input_file(folder):
        return (
            f"input folder {folder} holds no documents (hidden files and folders are "
            f"skipped); add {DOCUMENT_SUFFIXES} files to it, or {fix}"
        )
    return None


def _has_input_file(folder: Path) -> bool:
    """Whether ingest would find at least one input, by its rules (hidden entries skipped,
    symlinked folders count as an input); stops at the first, unlike a full scan."""
    for directory, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        if any(not name.startswith(".") for name in filenames):
            return True
        if any(os.path.islink(os.path.join(directory, d)) for d in dirnames):
            return True
    return False


def count_problem(option: str, value: int | None, env: str) -> str | None:
    """``--batch-size`` / ``--workers`` must be at least 1 (a silent clamp hid typos);
    None is the default chosen later."""
    if value is None or value >= 1:
        return None
    return f"{option} must be at least 1, not {value} (from the command line or {env})"


def storage_hint(err: OSError, output: Path) -> str:
    """What to do about a storage error under the output folder, by its errno."""
    if err.errno == errno.ENOSPC or err.errno == errno.EDQUOT:
        return "free space on that disk (`pipeline gc --keep N` deletes old releases) and run again"
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"make {output} and what is under it writable, or pass --output a folder you "
            "can write to"
        )
    if err.errno in (errno.EEXIST, errno.ENOTDIR):
        return (
            f"a file stands where a folder is needed (at or above '{err.filename or output}'); "
            "move it away, or pass --output another folder"
        )
    return "fix the cause and run again (the next run cleans up after this one)"


def no_release_hint(output: Path) -> str:
    return f"run `pipeline run --input DIR --output {output}` first"


def list_hint(output: Path) -> str:
    return f"`pipeline releases --output {output}` lists the published versions"


def releases_json(found: Sequence[dict[str, Any]]) -> str:
    """One JSON list, newest first; keys: version, created_at, latest, validation, rows, path."""
    keys = ("version", "created_at", "latest", "validation", "rows", "path")
    return json.dumps([{key: release.get(key) for key in keys} for release in found], indent=2)


def releases_plain(found: Sequence[dict[str, Any]]) -> list[str]:
    """Aligned lines for pipes and logs: ``*`` marks LATEST, then version, time, status, rows."""
    rows = [
        (
            "* " if r["latest"] else "  ",
            str(r["version"]),
            str(r["created_at"] or "-"),
            str(r.get("validation") or "-"),
            ", ".join(f"{name}={n}" for name, n in r["rows"].items()),
        )
        for r in found
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(1, 4)]
    return [
        f"{marker}{version:<{widths[0]}}  {created:<{widths[1]}}  {status:<{widths[2]}}  "
        f"{counts}".rstrip()
        for marker, version, created, status, counts in rows
    ]


def releases_table(found: Sequence[dict[str, Any]], console: Console) -> None:
    """A rich table for a terminal: LATEST, version, created, validation, main tables' rows.

    Row-count columns that do not fit the terminal's width are left out (with a note)
    rather than squeezed into ellipses: the version and its status matter most.
    """
    from rich.measure import Measurement

    shown = [t for t in MAIN_TABLES if any(t in r["rows"] for r in found)]
    for keep in range(len(shown), -1, -1):
        table = _releases_table(found, shown[:keep])
        unbounded = console.options.update_width(1_000_000)  # else it is clamped to fit
        if Measurement.get(console, unbounded, table).maximum <= console.width:
            break
    console.print(table)
    if keep < len(shown):
        console.print(f"({', '.join(shown[keep:])} left out for width; `--json` has every table)")


def _releases_table(found: Sequence[dict[str, Any]], tables: Sequence[str]) -> Table:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, collapse_padding=True)
    table.add_column("", no_wrap=True)  # the LATEST marker
    table.add_column("version", no_wrap=True)
    table.add_column("created", no_wrap=True)
    table.add_column("validation", no_wrap=True)
    for name in tables:
        table.add_column(name, justify="right", no_wrap=True)
    for release in found:
        status = release.get("validation")
        styled = {"passed": "[green]passed[/green]", "failed": "[red]failed[/red]"}.get(
            str(status), escape(str(status or "-"))
        )
        rows = [_thousands(release["rows"].get(name)) for name in tables]
        marker = "[bold]LATEST[/bold]" if release["latest"] else ""
        version, created = escape(str(release["version"])), escape(str(release["created_at"]))
        table.add_row(marker, version, created, styled, *rows)
    return table


def _thousands(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else "-"
