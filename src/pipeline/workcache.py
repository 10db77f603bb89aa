"""The work folder's batch results: which the latest run used, and the rest, which
``pipeline gc`` removes.

A run records the batches it built or reused (``record_live``): their folders, and the
anchors (``stages._anchor_key``) naming their slots and line-key files. A batch folder
stays while the record names it or a kept folder is written over it (``overlay``: its
rows are read through the newer folder). Everything else under ``batches/``, ``slots/``
and ``line_keys/`` is from older runs: files changed since, an older code version,
batches cut differently. The next run would build such work again rather than read it,
so it is only disk space, and without gc it grows with every refresh.

Removal is safe to interrupt: a batch folder is renamed to ``<name>.tmp`` (atomic; the
start-of-run cleanup deletes such leftovers) before it is deleted, so no folder is ever
left holding its ``_SUCCESS`` without all its files.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline import overlay

LIVE_FILE = "live.json"
# the work folder's subfolders (``stages`` writes them)
BATCHES, SLOTS, LINE_KEYS = "batches", "slots", "line_keys"


@dataclass(frozen=True, slots=True)
class WorkGc:
    """What gc removes from a work folder; ``recorded``: whether a run recorded what it
    used (without a record nothing is removed)."""

    recorded: bool
    batches: tuple[Path, ...] = ()
    files: tuple[Path, ...] = ()  # slots and line-key files
    bytes: int = 0


def record_live(work_dir: Path, batch_dirs: Sequence[Path], anchors: Iterable[str]) -> None:
    """Record the batch folders a run uses and its batches' anchors (replaced atomically)."""
    data = {"batches": sorted({p.name for p in batch_dirs}), "anchors": sorted(set(anchors))}
    work_dir.mkdir(parents=True, exist_ok=True)
    tmp = work_dir / f"{LIVE_FILE}.tmp"
    tmp.write_text(json.dumps(data, indent=0), encoding="utf-8")
    os.replace(tmp, work_dir / LIVE_FILE)


def read_live(work_dir: Path) -> tuple[set[str], set[str]] | None:
    """The recorded batch folder names and anchors; None when no run recorded them."""
    path = work_dir / LIVE_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return set(data["batches"]), set(data["anchors"])


def kept_folders(batches_dir: Path, names: Iterable[str]) -> set[str]:
    """``names`` and every folder one of them is written over, level by level."""
    kept: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in kept:
            continue
        kept.add(name)
        base = _base_name(batches_dir / name)
        if base is not None:
            pending.append(base)
    return kept


def _base_name(folder: Path) -> str | None:
    """The name of the folder ``folder`` is written over; None when it has none, or its
    record is unreadable (the batch is then built again, never read)."""
    try:
        base = overlay.base_of(folder) if folder.is_dir() else None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return None if base is None else base.folder.name


def plan_work_gc(work_dir: Path) -> WorkGc:
    """What of ``work_dir`` the latest recorded run no longer uses."""
    live = read_live(work_dir)
    if live is None:
        return WorkGc(recorded=False)
    names, anchors = live
    batches_dir = work_dir / BATCHES
    kept = kept_folders(batches_dir, names)
    batches = [p for p in _entries(batches_dir) if p.is_dir() and p.name not in kept]
    files = [p for p in _entries(work_dir / SLOTS) if p.name not in anchors]
    files += [p for p in _entries(work_dir / LINE_KEYS) if p.stem not in anchors]
    size = sum(_size(p) for p in [*batches, *files])
    return WorkGc(True, tuple(batches), tuple(files), size)


def remove_work(plan: WorkGc) -> None:
    """Delete what ``plan_work_gc`` found (each batch folder renamed away first)."""
    for folder in plan.batches:
        doomed = folder.with_name(f"{folder.name}.tmp")
        os.rename(folder, doomed)
        shutil.rmtree(doomed)
    for path in plan.files:
        path.unlink(missing_ok=True)


def _entries(folder: Path) -> list[Path]:
    """The entries of ``folder`` in name order, leftovers of interrupted writes excluded."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if not p.name.endswith(".tmp"))


def _size(path: Path) -> int:
    if not path.is_dir():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
