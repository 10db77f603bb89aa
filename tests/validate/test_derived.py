"""Helper columns computed per document give what the plain whole-column versions gave."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.validate.derived import (
    calendar_dates,
    ids_known,
    is_calendar_date,
    quote_matches,
    quote_matches_source,
    span_within_document,
)


def _plain_quote_matches_source(table: pa.Table, documents: pa.Table) -> list[bool]:
    """The formulation replaced: every source text as a Python string, looked up by doc_id."""
    texts = dict(
        zip(
            documents.column("doc_id").to_pylist(),
            documents.column("source_text").to_pylist(),
            strict=True,
        )
    )
    columns = ("quote", "doc_id", "char_start", "char_end")
    rows = zip(*(table.column(c).to_pylist() for c in columns), strict=True)
    return [quote_matches(q, texts.get(d), s, e) for q, d, s, e in rows]


_DOC_IDS = st.sampled_from(["d1", "d2", "d3", None])
_TEXTS = st.one_of(st.none(), st.text(alphabet="ab é\n", max_size=12))
_OFFSETS = st.one_of(st.none(), st.integers(-2, 14))


@settings(max_examples=300, deadline=None)
@given(
    docs=st.lists(st.tuples(_DOC_IDS, _TEXTS), max_size=5),
    facts=st.lists(
        st.tuples(_DOC_IDS, st.text(alphabet="ab é\n", max_size=4), _OFFSETS, _OFFSETS),
        max_size=12,
    ),
    chunks=st.integers(1, 3),
)
def test_quote_check_per_document_is_the_plain_one(
    docs: list[tuple[str | None, str | None]],
    facts: list[tuple[str | None, str, int | None, int | None]],
    chunks: int,
) -> None:
    # doc_ids may repeat or be null, texts null, offsets out of range; documents arrive
    # in several chunks, as a release's row groups do
    documents = pa.table(
        {"doc_id": [d for d, _ in docs], "source_text": [t for _, t in docs]},
        schema=pa.schema([("doc_id", pa.string()), ("source_text", pa.string())]),
    )
    size = max(1, -(-len(docs) // chunks))
    documents = pa.concat_tables(
        [documents.slice(i, size) for i in range(0, len(docs), size)] or [documents]
    )
    table = pa.table(
        {
            "doc_id": pa.array([f[0] for f in facts], pa.string()),
            "quote": pa.array([f[1] for f in facts], pa.string()),
            "char_start": pa.array([f[2] for f in facts], pa.int64()),
            "char_end": pa.array([f[3] for f in facts], pa.int64()),
        }
    )
    expected = _plain_quote_matches_source(table, documents)
    assert quote_matches_source(table, documents).to_pylist() == expected


def test_without_source_texts_no_quote_matches() -> None:
    documents = pa.table({"doc_id": ["d1"]})
    table = pa.table({"doc_id": ["d1"], "quote": [""], "char_start": [0], "char_end": [0]})
    assert quote_matches_source(table, documents).to_pylist() == [False]


def test_a_doc_id_typed_otherwise_than_the_documents_finds_its_document_in_python() -> None:
    documents = pa.table({"doc_id": ["1", "2"], "source_text": ["abc", "xyz"]})
    offsets = {"char_start": [0, 0, 0], "char_end": [1, 1, 1]}
    table = pa.table({"doc_id": [2, 1, 3], "quote": ["x", "a", "q"], **offsets})
    assert quote_matches_source(table, documents).to_pylist() == [False] * 3  # 2 is not "2"
    documents = documents.set_column(0, "doc_id", pa.array([1, 2], pa.int32()))
    assert quote_matches_source(table, documents).to_pylist() == [True, True, False]


_ISO = st.sampled_from(
    ["2026", "2026-05", "2026-05-02", "2026-02-30", "2026-13", "FY2026", "May 2026", "", None]
)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(_ISO, max_size=20), chunks=st.integers(1, 3))
def test_iso_dates_judged_per_distinct_value_are_judged_as_per_row(
    values: list[str | None], chunks: int
) -> None:
    table = pa.table({"iso": _chunked(list(values), chunks, pa.string())})
    assert calendar_dates(table).to_pylist() == [is_calendar_date(v) for v in values]


def test_iso_dates_of_a_malformed_table() -> None:
    assert calendar_dates(pa.table({"x": [1, 2]})).to_pylist() == [True, True]  # no column
    ints = pa.table({"iso": pa.array([2026, None], pa.int64())})
    assert calendar_dates(ints).to_pylist() == [False, True]
    nested = pa.table({"iso": pa.array([[1], None], pa.list_(pa.int64()))})
    assert calendar_dates(nested).to_pylist() == [False, True]


def _chunked(values: list[object], chunks: int, kind: pa.DataType) -> pa.ChunkedArray:
    size = max(1, -(-len(values) // chunks))
    parts = [values[i : i + size] for i in range(0, len(values), size)]
    return pa.chunked_array([pa.array(part, kind) for part in parts], kind)


_IDS = st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "1", ""])), max_size=12)


@settings(max_examples=300, deadline=None)
@given(values=_IDS, known=_IDS, chunks=st.integers(1, 3), numbers=st.booleans())
def test_ids_known_in_arrow_is_the_plain_set_lookup(
    values: list[str | None], known: list[str | None], chunks: int, numbers: bool
) -> None:
    # numbers: a malformed table whose ids are integers ("1" is not 1, as in Python)
    kind = pa.int64() if numbers else pa.string()
    column = [int(v) if numbers and v and v.isdigit() else None if numbers else v for v in values]
    table = pa.table({"id": _chunked(column, chunks, kind)})
    reference = pa.table({"id": _chunked(known, chunks, pa.string())})
    plain = {v for v in known if v is not None}
    expected = [v is not None and v in plain for v in table.column("id").to_pylist()]
    assert ids_known(table, "id", reference, "id").to_pylist() == expected
    assert ids_known(table, "other", reference, "id").to_pylist() == [False] * len(values)


def _plain_span_within_document(table: pa.Table, documents: pa.Table) -> list[bool]:
    """The formulation replaced: a dict of n_chars by doc_id, one row at a time in Python."""
    n_chars = dict(
        zip(documents.column("doc_id").to_pylist(), documents["n_chars"].to_pylist(), strict=True)
    )
    rows = zip(table.column("doc_id").to_pylist(), table["char_end"].to_pylist(), strict=True)
    return [
        isinstance(end, int) and isinstance(n_chars.get(doc), int) and end <= n_chars[doc]
        for doc, end in rows
    ]


@settings(max_examples=300, deadline=None)
@given(
    docs=st.lists(st.tuples(_DOC_IDS, _OFFSETS), max_size=5),
    facts=st.lists(st.tuples(_DOC_IDS, _OFFSETS), max_size=12),
    chunks=st.integers(1, 3),
    ends_as_text=st.booleans(),
)
def test_span_check_in_arrow_is_the_plain_one(
    docs: list[tuple[str | None, int | None]],
    facts: list[tuple[str | None, int | None]],
    chunks: int,
    ends_as_text: bool,
) -> None:
    # repeated and null doc_ids, null numbers; ends_as_text: a malformed table (Python path)
    documents = pa.table(
        {
            "doc_id": _chunked([d for d, _ in docs], chunks, pa.string()),
            "n_chars": _chunked([n for _, n in docs], chunks, pa.int64()),
        }
    )
    ends = [e for _, e in facts]
    table = pa.table(
        {
            "doc_id": _chunked([d for d, _ in facts], chunks, pa.string()),
            "char_end": _chunked([None if e is None else str(e) for e in ends], 1, pa.string())
            if ends_as_text
            else _chunked(ends, chunks, pa.int64()),
        }
    )
    expected = _plain_span_within_document(table, documents)
    assert span_within_document(table, documents).to_pylist() == expected
