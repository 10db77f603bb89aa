"""Start-of-run cleanup: finish or undo what an interrupted run left in an output folder.

Runs with the output lock held, so nothing it touches belongs to a live run. A run killed at
any moment leaves at most:

- ``.staging/<version>/``: a release being built, never visible; removed.
- ``.LATEST.<version>.tmp``: written just before a validated release is renamed into
  ``releases/``. When ``releases/<version>`` is complete the kill fell between that rename and
  the swap of ``LATEST``: the swap is finished (rolled forward), as the run would have done a
  moment later. Otherwise the rename never happened and the file is removed.
- ``.work/**/<key>.tmp``: batch results being written; removed (complete batches stay).
- ``.trash/``: releases and failed runs ``pipeline gc`` was deleting; removed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.publish.release import (
    LATEST,
    MANIFEST,
    RELEASES,
    STAGING,
    TRASH,
    fsync_dir,
    replace_latest,
)

WORK = ".work"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def recover(output: Path) -> list[str]:
    """Clean up after interrupted runs; one line per thing done (empty when none)."""
    done: list[str] = []
    if not output.is_dir():
        return done
    pending = sorted(output.glob(f".{LATEST}.*.tmp"), key=lambda p: (p.stat().st_mtime_ns, p.name))
    for tmp in pending[:-1]:
        tmp.unlink(missing_ok=True)
        done.append(f"removed {tmp.name} (an older interrupted publish)")
    if pending:
        tmp = pending[-1]
        version = tmp.read_text(encoding="utf-8").strip()
        if version and (output / RELEASES / version / MANIFEST).is_file():
            replace_latest(output, tmp)
            done.append(f"finished the interrupted publish of {version}: {LATEST} now names it")
        else:
            tmp.unlink(missing_ok=True)
            done.append(f"removed {tmp.name} (its release was never published)")
    for folder, what in ((STAGING, "unpublished staging folders"), (TRASH, "gc leftovers")):
        path = output / folder
        names = sorted(p.name for p in path.iterdir()) if path.is_dir() else []
        for name in names:
            _remove(path / name)
        if names:
            done.append(f"removed {what} of unfinished runs: {folder}/{', '.join(names)}")
    work = output / WORK
    if work.is_dir():
        partial = sorted(p for p in [*work.glob("*.tmp"), *work.glob("*/*.tmp")])
        for path in partial:
            _remove(path)
        if partial:
            done.append(
                f"removed {len(partial)} partial work folder(s) of interrupted runs under {WORK}/"
            )
    if done:
        fsync_dir(output)
    return done


def discard_staging(output: Path) -> None:
    """Remove every staging folder, ignoring errors (after a failed run, lock held)."""
    staging = output / STAGING
    for path in staging.iterdir() if staging.is_dir() else []:
        shutil.rmtree(path, ignore_errors=True)
