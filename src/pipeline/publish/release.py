"""Release folders: stage, then rename into releases/ and swap LATEST atomically."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

RELEASES = "releases"
STAGING = ".staging"
FAILED = "failed"
LATEST = "LATEST"
MANIFEST = "manifest.json"


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


def write_table(table: pa.Table, path: Path) -> dict[str, Any]:
    """Write one Parquet file and describe it for the manifest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd", row_group_size=64_000)
    return {
        "path": path.name,
        "rows": table.num_rows,
        "bytes": path.stat().st_size,
        "sha256": sha256_file(path),
    }


def rows_fingerprint(table: pa.Table) -> str:
    """Hash of a table's rows in sorted order: equal for equal content, any writer version."""
    frame = table.to_pandas()
    if len(frame):
        frame = frame.astype(str).sort_values(list(frame.columns), kind="stable")
    payload = frame.to_csv(index=False).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()


def write_json(path: Path, data: object) -> None:
    path.write_text(
        json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(root)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(output: Path, staged: Path, version: str) -> Path:
    """Move a validated staging folder into releases/ and point LATEST at it."""
    _fsync_tree(staged)
    target = output / RELEASES / version
    target.parent.mkdir(parents=True, exist_ok=True)
    os.rename(staged, target)  # atomic on one file system: never half-visible
    _fsync_dir(target.parent)
    tmp = output / f".{LATEST}.{version}.tmp"
    tmp.write_text(version + "\n", encoding="utf-8")
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, output / LATEST)
    _fsync_dir(output)
    return target


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
    """Published releases, newest first, with their row counts."""
    root = output / RELEASES
    latest = latest_version(output)
    found = []
    for release in sorted(root.iterdir() if root.exists() else [], reverse=True):
        if not (release / MANIFEST).is_file():
            continue
        manifest = read_manifest(release)
        found.append(
            {
                "version": release.name,
                "created_at": manifest.get("created_at"),
                "latest": release.name == latest,
                "rows": {name: t["rows"] for name, t in manifest.get("tables", {}).items()},
                "path": str(release),
            }
        )
    return found
