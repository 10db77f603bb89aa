from __future__ import annotations

import json
import random
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.bench import bench_dedup
from pipeline.build import build_tables
from pipeline.cli import main
from pipeline.dedup import exact
from pipeline.dedup.features import dedup_features
from pipeline.dedup.minhash import (
    MinHashParams,
    candidate_pairs,
    estimates,
    jaccard,
    near_pairs,
    shingle_set,
    signatures,
)
from pipeline.dedup.near import DocumentTexts, mark_duplicates, union_find
from pipeline.dedup.synthetic import corpus_from
from pipeline.ingest.readers import discover, parse_document, read_inputs
from tests.conftest import SEEDS

PARAMS = MinHashParams()
WORDS = [f"w{i}" for i in range(400)]


@pytest.fixture(scope="module")
def seeds_marked() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    tables = build_tables(list(read_inputs(discover(SEEDS), 10**8)))
    documents, passages, duplicates = mark_duplicates(tables["documents"], tables["passages"])
    assert documents.num_rows == tables["documents"].num_rows  # nothing removed
    assert passages.num_rows == tables["passages"].num_rows
    return documents.to_pandas(), passages.to_pandas(), duplicates.to_pandas()


def _prefix(doc_id: str, docs: pd.DataFrame) -> str:
    return str(docs.set_index("doc_id").loc[doc_id, "source_path"])[:3]


def test_the_seed_pair_is_found_as_near_and_nothing_else(seeds_marked) -> None:  # type: ignore[no-untyped-def]
    docs, _, dup = seeds_marked
    marked = docs[docs["duplicate_of"].notna()]
    assert [p[:3] for p in marked["source_path"]] == ["001"]
    assert _prefix(marked["duplicate_of"].iloc[0], docs) == "000"
    assert marked["duplicate_kind"].tolist() == ["near"]
    rows = dup[dup["level"] == "document"]
    assert len(rows) == 1
    assert rows["kind"].iloc[0] == "near"
    assert 0.9 <= rows["similarity"].iloc[0] < 1.0
    assert "shingles" in rows["method"].iloc[0] and "32x4 bands" in rows["method"].iloc[0]
    paired = {_prefix(i, docs) for i in rows["id"]} | {
        _prefix(i, docs) for i in rows["duplicate_of"]
    }
    assert "002" not in paired and "004" not in paired


def test_passage_duplicates_between_documents_are_recorded(seeds_marked) -> None:  # type: ignore[no-untyped-def]
    _, psgs, dup = seeds_marked
    doc_of = psgs.set_index("passage_id")["doc_id"]
    rows = dup[dup["level"] == "passage"]
    across = rows[rows["id"].map(doc_of) != rows["duplicate_of"].map(doc_of)]
    assert len(across) >= 5  # 001 repeats 000's paragraphs
    assert set(across["kind"]) == {"exact"}
    marked = psgs.set_index("passage_id").loc[across["id"], "duplicate_of"]
    assert marked.tolist() == across["duplicate_of"].tolist()


def _text(rng: random.Random, n: int = 120) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _edit(text: str, rate: float, rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) if rng.random() < rate else w for w in text.split())


def _tables(texts: dict[str, str]) -> tuple[pa.Table, pa.Table]:
    tables = build_tables([parse_document(path, text.encode()) for path, text in texts.items()])
    return tables["documents"], tables["passages"]


def test_copies_of_copies_join_one_group_and_exact_wins() -> None:
    rng = random.Random(3)
    base = _text(rng)
    near = _edit(base, 0.03, rng)
    documents, passages = _tables(
        {
            "a.md": f"---\ndate: '2020-01-02'\n---\n{base}\n",  # canonical: has a date
            "b.txt": near,
            "c.txt": near.upper(),  # exact copy of b, near copy of a
            "d.txt": f"“{base}”",  # exact copy of a
            "e.txt": _text(rng),
        }
    )
    docs, _, dup = (t.to_pandas() for t in mark_duplicates(documents, passages))
    docs = docs.set_index("source_path")
    canonical = docs.loc["a.md", "doc_id"]
    assert docs.loc[["b.txt", "c.txt", "d.txt"], "duplicate_of"].tolist() == [canonical] * 3
    assert docs.loc[["b.txt", "c.txt", "d.txt"], "duplicate_kind"].tolist() == [
        "near",
        "near",
        "exact",
    ]
    assert docs.loc[["a.md", "e.txt"], "duplicate_of"].isna().all()
    sims = dup[dup["level"] == "document"].set_index("id")["similarity"]
    assert sims[docs.loc["d.txt", "doc_id"]] == 1.0
    assert 0.5 <= sims[docs.loc["b.txt", "doc_id"]] < 1.0


def test_no_documents_gives_empty_tables() -> None:
    documents, passages = _tables({})
    docs, psgs, dup = mark_duplicates(documents, passages)
    assert docs.num_rows == psgs.num_rows == dup.num_rows == 0


texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=200).map(" ".join)


@settings(max_examples=40, deadline=None)
@given(texts)
def test_identical_texts_have_similarity_one(text: str) -> None:
    found = near_pairs([text, text.upper().replace(" ", "  ")], PARAMS)
    assert found.left.tolist() == [0] and found.right.tolist() == [1]
    assert found.similarity.tolist() == [1.0]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 200), st.integers(1, 200), st.integers(0, 10**6))
def test_disjoint_texts_are_not_candidates(n: int, m: int, seed: int) -> None:
    rng = random.Random(seed)
    left = " ".join(rng.choice(WORDS[:200]) for _ in range(n))
    right = " ".join(rng.choice(WORDS[200:]) for _ in range(m))
    assert len(candidate_pairs(signatures([left, right], PARAMS), PARAMS)) == 0


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, 0.5), st.integers(0, 10**6))
def test_estimate_is_close_to_the_true_jaccard(rate: float, seed: int) -> None:
    rng = random.Random(seed)
    a = _text(rng, 300)
    b = _edit(a, rate, rng)
    true = jaccard(shingle_set(a, PARAMS.shingle), shingle_set(b, PARAMS.shingle))
    estimate = estimates(signatures([a, b], PARAMS), np.array([[0, 1]]))[0]
    assert abs(estimate - true) < 0.2  # 4.5 standard errors at 128 perms


def test_signatures_are_deterministic_for_a_seed_and_ignore_style() -> None:
    text = "The two Presidents ‘welcomed’ the agreement,   and the trade of 2012."
    same = signatures([text, text.replace("‘", "'").replace("’", "'").lower()], PARAMS)
    assert (same[0] == same[1]).all()
    assert (signatures([text], PARAMS) == same[:1]).all()
    other = signatures([text], MinHashParams(seed=2))
    assert not (other == same[:1]).all()


def test_texts_without_words_are_never_paired() -> None:
    assert len(near_pairs(["", "...", "", "x y z"], PARAMS)) == 0


def test_s_curve_values() -> None:
    assert PARAMS.perms == 128
    assert PARAMS.candidate_probability(0.5) == pytest.approx(0.8732, abs=1e-4)
    assert PARAMS.candidate_probability(0.2) == pytest.approx(0.0500, abs=1e-4)


def test_union_find_groups_transitively() -> None:
    labels = union_find(6, np.array([0, 4, 2]), np.array([3, 5, 3]))
    assert labels.tolist() == [0, 1, 0, 0, 4, 4]


def test_synthetic_corpus_is_deterministic() -> None:
    first = corpus_from(SEEDS, 60, 5)
    assert first == corpus_from(SEEDS, 60, 5)
    assert first.kind.count("exact") == 3 and first.kind.count("near") == 9
    assert max(first.edit_rate) <= 0.3


def test_bench_dedup_finds_planted_copies() -> None:
    report = bench_dedup(SEEDS, docs=400, seed=1)
    assert report["documents"] == 400
    assert report["overall"]["precision"] == 1.0
    assert report["buckets"]["exact"]["recall"] == 1.0
    assert report["buckets"]["near 0-5%"]["recall"] == 1.0


def test_cli_bench_dedup_prints_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "dedup", "--docs", "50", "--seed", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["bench"] == "dedup" and report["documents"] == 50


def test_cli_bench_dedup_rejects_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "dedup", "--docs", "0"]) == 2
    assert main(["bench", "dedup", "--input", "/nonexistent"]) == 2


def test_features_made_per_batch_mark_the_same_duplicates() -> None:
    items = list(read_inputs(discover(SEEDS), 10**8))
    whole = build_tables(items)
    parts = [build_tables(items[:2]), build_tables(items[2:])]
    features = pa.concat_tables([dedup_features(p["documents"], p["passages"]) for p in parts])
    by_batch = mark_duplicates(whole["documents"], whole["passages"], features=features)
    in_place = mark_duplicates(whole["documents"], whole["passages"])
    assert all(a.equals(b) for a, b in zip(by_batch, in_place, strict=True))
    assert by_batch[2].num_rows > 0  # the seeds hold copies: the comparison means something


def test_document_texts_on_demand_equal_the_joined_passages() -> None:
    rng = np.random.default_rng(7)
    rows = [
        {"doc_id": f"doc{d:03d}", "ordinal": o, "text": f"d{d} p{o} " + "w " * int(rng.integers(5))}
        for d in range(60)
        for o in range(int(rng.integers(1, 6)))
    ]
    shuffled = [rows[i] for i in rng.permutation(len(rows))]
    passages = pa.Table.from_pylist(shuffled)
    doc_ids = [f"doc{d:03d}" for d in rng.permutation(62)]  # two documents without passages
    expected = exact.document_texts(
        pd.DataFrame({"doc_id": doc_ids}), passages.to_pandas()
    ).tolist()
    texts = DocumentTexts(passages, doc_ids)
    assert [texts[i] for i in range(len(doc_ids))] == expected


def test_shingle_sets_read_each_text_once_and_keep_no_text() -> None:
    from pipeline.dedup.minhash import ShingleSets, shingle_set

    texts = ["the embassy announced a grant", "the embassy announced a loan", "", "x y z w v"]
    fetched: list[int] = []

    def text_of(i: int) -> str:
        fetched.append(i)
        return texts[i]

    def read(indexes: Sequence[int]) -> list[tuple[int, str]]:
        fetched.extend(indexes)
        return [(i, texts[i]) for i in indexes]

    sets = ShingleSets(text_of, 3, read=read)
    sets.prefetch([0, 2])
    sets.prefetch([0, 1, 2])  # only 1 is new
    assert fetched == [0, 2, 1]
    for i, text in enumerate(texts):
        assert np.array_equal(sets[i], shingle_set(text, 3))
    assert fetched == [0, 2, 1, 3]  # 3 fetched on demand, the others never again


def test_shingle_sets_take_kept_sets_first_and_read_only_the_other_texts() -> None:
    from pipeline.dedup.minhash import ShingleSets, shingle_set

    texts = ["the embassy announced a grant", "the embassy announced a loan", "", "x y z w v"]
    kept = {0: shingle_set(texts[0], 3), 3: shingle_set(texts[3], 3)}
    read_texts: list[int] = []

    def read(indexes: Sequence[int]) -> list[tuple[int, str]]:
        read_texts.extend(indexes)
        return [(i, texts[i]) for i in indexes]

    def text_of(i: int) -> str:
        read_texts.append(i)
        return texts[i]

    def kept_sets(indexes: Sequence[int]) -> list[tuple[int, np.ndarray]]:
        return [(i, kept[i]) for i in indexes if i in kept]

    sets = ShingleSets(text_of, 3, read=read, kept=kept_sets)
    sets.prefetch([0, 1, 2])
    assert read_texts == [1, 2]
    assert sets[0] is kept[0] and sets[3] is kept[3]  # 3 on demand, from the kept ones
    assert read_texts == [1, 2]
    for i, text in enumerate(texts):
        assert np.array_equal(sets[i], shingle_set(text, 3))
