"""What dedup needs of each document, computed per batch where the document is read.

A document's exact-duplicate key and MinHash signature depend on its own passages only,
so the batch workers compute them (in parallel, and kept with the batch so a rerun does
not recompute them for unchanged documents); assembly then only bands the signatures.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pipeline.dedup import exact
from pipeline.dedup.minhash import U32, MinHashParams, signatures

_PASSAGE_COLUMNS = ["passage_id", "doc_id", "ordinal", "text", "text_sha256"]
_DOCUMENT_COLUMNS = ["doc_id", "content_sha256"]


def dedup_features(
    documents: pa.Table, passages: pa.Table, params: MinHashParams | None = None
) -> pa.Table:
    """doc_id, exact-duplicate key and MinHash signature of every document of a batch."""
    params = params or MinHashParams()
    docs = documents.select(_DOCUMENT_COLUMNS).to_pandas()
    psgs = passages.select(_PASSAGE_COLUMNS).to_pandas()
    texts = exact.document_texts(docs, psgs).tolist() if len(docs) else []
    keys = exact.document_keys(docs, psgs).tolist() if len(docs) else []
    sigs = signatures(texts, params)
    return pa.table(
        {
            "doc_id": pa.array(docs["doc_id"].tolist(), pa.string()),
            "exact_key": pa.array(keys, pa.string()),
            "signature": pa.FixedSizeListArray.from_arrays(
                pa.array(sigs.reshape(-1), pa.uint32()), params.perms
            ),
        }
    )


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
