"""What dedup needs of each document, computed per batch where the document is read.

A document's exact-duplicate key, MinHash signature and shingle set depend on its own
passages only, so the batch workers compute them (in parallel, and kept with the batch so
a rerun does not recompute them for unchanged documents); assembly then only bands the
signatures and compares the candidates' kept shingle sets (at 100,000 documents, making
the 80,000 candidates' sets again took dedup about 45 s of its 75).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa

from pipeline.clean.boilerplate import normal_words
from pipeline.dedup.minhash import U32, MinHashParams, hash_signatures, word_shingle_hashes

SHINGLES = "shingles"  # a document's sorted distinct shingle hashes (``shingle_set``)
FEATURE_COLUMNS = ("doc_id", "exact_key", "signature", SHINGLES)
# Parquet dictionaries for the id columns only: signatures and shingle hashes are random
# numbers, which a dictionary only slows (a rerun reads, filters and writes every batch's
# features again: 0.12 s a batch with them, 0.05 s without, files of 2.3 and 5.0 MB).
FEATURE_WRITE_OPTIONS = {"use_dictionary": ["doc_id", "exact_key"]}


def dedup_features(
    documents: pa.Table, passages: pa.Table, params: MinHashParams | None = None
) -> pa.Table:
    """doc_id, exact-duplicate key, MinHash signature and shingle set of every document
    of a batch (``FEATURE_COLUMNS``).

    The same keys as ``exact.document_keys``, signatures as ``minhash.signatures`` and sets
    as ``minhash.shingle_set`` over ``exact.document_texts``, with each document's text
    split into words and shingled once for all three (and without the round trip through
    pandas).
    """
    params = params or MinHashParams()
    doc_ids = documents.column("doc_id").to_pylist()
    texts = _document_texts(passages)
    tokens = [normal_words(texts[d]) if d in texts else [] for d in doc_ids]
    keys = [
        hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()
        if d in texts
        # no passages: only byte-identical files are the same document
        else hashlib.sha256(str(content).encode()).hexdigest()
        for d, words, content in zip(
            doc_ids, tokens, documents.column("content_sha256").to_pylist(), strict=True
        )
    ]
    hashes = [word_shingle_hashes(t, params.shingle) for t in tokens]
    sigs = hash_signatures(hashes, params)
    sets = [np.unique(h) for h in hashes]
    return pa.table(
        {
            "doc_id": pa.array(doc_ids, pa.string()),
            "exact_key": pa.array(keys, pa.string()),
            "signature": pa.FixedSizeListArray.from_arrays(
                pa.array(sigs.reshape(-1), pa.uint32()), params.perms
            ),
            SHINGLES: pa.ListArray.from_arrays(
                pa.array(np.cumsum([0, *map(len, sets)]), pa.int32()),
                pa.array(np.concatenate([np.empty(0, np.uint64), *sets]), pa.uint64()),
            ),
        }
    )


def _document_texts(passages: pa.Table) -> dict[str, str]:
    """doc_id -> its passage texts joined by a space in ordinal order (as
    ``exact.document_texts``), for the documents that have passages."""
    parts: dict[str, list[tuple[int, str]]] = {}
    columns = [passages.column(c).to_pylist() for c in ("doc_id", "ordinal", "text")]
    for doc, ordinal, text in zip(*columns, strict=True):
        parts.setdefault(doc, []).append((ordinal, text))
    return {doc: " ".join(t for _, t in sorted(found)) for doc, found in parts.items()}


def aligned(features: pa.Table, doc_ids: list[str], perms: int) -> tuple[list[str], U32]:
    """Keys and an (n, perms) signature matrix in the order of ``doc_ids``."""
    row_of = {d: i for i, d in enumerate(features.column("doc_id").to_pylist())}
    missing = [d for d in doc_ids if d not in row_of]
    if missing:
        raise ValueError(f"dedup features missing for {len(missing)} document(s): {missing[:3]}")
    order = np.array([row_of[d] for d in doc_ids], dtype=np.int64)
    keys = features.column("exact_key").to_pylist()
    flat = features.column("signature").combine_chunks().flatten().to_numpy()
    matrix = flat.reshape(-1, perms) if len(flat) else np.empty((0, perms), np.uint32)
    return [keys[i] for i in order], matrix[order].astype(np.uint32)
