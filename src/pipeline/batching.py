"""Batches of input paths whose boundaries stay put when files come and go.

Cutting the sorted paths every ``size`` files would shift every later boundary when one
file is added or removed, and a batch's work is reused by its list of paths: one new file
near the start of an archive rebuilt every batch after it. Here, as in content-defined
chunking (rsync, restic), a batch ends after a path whose hash hits a cut point, so a
boundary depends on the path itself, not on its position: adding or removing a file
changes its own batch and now and then a neighbour (when the minimum or maximum size moves
a cut); every batch further on keeps its paths, and its work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

MAX_BATCH_FACTOR = 4  # a batch is cut at this many times the mean size regardless


def batch_bounds(size: int) -> tuple[int, int, int]:
    """(least size before a cut is taken, hash modulus, greatest size) for a mean ``size``.

    A cut point is taken only past the least size (no tiny batches), then one path in
    ``modulus`` cuts, so batches hold ``least + modulus`` = ``size`` paths on average; a
    run without cut points is cut at the greatest size (rare: about e**-3.75 of batches).
    """
    size = max(1, size)
    least = max(1, size // 4)
    return least, max(1, size - least), MAX_BATCH_FACTOR * size


def is_cut_point(path: str, modulus: int) -> bool:
    """Whether a batch ends after ``path``: its sha256 (not Python's salted hash) hits 0."""
    digest = hashlib.sha256(path.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % modulus == 0


def content_defined_batches(paths: Sequence[str], size: int) -> list[list[str]]:
    """``paths`` in order, in consecutive batches of ``size`` paths on average."""
    least, modulus, greatest = batch_bounds(size)
    batches: list[list[str]] = []
    current: list[str] = []
    for path in paths:
        current.append(path)
        if len(current) >= greatest or (len(current) >= least and is_cut_point(path, modulus)):
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    return batches
