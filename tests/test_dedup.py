from __future__ import annotations

from pipeline.build import build_tables
from pipeline.dedup.exact import mark_exact_duplicates
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
