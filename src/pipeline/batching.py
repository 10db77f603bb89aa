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

# The mean size when none is given (``default_batch_size``).
SMALLEST_DEFAULT_SIZE = 500
LARGEST_DEFAULT_SIZE = 2_000
BATCHES_AT_LEAST = 32  # a default size doubles only while the corpus makes this many batches


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


def default_batch_size(paths: int) -> int:
    """The mean batch size for a corpus of ``paths`` files when none is given: 500, doubled
    while the corpus still makes ``BATCHES_AT_LEAST`` batches of the doubled size, up to
    2,000 (500 below 32,000 files, 1,000 below 64,000, then 2,000).

    A run spends about 0.1 s of task overhead per batch beside its work, so large corpora
    take larger batches (at 100,000 files, 50 batches instead of 200), while small ones
    keep enough batches to share between workers. Sizes double: a cut point of one size
    (hash modulus ``size - size // 4``: 375, 750, 1,500) is one of the smaller size too, so
    when a growing corpus passes a step, most new batches begin where an old one began
    and take over its kept rows (``stages.slot_file``). At most 2,000: a worker holds a
    batch's tables (about 440 MB at 2,000 files of the genre) and a file added to a batch
    re-reads its kept rows.
    """
    size = SMALLEST_DEFAULT_SIZE
    while size * 2 <= LARGEST_DEFAULT_SIZE and paths >= BATCHES_AT_LEAST * size * 2:
        size *= 2
    return size
