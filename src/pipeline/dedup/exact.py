"""Exact duplicates of documents and passages: same normalised cleaned text.

Nothing is removed: duplicates keep their rows and point at a canonical copy.
Canonical copy: richest metadata (published date, source URL, title), then the
earliest published, then path order.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import pyarrow as pa

from pipeline.clean.passages import normalised_hash
from pipeline.schemas import TABLES

METHOD = "sha256 of normalised cleaned text"
# Passages shorter than this (headings, one-word lines) are not worth pairing.
MIN_PASSAGE_CHARS = 40


def canonical_order(documents: pd.DataFrame) -> pd.Series:
    """Rank of each document (lower is more canonical), indexed by doc_id."""
    richness = documents[["published_date", "source_url", "title"]].notna().sum(axis=1)
    ranked = documents.assign(
        _richness=-richness, _published=documents["published_date"].fillna("9999")
    )
    ranked = ranked.sort_values(["_richness", "_published", "source_path"], kind="stable")
    return pd.Series(range(len(ranked)), index=ranked["doc_id"].to_numpy())


def mark_exact_duplicates(
    documents: pa.Table, passages: pa.Table
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """documents and passages with duplicate_of filled, plus the duplicates rows."""
    docs = documents.to_pandas()
    psgs = passages.to_pandas()
    rank = canonical_order(docs)
    doc_pairs = _document_pairs(docs, psgs, rank)
    psg_pairs = _passage_pairs(psgs, rank)
    docs["duplicate_of"] = docs["doc_id"].map(doc_pairs)
    docs["duplicate_kind"] = docs["duplicate_of"].map(lambda v: None if pd.isna(v) else "exact")
    psgs["duplicate_of"] = psgs["passage_id"].map(psg_pairs)
    rows = [("document", a, b) for a, b in sorted(doc_pairs.items())]
    rows += [("passage", a, b) for a, b in sorted(psg_pairs.items())]
    duplicates = pd.DataFrame(
        {
            "level": [r[0] for r in rows],
            "id": [r[1] for r in rows],
            "duplicate_of": [r[2] for r in rows],
            "kind": ["exact"] * len(rows),
            "similarity": [1.0] * len(rows),
            "method": [METHOD] * len(rows),
        }
    )
    return (
        _to_table("documents", docs),
        _to_table("passages", psgs),
        _to_table("duplicates", duplicates),
    )


def document_texts(docs: pd.DataFrame, psgs: pd.DataFrame) -> pd.Series:
    """Each document's cleaned passage texts joined in order ("" without passages), by row."""
    ordered = psgs.sort_values(["doc_id", "ordinal"])
    joined = ordered.groupby("doc_id", sort=False)["text"].agg(" ".join)
    return docs["doc_id"].map(joined).fillna("")


def document_keys(docs: pd.DataFrame, psgs: pd.DataFrame) -> pd.Series:
    """Exact-duplicate key of each document (by row): hash of its normalised cleaned text."""
    has_text = docs["doc_id"].isin(psgs["doc_id"])
    by_text = document_texts(docs, psgs).map(normalised_hash)
    # no passages: only byte-identical files are the same document
    by_bytes = docs["content_sha256"].map(lambda h: hashlib.sha256(h.encode()).hexdigest())
    return by_text.where(has_text, by_bytes)


def _document_pairs(docs: pd.DataFrame, psgs: pd.DataFrame, rank: pd.Series) -> dict[str, str]:
    frame = pd.DataFrame({"id": docs["doc_id"], "key": document_keys(docs, psgs)})
    frame["rank"] = frame["id"].map(rank)
    return _pairs(frame)


def passage_pairs(psgs: pd.DataFrame, rank: pd.Series) -> dict[str, str]:
    """passage_id -> canonical passage_id for passages with equal normalised text."""
    return _passage_pairs(psgs, rank)


def _passage_pairs(psgs: pd.DataFrame, rank: pd.Series) -> dict[str, str]:
    # text_chars (when given) spares the caller converting every passage text to pandas
    lengths = psgs["text_chars"] if "text_chars" in psgs else psgs["text"].str.len()
    long_enough = psgs[lengths >= MIN_PASSAGE_CHARS]
    if long_enough.empty:  # mapping an empty column gives strings, not ranks
        return {}
    frame = pd.DataFrame(
        {
            "id": long_enough["passage_id"],
            "key": long_enough["text_sha256"],
            "rank": long_enough["doc_id"].map(rank) * 1_000_000 + long_enough["ordinal"],
        }
    )
    return _pairs(frame)


def _pairs(frame: pd.DataFrame) -> dict[str, str]:
    """id -> canonical id for every id that shares its key with a better-ranked one."""
    ordered = frame.sort_values(["key", "rank"], kind="stable")
    canonical = ordered.groupby("key")["id"].transform("first")
    is_copy = ordered["id"] != canonical
    return dict(zip(ordered.loc[is_copy, "id"], canonical[is_copy], strict=True))


def to_table(name: str, frame: pd.DataFrame) -> pa.Table:
    """``frame`` as an Arrow table with exactly the declared schema of table ``name``."""
    return _to_table(name, frame)


def _to_table(name: str, frame: pd.DataFrame) -> pa.Table:
    schema = TABLES[name].schema
    frame = frame[[f.name for f in schema]]
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    return table.replace_schema_metadata(schema.metadata)  # without pandas' own metadata
