"""Exact and near duplicates of documents, exact duplicates of passages.

A document's text is its cleaned passages joined in order. Two documents are exact duplicates
when their normalised texts hash alike (``exact.document_keys``) and near duplicates when the
Jaccard similarity of their word-shingle sets reaches the threshold (found with MinHash and LSH,
``minhash.near_pairs``). Pairs are joined into groups with union-find, so copies of copies land
in one group, and every other member points at the group's canonical copy: the first by
``exact.canonical_order`` (richest metadata: published date, source URL, title; then earliest
published; then path order).

A member whose text equals the canonical copy's is ``exact`` (similarity 1.0); otherwise it is
``near``, with its own Jaccard similarity to the canonical copy. That can be below the threshold
when it joined the group through another member (A ~ B ~ C); the method says so. Nothing is
deleted: duplicates keep their rows, and their facts stay in the fact tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.dedup import exact
from pipeline.dedup.features import aligned, dedup_features
from pipeline.dedup.minhash import (
    I64,
    U64,
    MinHashParams,
    NearPairs,
    ShingleSets,
    jaccard,
    near_pairs,
    near_pairs_from,
)
from pipeline.schemas import empty_table, with_columns


@dataclass(frozen=True)
class Duplicate:
    """One document marked as a copy: indexes into the input sequences."""

    index: int
    canonical: int
    kind: str  # "exact" or "near"
    similarity: float


def union_find(n: int, left: I64, right: I64) -> I64:
    """Group label (the smallest member index) of each of ``n`` items joined by the pairs."""
    parent = np.arange(n, dtype=np.int64)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # path halving keeps the trees flat
            i = int(parent[i])
        return i

    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([root(i) for i in range(n)], dtype=np.int64)


def exact_links(keys: Sequence[str]) -> tuple[I64, I64]:
    """Pairs (first index with a key, each later index with the same key)."""
    first: dict[str, int] = {}
    left: list[int] = []
    right: list[int] = []
    for i, key in enumerate(keys):
        if key in first:
            left.append(first[key])
            right.append(i)
        else:
            first[key] = i
    return np.array(left, dtype=np.int64), np.array(right, dtype=np.int64)


def find_duplicates(
    texts: Sequence[str] | TextSource,
    keys: Sequence[str],
    rank: Sequence[int],
    params: MinHashParams | None = None,
    near: NearPairs | None = None,
    shingles: ShingleSets | None = None,
) -> list[Duplicate]:
    """Every non-canonical member of a group of exact or near copies, by index.

    ``keys`` are exact-duplicate keys, ``rank`` orders the canonical choice (lower wins);
    ``near`` lets a caller that already ran ``near_pairs`` over ``texts`` pass its result,
    and ``shingles`` the shingle sets it kept.
    """
    params = params or MinHashParams()
    if shingles is None:
        shingles = ShingleSets(texts.__getitem__, params.shingle)
    if near is None:
        near = near_pairs([texts[i] for i in range(len(keys))], params)
    ex_left, ex_right = exact_links(keys)
    groups = union_find(
        len(keys), np.concatenate([ex_left, near.left]), np.concatenate([ex_right, near.right])
    )
    found: list[Duplicate] = []
    for members in _groups(groups):
        canonical = min(members, key=lambda i: rank[i])
        for i in members:
            if i != canonical:
                found.append(_duplicate(i, canonical, shingles, keys))
    return sorted(found, key=lambda d: d.index)


class DocumentTexts:
    """Each document's passage texts joined in order, fetched on demand.

    Dedup reads texts only for documents that look like copies; building every text up
    front would hold a second copy of the corpus in memory.
    """

    def __init__(self, passages: pa.Table, doc_ids: Sequence[str]) -> None:
        # The passages' order, not a sorted copy of their texts (the size of the corpus).
        order = pc.sort_indices(
            passages.select(["doc_id", "ordinal"]),
            sort_keys=[("doc_id", "ascending"), ("ordinal", "ascending")],
        )
        # Runs of one doc_id in the sorted column (a hash aggregation would not keep order).
        ids = passages.column("doc_id").take(order).to_numpy(zero_copy_only=False)
        starts = np.flatnonzero(ids[1:] != ids[:-1]) + 1 if len(ids) else np.empty(0, np.int64)
        bounds = [0, *starts.tolist(), len(ids)]
        self._span = {str(ids[a]): (a, b) for a, b in pairwise(bounds) if b > a}
        self._order = order.to_numpy()
        # Texts are read one by one from their chunks: taking from a chunked column
        # concatenates its chunks first, a copy of every text per document fetched.
        self._chunks = passages.column("text").chunks
        self._chunk_starts = np.cumsum([0, *(len(c) for c in self._chunks)])
        self._ids = list(doc_ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, index: int) -> str:
        start, end = self._span.get(self._ids[index], (0, 0))
        return " ".join(map(self._text, self._order[start:end].tolist()))

    def read(self, indexes: Sequence[int]) -> Iterator[tuple[int, str]]:
        return ((i, self[i]) for i in indexes)

    def _text(self, row: int) -> str:
        chunk = int(np.searchsorted(self._chunk_starts, row, side="right")) - 1
        text: str = self._chunks[chunk][row - int(self._chunk_starts[chunk])].as_py()
        return text


def _groups(labels: I64) -> list[list[int]]:
    """Indexes grouped by label, groups of two or more only."""
    order = np.argsort(labels, kind="stable")
    cuts = np.flatnonzero(np.diff(labels[order]) != 0) + 1
    return [part.tolist() for part in np.split(order, cuts) if len(part) > 1]


def _duplicate(i: int, canonical: int, shingles: ShingleSets, keys: Sequence[str]) -> Duplicate:
    if keys[i] == keys[canonical]:  # exact wins over near for the same pair
        return Duplicate(i, canonical, "exact", 1.0)
    return Duplicate(i, canonical, "near", jaccard(shingles[i], shingles[canonical]))


class TextSource(Protocol):
    """Each document's text by index (see ``DocumentTexts``), and many in one pass."""

    def __getitem__(self, index: int) -> str: ...

    def read(self, indexes: Sequence[int]) -> Iterable[tuple[int, str]]: ...


@dataclass(frozen=True)
class DuplicateMarks:
    """What dedup decided, aligned with the rows it was given.

    ``duplicate_of`` and ``duplicate_kind`` follow the documents' rows, ``passage_duplicate_of``
    the passages' rows; ``duplicates`` is the duplicates table.
    """

    duplicate_of: list[str | None]
    duplicate_kind: list[str | None]
    passage_duplicate_of: list[str | None]
    duplicates: pa.Table


def mark_duplicates(
    documents: pa.Table,
    passages: pa.Table,
    params: MinHashParams | None = None,
    features: pa.Table | None = None,
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """documents and passages with duplicate_of filled, plus the duplicates rows.

    Same contract as ``exact.mark_exact_duplicates``, with near duplicates of documents too.
    ``features``: the documents' ``dedup_features`` when the batches computed them.
    """
    params = params or MinHashParams()
    if documents.num_rows == 0:  # pandas cannot rank an empty frame of arrow strings
        return documents, passages, empty_table("duplicates")
    if features is None:
        features = dedup_features(documents, passages, params)
    texts = DocumentTexts(passages, documents.column("doc_id").to_pylist())
    marks = duplicate_marks(
        documents.select(DOCUMENT_COLUMNS), passage_keys(passages), texts, features, params
    )
    documents = with_columns(
        "documents",
        documents,
        {"duplicate_of": marks.duplicate_of, "duplicate_kind": marks.duplicate_kind},
    )
    passages = with_columns("passages", passages, {"duplicate_of": marks.passage_duplicate_of})
    return documents, passages, marks.duplicates


def passage_keys(passages: pa.Table) -> pa.Table:
    """The passage columns dedup reads (``PASSAGE_COLUMNS``): no texts, their lengths."""
    return passages.select(PASSAGE_COLUMNS[:-1]).append_column(
        "text_chars", pc.utf8_length(passages.column("text"))
    )


def duplicate_marks(
    documents: pa.Table,
    passages: pa.Table,
    texts: TextSource,
    features: pa.Table,
    params: MinHashParams | None = None,
    *,
    kept: Callable[[Sequence[int]], Iterable[tuple[int, U64]]] | None = None,
) -> DuplicateMarks:
    """``mark_duplicates``' decisions from the columns it reads.

    ``documents``: ``DOCUMENT_COLUMNS``; ``passages``: ``PASSAGE_COLUMNS`` (see
    ``passage_keys``); ``texts``: the documents' texts in the order of ``documents``;
    ``kept``: their shingle sets where already made (``ShingleSets``), by the same index.
    """
    params = params or MinHashParams()
    if documents.num_rows == 0:  # pandas cannot rank an empty frame of arrow strings
        nothing: list[str | None] = [None] * passages.num_rows
        return DuplicateMarks([], [], nothing, empty_table("duplicates"))
    docs = documents.select(DOCUMENT_COLUMNS).to_pandas()
    rank = exact.canonical_order(docs)
    ids = docs["doc_id"].tolist()
    keys, sigs = aligned(features, ids, params.perms)
    shingles = ShingleSets(texts.__getitem__, params.shingle, read=texts.read, kept=kept)
    near = near_pairs_from(sigs, texts.__getitem__, params, shingles)
    ranks = docs["doc_id"].map(rank).tolist()
    duplicates = find_duplicates(texts, keys, ranks, params, near, shingles)
    del shingles, near  # the candidates' shingle sets: 480 MB at 100,000 documents
    duplicate_of: list[str | None] = [None] * len(ids)
    kinds: list[str | None] = [None] * len(ids)
    for dup in duplicates:
        duplicate_of[dup.index], kinds[dup.index] = ids[dup.canonical], dup.kind
    passage_canonicals = exact.passage_canonicals(passages, rank)
    passage_copy_of: list[str | None] = passage_canonicals.to_pylist()
    psg_pairs = exact.copy_pairs(passages.column("passage_id"), passage_canonicals)
    rows = [_document_row(ids, d, params) for d in sorted(duplicates, key=lambda d: ids[d.index])]
    rows += [_row("passage", a, b, "exact", 1.0, exact.METHOD) for a, b in sorted(psg_pairs)]
    table = pd.DataFrame(
        rows, columns=["level", "id", "duplicate_of", "kind", "similarity", "method"]
    )
    return DuplicateMarks(duplicate_of, kinds, passage_copy_of, exact.to_table("duplicates", table))


DOCUMENT_COLUMNS = [
    "doc_id",
    "source_path",
    "content_sha256",
    "published_date",
    "source_url",
    "title",
]
PASSAGE_COLUMNS = ["passage_id", "doc_id", "ordinal", "text_sha256", "text_chars"]


def near_method(params: MinHashParams) -> str:
    return f"{params.describe()}; groups joined by union-find, similarity to the canonical copy"


def _document_row(ids: Sequence[str], dup: Duplicate, params: MinHashParams) -> dict[str, object]:
    method = exact.METHOD if dup.kind == "exact" else near_method(params)
    return _row("document", ids[dup.index], ids[dup.canonical], dup.kind, dup.similarity, method)


def _row(
    level: str, id_: str, of: str, kind: str, similarity: float, method: str
) -> dict[str, object]:
    return {
        "level": level,
        "id": id_,
        "duplicate_of": of,
        "kind": kind,
        "similarity": similarity,
        "method": method,
    }
