from __future__ import annotations

import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.build import build_tables
from pipeline.dedup.exact import (
    MIN_PASSAGE_CHARS,
    mark_exact_duplicates,
    passage_canonicals,
    passage_pairs,
)
from pipeline.ingest.readers import parse_document

BODY = (
    "The United States and Peru agreed to expand cooperation on trade and security "
    "during the visit of the two delegations."
)


def test_exact_copies_point_at_the_canonical_copy_and_nothing_is_removed() -> None:
    items = [
        parse_document("b.txt", f"Search form\n\n{BODY}\n".encode()),
        parse_document("a.txt", f"{BODY.upper()}\n".encode()),
        parse_document("c.md", f"---\ndate: '2020-01-02'\n---\n{BODY}\n".encode()),
        parse_document("d.txt", b"Something else entirely, with another long sentence here."),
    ]
    tables = build_tables(items)
    documents, passages, duplicates = mark_exact_duplicates(tables["documents"], tables["passages"])
    docs = documents.to_pandas().set_index("source_path")
    canonical = docs.loc["c.md", "doc_id"]  # richest metadata: has a published date
    assert docs.loc["a.txt", "duplicate_of"] == canonical
    assert docs.loc["b.txt", "duplicate_of"] == canonical
    assert docs["duplicate_of"].isna().tolist() == [False, False, True, True]
    assert set(docs.loc[["a.txt", "b.txt"], "duplicate_kind"]) == {"exact"}
    assert len(documents) == 4 and len(passages) == tables["passages"].num_rows
    dup = duplicates.to_pandas()
    assert sorted(dup["level"]) == ["document", "document", "passage", "passage"]
    assert set(dup["similarity"]) == {1.0}


_PASSAGE = st.tuples(
    st.sampled_from(["d0", "d1", "d2", "d3"]),  # doc_id
    st.integers(0, 5),  # ordinal
    st.sampled_from(["k0", "k1", "k2", None]),  # text_sha256
    st.integers(0, 80),  # text_chars
)


def _reference_canonicals(
    rows: list[tuple[str, int, str | None, int]], rank: dict[str, int]
) -> list[str | None]:
    """Plainly: among long enough passages of one key, every one but the best ranked
    (document rank, then ordinal) copies the best ranked."""
    ids = [f"{doc}/{ordinal}" for doc, ordinal, _, _ in rows]
    eligible = [key is not None and chars >= MIN_PASSAGE_CHARS for _, _, key, chars in rows]
    best: dict[str | None, int] = {}
    for i, (doc, ordinal, key, _) in enumerate(rows):
        j = best.get(key)
        if eligible[i] and (j is None or (rank[doc], ordinal) < (rank[rows[j][0]], rows[j][1])):
            best[key] = i
    return [
        ids[best[key]] if eligible[i] and best[key] != i else None
        for i, (_, _, key, _) in enumerate(rows)
    ]


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(_PASSAGE, max_size=30, unique_by=lambda r: (r[0], r[1])),
    order=st.permutations(["d0", "d1", "d2", "d3"]),
    chunk=st.integers(1, 7),
)
def test_passage_canonicals_are_the_best_ranked_passage_of_each_text(
    rows: list[tuple[str, int, str | None, int]], order: list[str], chunk: int
) -> None:
    rank = {doc: at for at, doc in enumerate(order)}
    columns = list(zip(*rows, strict=True)) if rows else [[], [], [], []]
    table = pa.table(
        {
            "passage_id": [f"{doc}/{ordinal}" for doc, ordinal, _, _ in rows],
            "doc_id": pa.array(columns[0], pa.string()),
            "ordinal": pa.array(columns[1], pa.int64()),
            "text_sha256": pa.array(columns[2], pa.string()),
            "text_chars": pa.array(columns[3], pa.int64()),
        }
    )
    table = pa.Table.from_batches(table.to_batches(max_chunksize=chunk), table.schema)
    found = passage_canonicals(table, pd.Series(rank.values(), index=list(rank)))
    assert found.to_pylist() == _reference_canonicals(rows, rank)
    assert passage_pairs(table, pd.Series(rank.values(), index=list(rank))) == {
        i: c
        for i, c in zip(table.column("passage_id").to_pylist(), found.to_pylist(), strict=True)
        if c
    }
