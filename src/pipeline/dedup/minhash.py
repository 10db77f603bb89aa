"""Near duplicates: MinHash signatures over word shingles, LSH banding, exact Jaccard check.

Text is normalised the way ``normalised_hash`` does it: casefolded and split into runs of
letters and digits, so punctuation, quote style and spacing are ignored. A shingle is ``k``
consecutive words (a document shorter than ``k`` words is one shingle). Words are hashed with
CRC-32 (stable across processes, unlike ``hash``), shingles by a multiply-add of their word
hashes and a 64-bit mixer.

MinHash: ``perms`` hash functions ``h(x) = (a*x + b) mod 2**64 >> 32`` (multiply-shift, ``a``
odd, drawn from ``numpy.random.default_rng(seed)``); a signature holds each function's minimum
over the document's shingles, computed for many documents at once with
``numpy.minimum.reduceat``. The chance that two signatures agree at one position is the
Jaccard similarity ``s`` of the shingle sets.

LSH banding: the signature is cut into ``bands`` bands of ``rows`` rows; two documents are a
candidate pair when any band is identical. Each band is hashed to one 64-bit key and sorted, so
equal keys sit next to each other: the cost is ``O(N log N)`` per band plus the pairs inside
buckets, never a loop over all pairs of documents. The chance a pair becomes a candidate is

    P(candidate | s) = 1 - (1 - s**rows) ** bands

With the defaults (2-word shingles, 128 permutations = 32 bands x 4 rows, threshold 0.4):

    s       0.05     0.1     0.2    0.3    0.4    0.5    0.6    0.7     0.8
    P       0.0002   0.0032  0.05   0.23   0.56   0.87   0.988  0.9998  1.0

The curve's midpoint ``(1/bands) ** (1/rows)`` is 0.42, at the threshold: pairs at 0.4 are
found 56 % of the time, at 0.5 87 %, at 0.6 or more almost always; unrelated texts of one genre
(``s`` of 0.02-0.1) rarely become candidates. Every candidate is then confirmed by the exact
Jaccard similarity of its two shingle sets, so LSH costs recall, never precision (candidates
whose MinHash estimate is more than ``ESTIMATE_MARGIN`` below the threshold are dropped
first, to spare building their shingle sets). A lower midpoint (more bands of fewer rows)
would find more pairs near 0.4 but make candidates of the many genre pairs at 0.05-0.1.

Why these values: an edit touches up to ``k`` shingles, so short shingles keep an edited copy
similar: with 2-word shingles a copy with a quarter of its words substituted, deleted or
inserted still has a Jaccard near 0.4-0.5 (3-word shingles: near 0.3). Unrelated documents
stay far below: the seeds' distinct documents, all on U.S.-Peru relations, share 3-5 % of
their 2-word shingles, the two scrapes of one statement 98 %. On the benchmark corpus
(``pipeline bench dedup``) 2-word shingles at 0.4 found 93 % of planted copies, 3-word
shingles at 0.5 61 % (none above 20 % edits), both with precision 1.0. 128 permutations is the
usual size (standard error of the estimate ``sqrt(s(1-s)/128)``, at most 0.044).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import numpy as np
import numpy.typing as npt

from pipeline.clean.boilerplate import normal_words

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

# odd 64-bit constants (from splitmix64) for combining word hashes into shingle hashes
_MULTIPLIERS = np.array(
    [
        *(0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93),
        *(0xA0761D6478BD642F, 0xE7037ED1A0B428DB, 0x8EBC6AF09C88C6E3, 0x589965CC75374CC3),
    ],
    dtype=np.uint64,
)
_EMPTY = np.iinfo(np.uint32).max
# buckets larger than this (boilerplate shared by many texts) pair every member with the first
# only, so one popular band cannot make the candidate count quadratic
MAX_BUCKET = 50
# Candidates whose MinHash estimate is this far below the threshold skip the exact check: the
# estimate's standard error is at most 0.044 at 128 perms, so a pair at the threshold falls
# 0.15 (3.4 errors) below it about 3 times in 10,000; unrelated pairs of one genre that share a
# band (LSH lets through 0.3 % of pairs at s = 0.1) are dropped without building shingle sets.
ESTIMATE_MARGIN = 0.15
# shingles hashed per numpy step, and hash functions per step over them: the
# (functions x shingles) temporary stays ~4 MB, small enough for the CPU cache (all 128
# functions at once made a 64 MB temporary and ran 3x slower)
_CHUNK = 1 << 16
_PERMS_PER_STEP = 8


@dataclass(frozen=True)
class MinHashParams:
    shingle: int = 2
    bands: int = 32
    rows: int = 4
    threshold: float = 0.4
    seed: int = 1

    @property
    def perms(self) -> int:
        return self.bands * self.rows

    def describe(self) -> str:
        return (
            f"minhash {self.shingle}-word shingles, {self.perms} perms, "
            f"{self.bands}x{self.rows} bands, jaccard >= {self.threshold}"
        )

    def candidate_probability(self, similarity: float) -> float:
        """P(candidate | s) = 1 - (1 - s**rows) ** bands."""
        return float(1.0 - (1.0 - similarity**self.rows) ** self.bands)


@dataclass(frozen=True)
class NearPairs:
    """Confirmed pairs ``left[i] < right[i]`` (indexes into the texts) and their Jaccard."""

    left: I64
    right: I64
    similarity: F64

    def __len__(self) -> int:
        return len(self.left)


def words(text: str) -> list[str]:
    """Casefolded runs of letters and digits: punctuation, quotes and spacing dropped."""
    return normal_words(text)


@lru_cache(maxsize=1 << 18)
def _word_hash(word: str) -> int:
    return zlib.crc32(word.encode("utf-8"))


def shingle_hashes(text: str, k: int) -> U64:
    """64-bit hashes of the ``k``-word shingles of ``text`` (with repeats, in order)."""
    return word_shingle_hashes(words(text), k)


def word_shingle_hashes(tokens: Sequence[str], k: int) -> U64:
    """``shingle_hashes`` of a text already split by ``words``."""
    if not tokens:
        return np.empty(0, dtype=np.uint64)
    hashed = np.fromiter(map(_word_hash, tokens), dtype=np.uint64, count=len(tokens))
    width = min(k, len(hashed))
    count = len(hashed) - width + 1
    combined = np.zeros(count, dtype=np.uint64)
    for i in range(width):
        combined += hashed[i : i + count] * _MULTIPLIERS[i % len(_MULTIPLIERS)]
    return _mix(combined)


def shingle_set(text: str, k: int) -> U64:
    """Sorted distinct shingle hashes: the set the Jaccard similarity is taken over."""
    return np.unique(shingle_hashes(text, k))


def jaccard(a: U64, b: U64) -> float:
    """Jaccard similarity of two sorted distinct arrays (1.0 for two empty ones)."""
    union = len(a) + len(b)
    if union == 0:
        return 1.0
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / (union - common)


def permutations(params: MinHashParams) -> tuple[U64, U64]:
    """The ``a`` (odd) and ``b`` of each hash function: fixed by ``params.seed``."""
    rng = np.random.default_rng(params.seed)
    high = np.iinfo(np.uint64).max
    a = rng.integers(1, high, size=params.perms, dtype=np.uint64, endpoint=True) | np.uint64(1)
    b = rng.integers(0, high, size=params.perms, dtype=np.uint64, endpoint=True)
    return a, b


def signatures(texts: Sequence[str], params: MinHashParams) -> U32:
    """(len(texts), perms) MinHash signatures; a text without words gets all-max values."""
    return word_signatures([words(text) for text in texts], params)


def word_signatures(token_lists: Sequence[Sequence[str]], params: MinHashParams) -> U32:
    """``signatures`` of texts already split by ``words``."""
    return hash_signatures([word_shingle_hashes(t, params.shingle) for t in token_lists], params)


def hash_signatures(shingle_lists: Sequence[U64], params: MinHashParams) -> U32:
    """``signatures`` of texts given their ``shingle_hashes``."""
    a, b = permutations(params)
    out = np.full((len(shingle_lists), params.perms), _EMPTY, dtype=np.uint32)
    batch: list[U64] = []
    rows: list[int] = []
    size = 0
    for row, hashes in enumerate(shingle_lists):
        if len(hashes) == 0:
            continue
        batch.append(hashes)
        rows.append(row)
        size += len(hashes)
        if size >= _CHUNK:
            _fill(out, rows, batch, a, b)
            batch, rows, size = [], [], 0
    if batch:
        _fill(out, rows, batch, a, b)
    return out


def _fill(out: U32, rows: list[int], batch: list[U64], a: U64, b: U64) -> None:
    """Minimum of every hash function over each text's shingles, many texts per numpy step."""
    shingles = np.concatenate(batch)
    starts = np.cumsum([0] + [len(h) for h in batch[:-1]])
    lowest = np.empty((len(a), len(batch)), dtype=np.uint64)
    for i in range(0, len(a), _PERMS_PER_STEP):
        step = slice(i, i + _PERMS_PER_STEP)
        # (perms, shingles): each reduceat segment is then contiguous, 3x faster than the
        # transpose
        hashed = np.multiply.outer(a[step], shingles)
        hashed += b[step, None]
        lowest[step] = np.minimum.reduceat(hashed, starts, axis=1)
    # min before the shift: the high half of the minimum is the minimum of the high halves
    lowest >>= np.uint64(32)
    out[rows] = lowest.T.astype(np.uint32)


def candidate_pairs(sigs: U32, params: MinHashParams) -> I64:
    """(n, 2) distinct index pairs ``i < j`` that agree on at least one band."""
    usable = np.flatnonzero((sigs != _EMPTY).any(axis=1))
    found: list[I64] = [np.empty((0, 2), dtype=np.int64)]
    for band in range(params.bands):
        block = sigs[usable, band * params.rows : (band + 1) * params.rows].astype(np.uint64)
        keys = np.zeros(len(usable), dtype=np.uint64)
        for j in range(params.rows):
            keys += block[:, j] * _MULTIPLIERS[j % len(_MULTIPLIERS)]
        found.append(_bucket_pairs(usable, _mix(keys)))
    pairs = np.concatenate(found)
    pairs.sort(axis=1)
    return np.unique(pairs, axis=0)


def _bucket_pairs(ids: I64, keys: U64) -> I64:
    """Pairs of ``ids`` whose ``keys`` are equal, found by sorting (no all-pairs loop)."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    boundaries = np.flatnonzero(np.diff(ordered) != 0) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(ordered)]))
    sizes = ends - starts
    members = ids[order]
    twos = starts[sizes == 2]  # the common case, done in one step
    pairs = [np.stack([members[twos], members[twos + 1]], axis=1)]
    for start, end in zip(starts[sizes > 2], ends[sizes > 2], strict=True):
        bucket = members[start:end]
        if len(bucket) > MAX_BUCKET:
            pairs.append(np.stack([np.full(len(bucket) - 1, bucket[0]), bucket[1:]], axis=1))
        else:
            pairs.append(np.array(list(combinations(bucket.tolist(), 2)), dtype=np.int64))
    return np.concatenate(pairs).astype(np.int64)


def near_pairs(texts: Sequence[str], params: MinHashParams | None = None) -> NearPairs:
    """Pairs of texts whose shingle sets have Jaccard >= threshold, found through LSH."""
    params = params or MinHashParams()
    return near_pairs_from(signatures(texts, params), texts.__getitem__, params)


class ShingleSets:
    """Each text's ``shingle_set`` by index, computed on demand and kept; the texts are not
    (a set is about the size of its text, and the texts are needed for nothing else).

    ``read``, when given, reads many texts in one pass (texts kept in files): ``prefetch``
    hands it every index whose set is not known yet. ``kept``, when given, gives the sets
    it has of many indexes (made where the texts were read, see ``dedup.features``):
    only the texts of the others are read and shingled.
    """

    def __init__(
        self,
        text_of: Callable[[int], str],
        k: int,
        read: Callable[[Sequence[int]], Iterable[tuple[int, str]]] | None = None,
        kept: Callable[[Sequence[int]], Iterable[tuple[int, U64]]] | None = None,
    ) -> None:
        self._text_of = text_of
        self._k = k
        self._read = read
        self._kept = kept
        self._sets: dict[int, U64] = {}

    def __getitem__(self, index: int) -> U64:
        found = self._sets.get(index)
        if found is None and self._kept is not None:
            self._sets.update(self._kept([index]))
            found = self._sets.get(index)
        if found is None:
            found = self._sets[index] = shingle_set(self._text_of(index), self._k)
        return found

    def prefetch(self, indexes: Iterable[int]) -> None:
        missing = [i for i in indexes if i not in self._sets]
        if self._kept is not None:
            self._sets.update(self._kept(missing))
            missing = [i for i in missing if i not in self._sets]
        if self._read is None:
            return
        for index, text in self._read(missing):
            self._sets[index] = shingle_set(text, self._k)


def near_pairs_from(
    sigs: U32,
    text_of: Callable[[int], str],
    params: MinHashParams | None = None,
    shingles: ShingleSets | None = None,
) -> NearPairs:
    """``near_pairs`` given the signatures: only candidate texts are fetched and shingled.

    ``shingles``: where the candidates' shingle sets are taken from and kept (a caller
    that needs them again passes its own); every candidate is prefetched first.
    """
    params = params or MinHashParams()
    candidates = _likely(sigs, candidate_pairs(sigs, params), params.threshold - ESTIMATE_MARGIN)
    if shingles is None:
        shingles = ShingleSets(text_of, params.shingle)
    shingles.prefetch(np.unique(candidates).tolist())
    similarity = np.array(
        [jaccard(shingles[i], shingles[j]) for i, j in candidates.tolist()],
        dtype=np.float64,
    )
    keep = similarity >= params.threshold
    return NearPairs(
        candidates[keep, 0].copy(), candidates[keep, 1].copy(), similarity[keep].copy()
    )


def estimates(sigs: U32, pairs: I64) -> F64:
    """MinHash estimate of each pair's Jaccard: the share of signature positions that agree."""
    out = np.empty(len(pairs), dtype=np.float64)
    for start in range(0, len(pairs), _CHUNK):  # bounds the (pairs x perms) temporaries
        part = pairs[start : start + _CHUNK]
        out[start : start + len(part)] = (sigs[part[:, 0]] == sigs[part[:, 1]]).mean(axis=1)
    return out


def _likely(sigs: U32, pairs: I64, floor: float) -> I64:
    """The candidate pairs whose estimated similarity is at least ``floor``."""
    return pairs[estimates(sigs, pairs) >= floor]


def _mix(x: U64) -> U64:
    """splitmix64 finaliser: spreads every input bit over the whole 64-bit word."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))
