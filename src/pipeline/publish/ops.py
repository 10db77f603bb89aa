"""Operating an output folder: verify a release, roll LATEST back, delete old releases.

The CLI (``pipeline verify | rollback | gc``) is a thin layer over these functions; the
commands that change the folder hold the output lock and run the start-of-run cleanup first.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.publish.recovery import WORK
from pipeline.publish.release import (
    FAILED,
    LATEST,
    MANIFEST,
    RELEASES,
    TRASH,
    latest_version,
    read_manifest,
    replace_latest,
    sha256_file,
    write_latest_tmp,
)
from pipeline.workcache import WorkGc, plan_work_gc, remove_work


class UnknownRelease(LookupError):
    """No release folder with a manifest by that name or path."""


def resolve_release(output: Path, release: str) -> Path:
    """A release folder from a version name (under ``output/releases``) or a path."""
    candidates = [Path(release)]
    if "/" not in release and release not in (".", ".."):
        candidates.insert(0, output / RELEASES / release)
    for path in candidates:
        if (path / MANIFEST).is_file():
            return path
    raise UnknownRelease(
        f"{release}: no such release (looked for {' and '.join(str(c) for c in candidates)} "
        f"with a {MANIFEST})"
    )


def verify_release(release_dir: Path) -> list[str]:
    """Every mismatch between the files and the manifest's checksums and row counts."""
    try:
        manifest = read_manifest(release_dir)
    except (OSError, ValueError) as err:
        return [f"{MANIFEST}: cannot be read: {err}"]
    problems: list[str] = []
    if manifest.get("version") != release_dir.name:
        problems.append(
            f"{MANIFEST}: version {manifest.get('version')!r} is not the folder's name "
            f"{release_dir.name!r}"
        )
    tables = manifest.get("tables")
    if not isinstance(tables, dict) or not tables:
        return [*problems, f"{MANIFEST}: lists no tables"]
    for name, info in sorted(tables.items()):
        path = release_dir / str(info.get("path", f"{name}.parquet"))
        if not path.is_file():
            problems.append(f"{name}: {path.name} is missing")
            continue
        digest = sha256_file(path)
        if digest != info.get("sha256"):
            problems.append(
                f"{name}: {path.name} sha256 {digest} does not match the manifest's "
                f"{info.get('sha256')}"
            )
        size = path.stat().st_size
        if info.get("bytes") is not None and size != info["bytes"]:
            problems.append(
                f"{name}: {path.name} has {size} bytes, the manifest says {info['bytes']}"
            )
        try:
            rows = pq.ParquetFile(path).metadata.num_rows
        except Exception as err:  # a corrupt file: say so, never crash the check
            problems.append(f"{name}: {path.name} is not readable Parquet: {err}")
            continue
        if rows != info.get("rows"):
            problems.append(
                f"{name}: {path.name} has {rows} rows, the manifest says {info.get('rows')}"
            )
    problems.extend(_verify_datapackage(release_dir, tables))
    return problems


def _verify_datapackage(release_dir: Path, tables: dict[str, dict[str, object]]) -> list[str]:
    path = release_dir / "datapackage.json"
    if not path.is_file():
        return []
    try:
        resources = json.loads(path.read_text(encoding="utf-8")).get("resources", [])
    except (OSError, ValueError, AttributeError) as err:
        return [f"datapackage.json: cannot be read: {err}"]
    problems = []
    for resource in resources:
        info = tables.get(resource.get("name"))
        if info is not None and resource.get("hash") != f"sha256:{info.get('sha256')}":
            problems.append(
                f"datapackage.json: {resource.get('name')} hash {resource.get('hash')} "
                f"does not match the manifest"
            )
    return problems


def rollback(output: Path, version: str) -> tuple[str | None, str]:
    """Point LATEST at another published, verified release; (previous, new) version.

    Refuses an unknown version (UnknownRelease) and one whose files do not match its
    manifest (ValueError naming each mismatch). Any published release may be named: an
    earlier one, or a later one to undo a rollback.
    """
    target = output / RELEASES / version
    if "/" in version or version in ("", ".", "..") or not (target / MANIFEST).is_file():
        known = sorted(p.parent.name for p in (output / RELEASES).glob(f"*/{MANIFEST}"))
        raise UnknownRelease(
            f"{version}: no published release of that name under {output / RELEASES} "
            f"(known: {', '.join(known) or 'none'})"
        )
    problems = verify_release(target)
    if problems:
        raise ValueError(
            f"{version} is incomplete or damaged; refusing to point {LATEST} at it: "
            + "; ".join(problems)
        )
    previous = latest_version(output)
    if previous != version:
        replace_latest(output, write_latest_tmp(output, version))
    return previous, version


@dataclass
class GcPlan:
    """What gc keeps and removes (versions of releases, names of failed runs, and the
    work folder's batch results the latest run did not use)."""

    keep: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    keep_failed: list[str] = field(default_factory=list)
    remove_failed: list[str] = field(default_factory=list)
    protected: dict[str, str] = field(default_factory=dict)  # version -> why kept
    work: WorkGc = field(default_factory=lambda: WorkGc(recorded=False))  # unused batch work


def plan_gc(output: Path, keep: int) -> GcPlan:
    """Keep the newest ``keep`` releases plus LATEST and its parent; the newest ``keep``
    failed runs."""
    if keep < 0:
        raise ValueError(f"--keep must be >= 0, not {keep}")
    root = output / RELEASES
    versions = _newest_first(root)
    latest = latest_version(output)
    protected: dict[str, str] = {}
    if latest is not None:
        protected[latest] = LATEST
        parent = read_manifest(root / latest).get("parent_version")
        if isinstance(parent, str) and parent:
            protected.setdefault(parent, f"parent of {LATEST}")
    plan = GcPlan(protected={v: why for v, why in protected.items() if v in versions})
    for index, version in enumerate(versions):
        (plan.keep if index < keep or version in protected else plan.remove).append(version)
    failed = _newest_first(output / FAILED)
    plan.keep_failed, plan.remove_failed = failed[:keep], failed[keep:]
    plan.work = plan_work_gc(output / WORK)
    return plan


def _newest_first(root: Path) -> list[str]:
    """Folder names by creation, newest first.

    A version starts with its creation time to the second; two made within one second are
    ordered by when their manifest (the last file written before publishing) was written.
    """

    def key(path: Path) -> tuple[str, int]:
        stamp = path / MANIFEST if (path / MANIFEST).exists() else path
        return path.name.split("-", 1)[0], stamp.stat().st_mtime_ns

    folders = [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    return [p.name for p in sorted(folders, key=key, reverse=True)]


def gc(output: Path, keep: int, dry_run: bool = False) -> GcPlan:
    """Remove what ``plan_gc`` says; each folder leaves releases/ (or failed/) atomically.

    A folder is first renamed into ``.trash/`` (so no half-deleted release is ever visible,
    even when gc is killed) and then deleted; the start-of-run cleanup empties a ``.trash/``
    a killed gc left behind. Batch results go as ``workcache.remove_work`` says.
    """
    plan = plan_gc(output, keep)
    if dry_run:
        return plan
    trash = output / TRASH
    moved = [(output / RELEASES / v, f"release-{v}") for v in plan.remove] + [
        (output / FAILED / v, f"failed-{v}") for v in plan.remove_failed
    ]
    for source, name in moved:
        trash.mkdir(exist_ok=True)
        os.rename(source, trash / name)
    if trash.exists():
        shutil.rmtree(trash)
    remove_work(plan.work)
    return plan
