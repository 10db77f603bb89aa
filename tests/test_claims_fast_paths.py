"""The faster formulations in pipeline.claims give exactly what the plain ones they
replaced gave (the plain ones are written out here as the reference): the same floats,
bit for bit, where a sum decides a threshold or an order, and equal output tables."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import claims, leaders
from pipeline.claims import (
    SIMILARITY_THRESHOLD,
    Fact,
    build_claims,
    content_terms,
    entity_document_counts,
    fact_terms,
    group_facts,
    idf_weights,
    prefix_terms,
    value_key,
)
from pipeline.ids import short_hash
from pipeline.schemas import CLAIM_KINDS, TABLES, batch_schema, to_arrow, with_columns
from tests.claims_reference import plain_groups, plain_weight

Row = dict[str, Any]

# A small vocabulary, so that sentences share terms, with stopwords, numbers and words
# whose stems collide (celebrate/celebrations).
_WORDS = [
    *["the", "of", "in", "and", "embassy", "peru", "celebrate", "celebrations", "navy"],
    *["diplomatic", "relations", "200", "3,200", "nine", "helicopters", "vessels", "lima"],
    *["grant", "program", "scholarships", "2026", "may", "fund", "u.s.", "a", "trade"],
]
_SENTENCE = st.lists(st.sampled_from(_WORDS), max_size=12).map(" ".join)
_QUOTE = st.sampled_from(["2026", "May 2026", "nine", "$500 million", "200", "millions"])
_TERM_SETS = st.frozensets(st.sampled_from([w[:6] for w in _WORDS] + ["x", "y"]), max_size=14)
# idf values with ties and an idf lacking terms (their weight is 1.0)
_IDF = st.dictionaries(
    st.sampled_from([w[:6] for w in _WORDS]),
    st.sampled_from([1.0, 1.5, 2.0, 0.1 + 0.2, 1 / 3, 2.718281828459045, 3.25, 7.0]),
)


def _plain_prefix(terms: frozenset[str], idf: Mapping[str, float]) -> list[str]:
    total = plain_weight(terms, idf)
    rest = total
    prefix = []
    for term in sorted(terms, key=lambda t: (-idf.get(t, 1.0), t)):
        if rest < SIMILARITY_THRESHOLD * total - 1e-9:
            break
        prefix.append(term)
        rest -= idf.get(term, 1.0)
    return prefix


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0.01, 20.0), max_size=30), st.randoms(use_true_random=False))
def test_weights_do_not_depend_on_the_order_of_the_terms(
    weights: list[float], rng: random.Random
) -> None:
    # A term set iterates in an order set by the process's hash seed: the weight (and so
    # every claim) must be the same whatever the order.
    idf = {f"t{i}": w for i, w in enumerate(weights)}
    terms = list(idf)
    shuffled = rng.sample(terms, len(terms))
    assert claims._weight(terms, idf).hex() == claims._weight(shuffled, idf).hex()


@settings(max_examples=300, deadline=None)
@given(_TERM_SETS, _IDF)
def test_weights_are_the_exact_sums_bit_for_bit(
    terms: frozenset[str], idf: dict[str, float]
) -> None:
    got, expected = claims._weight(terms, idf), plain_weight(terms, idf)
    assert (type(got), float(got).hex()) == (type(expected), float(expected).hex())


@settings(max_examples=300, deadline=None)
@given(_TERM_SETS, _IDF)
def test_prefixes_are_the_plain_loop(terms: frozenset[str], idf: dict[str, float]) -> None:
    expected = _plain_prefix(terms, idf)
    assert prefix_terms(terms, idf) == expected
    # the compiled grouping's: terms by number (rarest first), the same subtractions
    ranks = claims._rarity_ranks({t: idf.get(t, 1.0) for t in [*idf, *terms]})
    ordered = sorted(terms, key=ranks.__getitem__)
    weights = np.array([idf.get(t, 1.0) for t in ordered], np.float64)
    total = leaders.fsum(weights, len(weights), np.empty(len(weights) + 1))
    assert ordered[: leaders.prefix_length(weights, total, SIMILARITY_THRESHOLD)] == expected


# finite floats over many magnitudes, with cancellations and ties: where a plain sum errs
_FLOATS = st.lists(
    st.one_of(
        st.floats(-1e16, 1e16, allow_nan=False, allow_infinity=False),
        st.sampled_from([1e-16, 1.0, 1e16, -1e16, 0.1, 0.2, 0.3, -0.0, 2.0**-1074]),
    ),
    max_size=40,
)


@settings(max_examples=500, deadline=None)
@given(_FLOATS, st.randoms(use_true_random=False))
def test_the_compiled_fsum_is_math_fsum_bit_for_bit(
    values: list[float], rng: random.Random
) -> None:
    got = leaders.fsum(np.array(values, np.float64), len(values), np.empty(len(values) + 1))
    assert got.hex() == math.fsum(values).hex()
    shuffled = rng.sample(values, len(values))
    again = leaders.fsum(np.array(shuffled, np.float64), len(values), np.empty(len(values) + 1))
    assert again.hex() == got.hex()


def _fact(kind: str, n: int, doc: str, sentence: str, quote: str, value: str) -> Fact:
    bucket = value if kind != "dates" else value[:4]
    terms = content_terms(sentence, quote)
    return Fact(kind, f"f{n:03d}", doc, doc, doc, 0, value, bucket, None, quote, sentence, terms)


_FACTS = st.lists(
    st.tuples(
        st.sampled_from(["dates", "quantities"]),
        st.sampled_from(["d0", "d1", "d2", "d3"]),
        _SENTENCE,
        _QUOTE,
        st.sampled_from(["2026", "2026-05", "2026-05-02", "FY2026", "?spring"]),
    ),
    max_size=40,
).map(lambda rows: [_fact(k, n, d, s, q, v) for n, (k, d, s, q, v) in enumerate(rows)])


@settings(max_examples=200, deadline=None)
@given(_FACTS)
def test_grouping_is_the_plain_leader_clustering(facts: list[Fact]) -> None:
    idf = idf_weights(facts)
    assert group_facts(facts, idf) == plain_groups(facts, idf)


# --- build_claims against the plain formulation -------------------------------------------


def _plain_terms_by_fact(table: pa.Table) -> dict[str, frozenset[str]]:
    ids = table.column("fact_id").to_pylist()
    return {
        f: frozenset(tuple(t)) for f, t in zip(ids, table.column("terms").to_pylist(), strict=True)
    }


def _plain_load_facts(
    kind: str, table: pa.Table, canonical: Mapping[str, str], known: Mapping[str, Any]
) -> list[tuple[int, Fact]]:
    """The table's facts sorted by fact_id (stable), each with its row."""
    facts = []
    terms_of: dict[tuple[str, str], frozenset[str]] = {}
    for row in table.to_pylist():
        value, bucket = value_key(kind, row)
        key = (row["sentence"], row["quote"])
        terms = known.get(row["fact_id"]) or terms_of.get(key)
        if terms is None:
            terms = terms_of[key] = content_terms(*key)
        doc = row["doc_id"]
        facts.append(
            Fact(
                kind,
                row["fact_id"],
                doc,
                canonical.get(doc, doc),
                row["source_path"],
                row["char_start"],
                value,
                bucket,
                row.get("period"),
                row["quote"],
                row["sentence"],
                terms,
            )
        )
    return sorted(enumerate(facts), key=lambda pair: pair[1].fact_id)


def _plain_idf(facts: Sequence[Fact]) -> dict[str, float]:
    sentences = {(f.sentence, f.terms) for f in facts}
    df: Counter[str] = Counter()
    for _sentence, terms in sentences:
        df.update(terms)
    n = len(sentences)
    return {t: math.log((1 + n) / (1 + k)) + 1.0 for t, k in df.items()}


def _plain_build_claims(tables: Mapping[str, pa.Table], terms: pa.Table | None) -> dict[str, Any]:
    docs = tables["documents"].to_pylist()
    canonical = {d["doc_id"]: d["duplicate_of"] or d["doc_id"] for d in docs}
    published = {d["doc_id"]: d["published_date"] for d in docs}
    known = _plain_terms_by_fact(terms) if terms is not None else {}
    loaded = {k: _plain_load_facts(k, tables[k], canonical, known) for k in CLAIM_KINDS}
    by_kind = {k: [fact for _row, fact in pairs] for k, pairs in loaded.items()}
    idf = _plain_idf([f for facts in by_kind.values() for f in facts])
    rows: list[Row] = []
    # each row's claim is the one holding that row, also where a fact_id repeats
    claim_ids: dict[str, list[str]] = {}
    for kind, facts in by_kind.items():
        claim_ids[kind] = [""] * len(facts)
        for group in plain_groups(facts, idf):
            members = [facts[i] for i in group]
            rep = min(
                members,
                key=lambda f: (f.doc_id != f.canonical, -len(f.value), f.source_path, f.char_start),
            )
            claim_id = "clm_" + short_hash("claim", rep.kind, rep.value, rep.fact_id, length=20)
            dates = sorted(d for d in (published.get(f.doc_id) for f in members) if d)
            rows.append(
                {
                    "claim_id": claim_id,
                    "kind": rep.kind,
                    "value": rep.value,
                    "period": rep.period,
                    "quote": rep.quote,
                    "sentence": rep.sentence,
                    "n_facts": len(members),
                    "n_documents": len({f.doc_id for f in members}),
                    "n_independent_sources": len({f.canonical for f in members}),
                    "first_published": dates[0] if dates else None,
                    "latest_published": dates[-1] if dates else None,
                    "doc_ids": sorted({f.doc_id for f in members}),
                    "fact_ids": sorted(f.fact_id for f in members),
                }
            )
            for i in group:
                claim_ids[kind][loaded[kind][i][0]] = claim_id
    out = {}
    for kind in CLAIM_KINDS:
        out[kind] = with_columns(kind, tables[kind], {"claim_id": claim_ids[kind]})
    ids = tables["entities"].column("entity_id").to_pylist()
    mentions: dict[str, set[str]] = {}
    for entity, doc in zip(ids, tables["entities"].column("doc_id").to_pylist(), strict=True):
        mentions.setdefault(entity, set()).add(doc)
    counts = [len(mentions[e]) for e in ids]
    out["entities"] = with_columns("entities", tables["entities"], {"n_documents": counts})
    out["claims"] = to_arrow("claims", sorted(rows, key=lambda r: str(r["claim_id"])))
    return out


_DOCS = ["d0", "d1", "d2", "d3", "d4"]
_FACT_ROW = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(CLAIM_KINDS),
        "doc": st.sampled_from(_DOCS),
        "sentence": _SENTENCE,
        "quote": _QUOTE,
        "char_start": st.integers(0, 3),
        "amount": st.sampled_from([None, 0.0, -0.0, 5e8, 500000000.0, 1 / 3]),
        "currency": st.sampled_from([None, "USD", "PEN"]),
        "period": st.sampled_from([None, "2015", "annual"]),
        "value": st.sampled_from([9.0, 9.0, 200.0, -0.0, 0.0]),
        "unit": st.sampled_from([None, "helicopters", "Helicopter", "vessels"]),
        "iso": st.sampled_from([None, "2026", "2026-05", "2026-05-02", "2026-06", "FY2026"]),
        "dup_id": st.integers(0, 30),  # a few fact_ids repeat (within and across kinds)
    }
)


def _fact_table(kind: str, rows: list[Row], chunks: int) -> pa.Table:
    schema = batch_schema(kind)
    full = []
    for n, r in enumerate(rows):
        row: Row = {f.name: None for f in schema}
        fact_id = f"f{r['dup_id']}" if r["dup_id"] < 2 else f"{kind}_{n:03d}"
        row.update(
            fact_id=fact_id,
            doc_id=r["doc"],
            source_path=f"{r['doc']}.txt",
            char_start=r["char_start"],
            char_end=r["char_start"] + len(r["quote"]),
            quote=r["quote"],
            passage_id="p",
            sentence=r["sentence"],
            extractor="test",
            precision="year",
            basis="explicit",
            value=r["value"],
        )
        row.update({k: r[k] for k in ("amount", "currency", "period", "unit", "iso")})
        full.append({k: v for k, v in row.items() if k in schema.names})
    table = to_arrow(kind, full, batch=True)
    # several chunks, as assembly concatenates batches
    step = max(1, -(-table.num_rows // chunks))
    parts = [table.slice(i, step) for i in range(0, table.num_rows, step)]
    return pa.concat_tables([schema.empty_table(), *parts])


def _tables(rows: list[Row], copies: dict[str, str], dates: list[str | None], chunks: int) -> Any:
    documents = pa.table(
        {
            "doc_id": _DOCS,
            "published_date": dates,
            "duplicate_of": [copies.get(d) for d in _DOCS],
        }
    )
    entities = TABLES["entities"].schema
    entity_rows = [
        {"fact_id": f"e{n}", "doc_id": r["doc"], "entity_id": f"ety_{r['quote'][:2]}"}
        for n, r in enumerate(rows)
    ]
    entity_table = pa.table(
        {
            f.name: pa.array([row.get(f.name, "x") for row in entity_rows], f.type)
            if f.type == pa.string()
            else pa.array([0] * len(entity_rows), f.type)
            for f in entities
            if f.name != "n_documents"
        }
    )
    out = {"documents": documents, "entities": entity_table}
    for kind in CLAIM_KINDS:
        out[kind] = _fact_table(kind, [r for r in rows if r["kind"] == kind], chunks)
    return out


def _edit_terms(terms: pa.Table, edits: list[tuple[int, int]]) -> pa.Table:
    """fact_terms with rows dropped, emptied, made stale or repeated (the last one counts);
    its value keys kept (a dropped row leaves a fact without them) unless edit 4 drops
    the columns (an older batch's file)."""
    ids = terms.column("fact_id").to_pylist()
    lists = terms.column("terms").to_pylist()
    keys = list(
        zip(*(terms.column(c).to_pylist() for c in ("kind", "value", "bucket")), strict=True)
    )
    keyed = True
    for row, edit in edits:
        if not ids:
            break
        row %= len(ids)
        if edit == 0:
            del ids[row], lists[row], keys[row]
        elif edit == 1:
            lists[row] = []
        elif edit == 2:
            lists[row] = ["stale", *lists[row]]
        elif edit == 3:
            ids.append(ids[row])
            lists.append(sorted({"again", *lists[row]}))
            keys.append(keys[row])
        else:
            keyed = False
    columns = {
        "fact_id": pa.array(ids, pa.string()),
        "terms": pa.array(lists, pa.list_(pa.string())),
    }
    if keyed:
        for n, name in enumerate(("kind", "value", "bucket")):
            columns[name] = pa.array([key[n] for key in keys], pa.string())
    return pa.table(columns)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(_FACT_ROW, max_size=40),
    st.dictionaries(st.sampled_from(_DOCS[1:]), st.sampled_from(_DOCS[:2]), max_size=2),
    st.lists(st.sampled_from([None, "2024", "2024-05-09", "2013"]), min_size=5, max_size=5),
    st.integers(1, 4),
    st.sampled_from(["none", "given", "edited"]),
    st.lists(st.tuples(st.integers(0, 99), st.integers(0, 4)), max_size=6),
)
def test_build_claims_equals_the_plain_formulation(
    rows: list[Row],
    copies: dict[str, str],
    dates: list[str | None],
    chunks: int,
    terms_mode: str,
    edits: list[tuple[int, int]],
) -> None:
    copies = {d: o for d, o in copies.items() if d != o}
    tables = _tables(rows, copies, dates, chunks)
    terms = None if terms_mode == "none" else fact_terms(tables)
    if terms is not None and terms_mode == "edited":
        terms = _edit_terms(terms, edits)
    got = build_claims(tables, terms)
    expected = _plain_build_claims(tables, terms)
    assert sorted(got) == sorted(expected)
    for name, table in expected.items():
        assert got[name].schema == table.schema, name
        assert got[name].equals(table), name


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", None]), st.sampled_from(["x", "y", None])),
        max_size=20,
    ),
    st.integers(1, 3),
)
def test_entity_document_counts_are_the_plain_counts(
    pairs: list[tuple[str | None, str | None]], chunks: int
) -> None:
    entity_ids = [e for e, _d in pairs]
    doc_ids = [d for _e, d in pairs]
    step = max(1, -(-len(pairs) // chunks))
    table = pa.table(
        {
            "entity_id": pa.chunked_array(
                [entity_ids[i : i + step] for i in range(0, len(pairs), step)], pa.string()
            ),
            "doc_id": pa.chunked_array(
                [doc_ids[i : i + step] for i in range(0, len(pairs), step)], pa.string()
            ),
        }
    )
    mentions: dict[str | None, set[str | None]] = {}
    for entity, doc in pairs:
        mentions.setdefault(entity, set()).add(doc)
    assert entity_document_counts(table) == [len(mentions[e]) for e in entity_ids]


@settings(max_examples=200, deadline=None)
@given(st.lists(_FACT_ROW, max_size=40), st.integers(1, 4))
def test_corpus_idf_is_the_plain_idf(rows: list[Row], chunks: int) -> None:
    tables = _tables(rows, {}, [None] * len(_DOCS), chunks)
    canonical = {d: d for d in _DOCS}
    facts = [claims._load_facts(k, tables[k], canonical, None) for k in CLAIM_KINDS]
    plain = [f for k in CLAIM_KINDS for _row, f in _plain_load_facts(k, tables[k], canonical, {})]
    sentences = claims.sentence_numbers(tables[k].column("sentence") for k in CLAIM_KINDS)
    assert claims._corpus_idf(facts, sentences) == _plain_idf(plain)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c"])), max_size=6)))
def test_sentence_numbers_are_equal_exactly_for_equal_sentences(
    chunks: list[list[str | None]],
) -> None:
    # two columns, each of several chunks: one numbering across all of them
    columns = [
        pa.chunked_array([pa.array(c, pa.string()) for c in chunks[side::2]], pa.string())
        for side in (0, 1)
    ]
    sentences = [s for column in columns for s in column.to_pylist()]
    numbers = claims.sentence_numbers(columns).tolist()
    assert len(numbers) == len(sentences)
    for a, b in zip(sentences, numbers, strict=True):
        for c, d in zip(sentences, numbers, strict=True):
            assert (a == c) == (b == d)


@settings(max_examples=100, deadline=None)
@given(_FACTS, st.integers(0, 2**32))
def test_grouping_with_an_idf_lacking_terms_weighs_them_one(facts: list[Fact], seed: int) -> None:
    idf = idf_weights(facts)
    rng = random.Random(seed)
    lacking = {t: w for t, w in idf.items() if rng.random() < 0.5}  # the rest weigh 1.0
    assert group_facts(facts, lacking) == plain_groups(facts, lacking)


_TERM_LISTS = st.lists(
    st.one_of(
        st.none(),
        st.lists(st.sampled_from(["navy", "peru", "b", "a", "2026", "", "é"]), max_size=4),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TERM_LISTS, max_size=4))
def test_term_tuples_are_the_sorted_lists(chunks: list[list[list[str] | None]]) -> None:
    """Per row: its list sorted (a null or empty one: no terms), whatever the chunking;
    equal lists (as fact_terms writes them, sorted) one tuple, each term one string."""
    column = pa.chunked_array(chunks, pa.list_(pa.string()))
    got = claims._term_tuples(column)
    rows = [row for chunk in chunks for row in chunk]
    assert got == [tuple(sorted(row or [])) for row in rows]
    tuples: dict[tuple[str, ...], int] = {}
    terms: dict[str, int] = {}
    for row, found in zip(rows, got, strict=True):
        if row == sorted(row or []):
            assert tuples.setdefault(found, id(found)) == id(found)
        assert all(terms.setdefault(t, id(t)) == id(t) for t in found)
