"""Content-defined batches: nothing lost or reordered, bounded sizes, local changes."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.batching import (
    LARGEST_DEFAULT_SIZE,
    SMALLEST_DEFAULT_SIZE,
    batch_bounds,
    content_defined_batches,
    default_batch_size,
)
from pipeline.stages import largest_first

_NAMES = st.lists(
    st.text(alphabet="abcdefghij-0123456789", min_size=1, max_size=12), max_size=400, unique=True
)


@settings(max_examples=200, deadline=None)
@given(paths=_NAMES, size=st.integers(1, 40))
def test_batches_hold_every_path_in_order_within_the_bounds(paths: list[str], size: int) -> None:
    batches = content_defined_batches(sorted(paths), size)
    assert [p for batch in batches for p in batch] == sorted(paths)
    least, _modulus, greatest = batch_bounds(size)
    assert all(1 <= len(batch) <= greatest for batch in batches)
    assert all(len(batch) >= least for batch in batches[:-1])


def _changed(before: list[list[str]], after: list[list[str]]) -> int:
    """Batches of ``after`` that are not batches of ``before``: the ones rebuilt."""
    kept = {tuple(batch) for batch in before}
    return sum(tuple(batch) not in kept for batch in after)


@settings(max_examples=200, deadline=None)
@given(
    paths=st.lists(
        st.text(alphabet="abcdefghij", min_size=3, max_size=8), min_size=80, unique=True
    ),
    extra=st.text(alphabet="abcdefghij", min_size=1, max_size=8),
)
def test_adding_or_removing_a_file_rebuilds_its_batch_and_at_most_two_neighbours(
    paths: list[str], extra: str
) -> None:
    size = 10
    before = content_defined_batches(sorted(set(paths) - {extra}), size)
    after = content_defined_batches(sorted(set(paths) | {extra}), size)
    _least, _modulus, greatest = batch_bounds(size)
    if any(len(batch) == greatest for batch in before + after):
        return  # a cut forced by the greatest size moves with positions: not content-defined
    assert _changed(before, after) <= 3
    assert _changed(after, before) <= 3


def test_one_file_added_early_leaves_the_later_batches_of_an_archive_as_they_were() -> None:
    paths = [f"statements/{i:06d}.md" for i in range(20_000)]
    before = content_defined_batches(paths, 500)
    after = content_defined_batches(sorted([*paths, "statements/000010-bis.md"]), 500)
    assert 30 <= len(before) <= 50  # 500 on average
    assert _changed(before, after) == 1
    # cut every 500 paths, the same file would have shifted every batch after it
    fixed = [paths[i : i + 500] for i in range(0, len(paths), 500)]
    shifted = sorted([*paths, "statements/000010-bis.md"])
    assert _changed(fixed, [shifted[i : i + 500] for i in range(0, len(shifted), 500)]) == 41


def test_batches_are_handed_out_largest_first() -> None:
    batches = [["a"], ["b", "c", "d"], ["e", "f"], ["g", "h", "i"]]
    assert largest_first(batches) == [1, 3, 2, 0]


def test_the_default_size_grows_with_the_corpus_by_doubling_up_to_its_largest() -> None:
    assert [default_batch_size(n) for n in (0, 1_000, 31_999, 32_000, 63_999, 64_000)] == [
        500,
        500,
        500,
        1_000,
        1_000,
        2_000,
    ]
    assert default_batch_size(10**7) == LARGEST_DEFAULT_SIZE
    # every default size leaves at least 32 batches, unless it is the smallest or largest
    for n in range(0, 200_000, 997):
        size = default_batch_size(n)
        assert size in (SMALLEST_DEFAULT_SIZE, LARGEST_DEFAULT_SIZE) or n >= 32 * size


def test_a_larger_default_size_cuts_where_a_smaller_one_cuts() -> None:
    # so when a corpus passes a step, new batches begin where old ones began (their kept
    # rows are found by their first path): a cut point of the larger size is one of the
    # smaller size, whose modulus divides the larger one's
    sizes = [500, 1_000, 2_000]
    assert sizes == sorted({default_batch_size(n) for n in range(0, 10**6, 1_000)})
    for small, large in pairwise(sizes):
        assert batch_bounds(large)[1] % batch_bounds(small)[1] == 0
    paths = [f"doc-{i:07d}.txt" for i in range(40_000)]
    small_starts = {batch[0] for batch in content_defined_batches(paths, 500)}
    large_starts = [batch[0] for batch in content_defined_batches(paths, 1_000)]
    shared = sum(start in small_starts for start in large_starts)
    assert shared >= 0.8 * len(large_starts)
