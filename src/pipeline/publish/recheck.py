"""Just before publishing: are the inputs still what the run scanned and read?

A release claims to be built from the inputs its manifest lists, by path and sha256. A file
edited, replaced or deleted while a run was going makes that claim false in one of two ways:
the file on disk no longer has the scanned hash (changed after it was read, or deleted), or
the release holds a different hash for it than the scan (changed between the scan and the
read). Either way the run must not publish; a rerun builds a consistent release.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa

from pipeline.publish.fingerprint import InputRecord, scan_inputs
from pipeline.publish.release import table_columns
from pipeline.runtime import gc_paused

# Tables that record the hash of the bytes each input had when it was read.
_READ_HASH_TABLES = ("documents", "quarantine")


class InputsChangedError(RuntimeError):
    """Inputs changed while the run was going; ``changes`` names each file and how."""

    def __init__(self, input_dir: Path, changes: Sequence[str]) -> None:
        self.changes = list(changes)
        shown = "; ".join(self.changes[:20])
        more = f" (and {len(self.changes) - 20} more)" if len(self.changes) > 20 else ""
        super().__init__(
            f"input files changed while the run was going, so the release would not match "
            f"its inputs: {shown}{more} (under {input_dir}); nothing published, run again"
        )


def changed_inputs(
    input_dir: Path,
    scanned: Sequence[InputRecord],
    tables: Mapping[str, pa.Table],
    hash_cache: Path | None = None,
) -> tuple[list[str], bool]:
    """Each input that changed since the scan, and whether a read saw a changed file.

    ``hash_cache``: the scan's (``scan_inputs``), so that only files whose size, mtime or
    inode changed since it are read again, as the scan itself does; without it every
    input is hashed again (at 100,000 files, several seconds of every run).
    """
    now = {r.path: r for r in scan_inputs(input_dir, hash_cache)}
    changes: list[str] = []
    for record in scanned:
        current = now.get(record.path)
        if current is None:
            changes.append(f"{record.path} was deleted")
        elif current.sha256 != record.sha256:
            changes.append(
                f"{record.path} was modified (sha256 {_short(record.sha256)} -> "
                f"{_short(current.sha256)})"
            )
    expected = {r.path: r.sha256 for r in scanned}
    misread = False
    for name in _READ_HASH_TABLES:
        table = table_columns(tables, name, ["source_path", "content_sha256"])
        if table is None:
            continue
        read = table.select(["source_path", "content_sha256"]).to_pylist()
        for row in read:
            path, digest = row["source_path"], row["content_sha256"]
            if digest is not None and path in expected and expected[path] != digest:
                misread = True
                note = (
                    f"{path} was read with sha256 {_short(digest)}, scanned as "
                    f"{_short(expected[path])}"
                )
                changes.append(note)
    return changes, misread


def check_inputs_unchanged(
    input_dir: Path,
    scanned: Sequence[InputRecord],
    tables: Mapping[str, pa.Table],
    work_dir: Path | None = None,
    hash_cache: Path | None = None,
) -> None:
    """Raise InputsChangedError naming every input that changed since the run scanned it.

    When a file was read with other bytes than scanned, batch results cached under the
    scanned hash hold the other content: the cache (``work_dir``) is then dropped.
    ``hash_cache``: see ``changed_inputs``.
    """
    with gc_paused():  # a row of strings per input, by the hundred thousand: no cycles
        changes, misread = changed_inputs(input_dir, scanned, tables, hash_cache)
    if not changes:
        return
    if misread and work_dir is not None:
        shutil.rmtree(work_dir, ignore_errors=True)
    raise InputsChangedError(input_dir, changes)


def _short(digest: str | None) -> str:
    return "unreadable" if digest is None else digest[:12]
