"""Release folders: stage, then rename into releases/ and swap LATEST atomically."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.faults import crash_point

RELEASES = "releases"
STAGING = ".staging"
FAILED = "failed"
LATEST = "LATEST"
MANIFEST = "manifest.json"
TRASH = ".trash"  # releases being deleted by gc (renamed here first, then removed)


def read_columns(path: Path, wanted: Sequence[str] | None) -> pa.Table:
    """A Parquet file with only those of ``wanted`` it has (all columns for None)."""
    if wanted is not None:
        present = set(pq.read_schema(path).names)
        wanted = [c for c in wanted if c in present]
    return pq.read_table(path, columns=wanted)


class FolderTables(Mapping[str, pa.Table]):
    """The Parquet tables ``names`` of a release folder, each read when asked for and not
    kept: code that goes table by table then holds one table at a time, not the release."""

    def __init__(self, folder: Path, names: Sequence[str]) -> None:
        self._folder = folder
        self._names = tuple(names)

    def __getitem__(self, name: str) -> pa.Table:
        return self.columns(name, None)

    def columns(self, name: str, wanted: Sequence[str] | None) -> pa.Table:
        """Table ``name`` with only those of ``wanted`` it has (all columns for None)."""
        if name not in self._names:
            raise KeyError(name)
        return read_columns(self._folder / f"{name}.parquet", wanted)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def table_columns(
    tables: Mapping[str, pa.Table], name: str, wanted: Sequence[str]
) -> pa.Table | None:
    """Table ``name`` with only those of ``wanted`` it has; None when there is no such table.

    From a release folder only those columns are read (``documents.source_text`` alone
    can be most of a release).
    """
    if isinstance(tables, FolderTables):
        return tables.columns(name, wanted) if name in tables else None
    table = tables.get(name)
    if table is None:
        return None
    return table.select([c for c in wanted if c in table.column_names])


def new_version(output: Path, now: dt.datetime, run_fp: str) -> str:
    """Sortable by creation time and unique in ``output``."""
    base = f"{now.astimezone(dt.UTC):%Y%m%dT%H%M%S}Z-{run_fp[:8]}"
    version, n = base, 1
    while (output / RELEASES / version).exists() or (output / STAGING / version).exists():
        n += 1
        version = f"{base}-{n}"
    return version


def latest_version(output: Path) -> str | None:
    path = output / LATEST
    if not path.is_file():
        return None
    name = path.read_text(encoding="utf-8").strip()
    return name if name and (output / RELEASES / name / MANIFEST).is_file() else None


def read_manifest(release_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((release_dir / MANIFEST).read_text(encoding="utf-8"))
    return data


def up_to_date(output: Path, run_fp: str) -> str | None:
    """The latest version when it was built from the same inputs, code and config."""
    version = latest_version(output)
    if version is None:
        return None
    manifest = read_manifest(output / RELEASES / version)
    return version if manifest.get("run_fingerprint") == run_fp else None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


ROW_GROUP_ROWS = 64_000
# documents hold whole source texts (about 5 KB a row): smaller groups let a reader that
# wants some documents (validation checking quotes a chunk at a time) read only those
_ROW_GROUP_ROWS = {"documents.parquet": 4_096}


def row_group_rows(path: Path) -> int:
    """Rows per row group of the release file at ``path``."""
    return _ROW_GROUP_ROWS.get(path.name, ROW_GROUP_ROWS)


def write_table(table: pa.Table, path: Path) -> dict[str, Any]:
    """Write one Parquet file and describe it for the manifest."""
    writer = TableWriter(path, table.schema)
    writer.write(table)
    return writer.close()


class TableWriter:
    """Appends rows to one Parquet file, in row groups of exactly ``group_rows`` rows
    (default ``row_group_rows(path)``; the last group shorter): the file's bytes depend on
    its rows alone, not on how many pieces they were written in, so a table written whole
    and one written batch by batch are the same file. ``close`` describes the file for
    the manifest."""

    def __init__(self, path: Path, schema: pa.Schema, *, group_rows: int | None = None) -> None:
        self._path = path
        self._group = row_group_rows(path) if group_rows is None else group_rows
        self._schema = schema
        self._pending: list[pa.Table] = [schema.empty_table()]
        self._pending_rows = 0
        self._rows = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(path, schema, compression="zstd")
        except OSError as err:
            raise _naming(err, path) from err

    def write(self, table: pa.Table) -> None:
        self._pending.append(table.cast(self._schema))
        self._pending_rows += table.num_rows
        while self._pending_rows >= self._group:
            self._flush(self._group)

    def close(self) -> dict[str, Any]:
        if self._pending_rows or not self._rows:  # an empty table still gets its row group
            self._flush(self._pending_rows)
        try:
            self._writer.close()
        except OSError as err:
            raise _naming(err, self._path) from err
        return {
            "path": self._path.name,
            "rows": self._rows,
            "bytes": self._path.stat().st_size,
            "sha256": sha256_file(self._path),
        }

    def _flush(self, rows: int) -> None:
        pending = pa.concat_tables(self._pending)
        group = pending.slice(0, rows).combine_chunks()  # one chunk: bytes follow rows only
        rest = pending.slice(rows)
        self._pending, self._pending_rows = [rest], rest.num_rows
        try:
            self._writer.write_table(group, row_group_size=max(rows, 1))
        except OSError as err:
            raise _naming(err, self._path) from err
        self._rows += rows


def rows_fingerprint(table: pa.Table) -> str:
    """Hash of a table's rows in sorted order: equal for equal content, any writer version."""
    frame = table.to_pandas()
    if len(frame):
        frame = frame.astype(str).sort_values(list(frame.columns), kind="stable")
    payload = frame.to_csv(index=False).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()


def write_json(path: Path, data: object) -> None:
    try:
        path.write_text(
            json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
    except OSError as err:
        raise _naming(err, path) from err


def _naming(err: OSError, path: Path) -> OSError:
    """The same error, naming the file (Arrow's and write()'s errors do not)."""
    if err.filename is not None:
        return err
    return OSError(err.errno, err.strerror or str(err), str(path))


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    fsync_dir(root)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(output: Path, staged: Path, version: str) -> Path:
    """Move a validated staging folder into releases/ and point LATEST at it.

    Crash-safe at every step (see publish/recovery.py): the new LATEST is written to
    ``.LATEST.<version>.tmp`` before the rename, so a run killed between the rename and the
    swap leaves the intent on disk and the next run finishes the swap. A storage error
    leaves nothing published: before the rename nothing moved, and a failed swap moves the
    release back to staging.
    """
    _fsync_tree(staged)
    crash_point("publish_started")
    target = output / RELEASES / version
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = write_latest_tmp(output, version)
    crash_point("latest_tmp_written")
    try:
        os.rename(staged, target)  # atomic on one file system: never half-visible
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise _naming(err, target) from err
    fsync_dir(target.parent)
    crash_point("renamed")
    try:
        os.replace(tmp, output / LATEST)
    except OSError as err:
        os.rename(target, staged)  # not published after all
        tmp.unlink(missing_ok=True)
        raise _naming(err, output / LATEST) from err
    fsync_dir(output)
    return target


def write_latest_tmp(output: Path, version: str) -> Path:
    """Write (and fsync) what LATEST will say into ``.LATEST.<version>.tmp``."""
    tmp = output / f".{LATEST}.{version}.tmp"
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(version + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise _naming(err, tmp) from err
    return tmp


def replace_latest(output: Path, tmp: Path) -> None:
    """Atomically make ``tmp`` the new LATEST (readers see the old or the new name)."""
    os.replace(tmp, output / LATEST)
    fsync_dir(output)


def keep_failed(output: Path, staged: Path, version: str) -> Path:
    """Move a staging folder that failed validation to failed/ for inspection."""
    target = output / FAILED / version
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(target)
    os.rename(staged, target)
    return target


def clear_staging(output: Path) -> None:
    """Remove leftovers of interrupted runs (never visible as releases)."""
    staging = output / STAGING
    if staging.exists():
        shutil.rmtree(staging)


def list_releases(output: Path) -> list[dict[str, Any]]:
    """Published releases, newest first, with their row counts and validation outcome."""
    root = output / RELEASES
    latest = latest_version(output)
    found = []
    for release in sorted(root.iterdir() if root.exists() else [], reverse=True):
        if not (release / MANIFEST).is_file():
            continue
        try:
            manifest = read_manifest(release)
            status = _validation_status(manifest.get("validation"))
        except (OSError, ValueError):
            # Listed anyway: a damaged release is what `pipeline verify` and `rollback` need
            # to be told about, and one must not hide the others.
            manifest, status = {}, "unreadable manifest"
        found.append(
            {
                "version": release.name,
                "created_at": manifest.get("created_at"),
                "latest": release.name == latest,
                "rows": {name: t["rows"] for name, t in manifest.get("tables", {}).items()},
                "validation": status,
                "path": str(release),
            }
        )
    return found


def _validation_status(validation: Any) -> str | None:
    """``passed`` / ``failed`` from a manifest's ``{suite: {success, ...}}``; None if absent."""
    if not isinstance(validation, dict) or not validation:
        return None
    ok = all(isinstance(suite, dict) and suite.get("success") for suite in validation.values())
    return "passed" if ok else "failed"
