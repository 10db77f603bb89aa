"""Input hashes kept between runs, trusted while a file's size, mtime and inode are the same.

A no-op rerun over 100,000 files would otherwise read every byte again to find that nothing
changed. As git's index does, a hash is reused only for a file whose ``stat`` is unchanged,
and a file modified less than ``RACY_SECONDS`` before the scan is not remembered: a second
write in the same timestamp tick would leave its ``stat`` unchanged.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

RACY_SECONDS = 2.0
_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("inode", pa.int64()),
        ("sha256", pa.string()),
    ]
)


# Named tuples, not dataclasses: a scan makes and compares one of each per input (at
# 100,000 files, loading the cache took 0.9 s with frozen dataclasses).
class FileStat(NamedTuple):
    size: int
    mtime_ns: int
    inode: int


class Known(NamedTuple):
    stat: FileStat
    sha256: str


def stat_of(path: Path | str) -> FileStat | None:
    """The size, mtime and inode of a regular file (following symlinks), else None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return FileStat(st.st_size, st.st_mtime_ns, st.st_ino) if stat.S_ISREG(st.st_mode) else None


def load(cache_file: Path) -> dict[str, Known]:
    """The kept hashes by input path; empty when the file is missing or unreadable."""
    try:
        table = pq.read_table(cache_file, schema=_SCHEMA)
    except (OSError, pa.ArrowException):
        return {}  # a cache: rebuilt by the next scan
    columns = [table.column(name).to_pylist() for name in _SCHEMA.names]
    return {
        path: Known(FileStat(size, mtime, inode), sha)
        for path, size, mtime, inode, sha in zip(*columns, strict=True)
    }


def remembered(entries: dict[str, Known], now_ns: int | None = None) -> dict[str, Known]:
    """The entries safe to keep: files last modified at least ``RACY_SECONDS`` ago."""
    now = time.time_ns() if now_ns is None else now_ns
    horizon = now - int(RACY_SECONDS * 1e9)
    return {path: known for path, known in entries.items() if known.stat.mtime_ns < horizon}


def save(cache_file: Path, entries: dict[str, Known]) -> None:
    """Write ``entries`` whole (a temporary file renamed), so a crash leaves the old cache.

    Runs scan before taking the output's lock, so two may save at once, and a locked run's
    clean-up may remove another's temporary file: each writes its own, and a failed save
    is skipped (the next scan hashes those files again).
    """
    paths = sorted(entries)
    table = pa.table(
        [
            pa.array(paths, pa.string()),
            pa.array([entries[p].stat.size for p in paths], pa.int64()),
            pa.array([entries[p].stat.mtime_ns for p in paths], pa.int64()),
            pa.array([entries[p].stat.inode for p in paths], pa.int64()),
            pa.array([entries[p].sha256 for p in paths], pa.string()),
        ],
        schema=_SCHEMA,
    )
    tmp = cache_file.with_name(f"{cache_file.name}.{os.getpid()}.tmp")
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, tmp)
        tmp.replace(cache_file)
    except OSError:
        tmp.unlink(missing_ok=True)
