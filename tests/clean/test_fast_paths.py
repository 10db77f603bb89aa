"""The faster formulations in pipeline.clean find exactly what the plain ones they replaced
found (the plain ones are written out here as the reference)."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.clean import markup, sentences
from pipeline.clean.boilerplate import (
    is_chrome_line,
    line_key,
    normal_key,
    normal_words,
    short_line_key,
)
from pipeline.clean.passages import normalised_hash
from pipeline.clean.sentences import sentence_bounds
from pipeline.dedup import exact
from pipeline.dedup.features import SHINGLES, dedup_features
from pipeline.dedup.minhash import MinHashParams, permutations, shingle_hashes, shingle_set

# Characters that stress the rules: spaces of every kind, line breaks, markers, case
# folding that changes length (ß, İ), non-ASCII letters and digits, controls, underscores.
_CHARS = st.sampled_from(
    [
        *"aZ09_-.!?#*>+)\"'([]$ \t\n\r\x00\x01\x0b\x1f",
        *"\u00a0\u2003\u200a\u3000\u2028\u202f\u00df\u0130\u212a\u00e9\u0301\u0663\u00b2",
        *"\u201c\u2019\u2022",
        "- ",
        "1. ",
        "## ",
        "> ",
        "word",
        "Mr.",
        "U.S.",
    ]
)
_TEXT = st.lists(_CHARS, max_size=60).map("".join)

_OLD_KEY_RE = re.compile(r"[\W_]+")
_OLD_SPACE_RE = re.compile(rf"[\s{markup._SPACE_CHARS}\x00]+")
_OLD_LATER_MARKER_RE = re.compile(r"(?<=\n)" + markup._LINE_MARKER)
_OLD_CONTROL_RE = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]+")
_OLD_BOUNDARY_RE = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9$])")


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_normal_words_are_the_regex_word_runs(text: str) -> None:
    assert normal_words(text) == re.findall(r"[^\W_]+", text.casefold())
    old_key = _OLD_KEY_RE.sub(" ", text.casefold()).strip()
    assert normal_key(text) == line_key(text) == old_key
    assert normalised_hash(text) == normalised_hash(old_key)


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.lists(_TEXT, max_size=4))
def test_repeated_lines_are_found_as_by_their_whole_key(line: str, others: list[str]) -> None:
    """Chrome detection keys only the lines short enough to be a repeated key."""
    stripped = line.strip().strip("\x00").strip()
    repeated = frozenset([line_key(line), *map(line_key, others)])
    for keys in (repeated, repeated - {line_key(line)}, frozenset(map(line_key, others))):
        plain = bool(keys) and bool(stripped) and line_key(stripped) in keys
        if not plain:  # a line can still be chrome by the genre's patterns and phrases
            assert is_chrome_line(line, keys) == is_chrome_line(line)
        else:
            assert is_chrome_line(line, keys)


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.integers(0, 70), st.integers(0, 70))
def test_space_runs_are_the_runs_that_are_not_one_plain_space(
    text: str, start: int, end: int
) -> None:
    old = [m.span() for m in _OLD_SPACE_RE.finditer(text, start, end) if m.group() != " "]
    assert [m.span() for m in markup._SPACE_RUN_RE.finditer(text, start, end)] == old


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.integers(0, 70), st.integers(0, 70))
def test_line_markers_and_controls_match_the_lookbehind_patterns(
    text: str, start: int, end: int
) -> None:
    first = markup._LINE_MARKER_RE.match(text, start, end)
    old = ([first.span()] if first else []) + [
        m.span() for m in _OLD_LATER_MARKER_RE.finditer(text, start, end)
    ]
    assert [(e.start, e.end) for e in markup._line_markers(text, start, end)] == old
    controls = [m.span() for m in markup._CONTROL_RE.finditer(text, start, end)]
    assert controls == [m.span() for m in _OLD_CONTROL_RE.finditer(text, start, end)]


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.integers(0, 70), st.integers(0, 70))
def test_character_edits_skip_only_rules_that_cannot_match(text: str, start: int, end: int) -> None:
    hyphens = [m.span() for m in markup._HYPHEN_WRAP_RE.finditer(text, start, end)]
    entities = [m.span() for m in markup._ENTITY_RE.finditer(text, start, end)]
    spans = {(e.start, e.end, e.priority) for e in markup._characters(text, start, end)}
    assert {(s, e, 4) for s, e in hyphens} <= spans
    assert {(s, e, 4) for s, e in entities} <= spans


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_sentence_boundaries_match_the_lookbehind_pattern(text: str) -> None:
    new = [m.span(1) for m in sentences._BOUNDARY_RE.finditer(text)]
    assert new == [m.span() for m in _OLD_BOUNDARY_RE.finditer(text)]


def test_sentence_bounds_are_cached_but_never_shared() -> None:
    text = "First one. Second one! Third."
    bounds = sentence_bounds(text)
    expected = list(bounds)
    bounds.clear()  # a caller's changes do not reach the cache
    assert sentence_bounds(text) == expected == [(0, 10), (11, 22), (23, 29)]


@settings(max_examples=100, deadline=None)
@given(st.lists(_TEXT, max_size=6))
def test_dedup_features_are_the_exact_keys_and_signatures(texts: list[str]) -> None:
    ids = [f"d{i}" for i in range(len(texts) + 1)]  # the last one has no passages
    documents = pa.table({"doc_id": ids, "content_sha256": [f"sha{i}" for i in ids]})
    rows = [
        (d, n, t)
        for d, text in zip(ids, texts, strict=False)
        for n, t in enumerate([text, text[::-1]])
    ]
    rows.reverse()  # passages out of order: the features order them by ordinal
    passages = pa.table(
        {
            "passage_id": [f"{d}-{n}" for d, n, _ in rows],
            "doc_id": [d for d, _, _ in rows],
            "ordinal": pa.array([n for _, n, _ in rows], pa.int64()),
            "text": [t for _, _, t in rows],
            "text_sha256": ["" for _ in rows],
        }
    )
    features = dedup_features(documents, passages)
    docs, psgs = documents.to_pandas(), passages.to_pandas()
    assert features.column("exact_key").to_pylist() == exact.document_keys(docs, psgs).tolist()
    joined = exact.document_texts(docs, psgs).tolist()
    old_words = [re.findall(r"[^\W_]+", t.casefold()) for t in joined]
    assert [list(map(int, shingle_hashes(t, 2))) for t in joined] == [
        list(map(int, shingle_hashes(" ".join(w), 2))) for w in old_words
    ]
    params = MinHashParams()
    a, b = permutations(params)
    expected = np.full((len(joined), params.perms), np.iinfo(np.uint32).max, dtype=np.uint32)
    for row, text in enumerate(joined):
        shingles = shingle_hashes(text, params.shingle)
        if len(shingles):  # every hash function at once, the minimum's high half
            lowest = (np.multiply.outer(a, shingles) + b[:, None]).min(axis=1) >> np.uint64(32)
            expected[row] = lowest.astype(np.uint32)
    flat = features.column("signature").combine_chunks().flatten().to_numpy()
    assert (flat.reshape(-1, params.perms) == expected).all()
    kept = features.column(SHINGLES).to_pylist()
    assert kept == [shingle_set(t, params.shingle).tolist() for t in joined]


@settings(max_examples=400)
@given(
    st.lists(
        st.sampled_from([*"a_-. \t\u00a0\u0345\u00df\u0130", "word", "U.S."]), max_size=40
    ).map("".join),
    st.integers(0, 6),
)
def test_short_line_key_is_the_key_of_a_short_line(text: str, max_words: int) -> None:
    """The early exit for lines known long never drops a key with max_words words or fewer
    (U+0345 is no letter but casefolds to one)."""
    key = line_key(text)
    assert short_line_key(text, max_words) == (key if len(key.split()) <= max_words else None)
