"""Claims: the same fact stated by several documents, grouped and counted once."""

from __future__ import annotations

import pickle
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from pipeline import claims
from pipeline.claims import (
    SIMILARITY_THRESHOLD,
    ClaimGroups,
    Fact,
    Load,
    build_claims,
    claim_groups,
    claim_marks,
    content_terms,
    contexts,
    fact_terms,
    group_facts,
    idf_weights,
    similarity,
    value_key,
    values_compatible,
)
from pipeline.plan import make_plan
from pipeline.schemas import CLAIM_KINDS, TABLES, to_arrow
from pipeline.settings import Settings
from pipeline.stages import assemble, count_short_lines, process_batch, repeated_from_counts
from tests.claims_reference import plain_groups
from tests.conftest import SEEDS

Row = dict[str, Any]

BICENTENNIAL_A = (
    "The United States and Peru will celebrate 200 years of diplomatic relations in 2026, "
    "which will mark two centuries of strong ties."
)
BICENTENNIAL_B = (
    "Peru and the United States created a bilateral working group to organize celebrations "
    "in honor of our 200th Anniversary of diplomatic relations on May 2, 2026."
)
FULBRIGHT = (
    "The Fulbright Commission in Peru will celebrate its 70th anniversary in May 2026 "
    "with support for over 3,200 scholarships to date."
)
HELICOPTERS = "The United States announced the transfer of nine helicopters to the Peruvian Navy."
FISHING = "The Coast Guard inspected nine fishing vessels in the port of Paita last week."


def document(doc_id: str, published: str | None = None, duplicate_of: str | None = None) -> Row:
    return {
        "doc_id": doc_id,
        "source_path": f"{doc_id}.txt",
        "published_date": published,
        "duplicate_of": duplicate_of,
        "duplicate_kind": "exact" if duplicate_of else None,
    }


def provenance(kind: str, doc_id: str, sentence: str, quote: str) -> Row:
    start = sentence.index(quote)
    return {
        "fact_id": f"{kind}_{doc_id}_{start}",
        "doc_id": doc_id,
        "source_path": f"{doc_id}.txt",
        "char_start": start,
        "char_end": start + len(quote),
        "quote": quote,
        "passage_id": f"psg_{doc_id}",
        "sentence": sentence,
        "extractor": f"{kind}@test",
    }


def date(doc_id: str, sentence: str, quote: str, iso: str) -> Row:
    precision = {4: "year", 7: "month", 10: "day"}[len(iso)]
    return {
        **provenance("dates", doc_id, sentence, quote),
        "iso": iso,
        "precision": precision,
        "basis": "explicit",
    }


def quantity(doc_id: str, sentence: str, quote: str, value: float, unit: str) -> Row:
    return {**provenance("quantities", doc_id, sentence, quote), "value": value, "unit": unit}


def entity(doc_id: str, sentence: str, name: str) -> Row:
    return {
        **provenance("entities", doc_id, sentence, name),
        "entity_id": f"ety_{name}",
        "name": name,
        "type": "place",
    }


def tables(
    documents: list[Row],
    dates: Sequence[Row] = (),
    quantities: Sequence[Row] = (),
    entities: Sequence[Row] = (),
) -> dict[str, pa.Table]:
    """Assembled-but-unclaimed tables, as ``assemble`` has them before build_claims."""
    return {
        "documents": to_arrow("documents", documents),
        "money": to_arrow("money", [], batch=True),
        "quantities": to_arrow("quantities", list(quantities), batch=True),
        "dates": to_arrow("dates", list(dates), batch=True),
        "entities": to_arrow("entities", list(entities), batch=True),
    }


def claims_by_fact(out: dict[str, pa.Table]) -> dict[str, Row]:
    claims = {c["claim_id"]: c for c in out["claims"].to_pylist()}
    return {
        row["fact_id"]: claims[row["claim_id"]]
        for kind in ("money", "quantities", "dates")
        for row in out[kind].to_pylist()
    }


def test_same_date_in_similar_sentences_of_two_documents_is_one_claim() -> None:
    out = build_claims(
        tables(
            [document("a", "2024-11-15"), document("b", "2024-05-09")],
            dates=[
                date("a", BICENTENNIAL_A, "2026", "2026"),
                date("b", BICENTENNIAL_B, "May 2, 2026", "2026-05-02"),
            ],
        )
    )
    [claim] = out["claims"].to_pylist()
    assert claim["n_facts"] == claim["n_documents"] == claim["n_independent_sources"] == 2
    assert (claim["first_published"], claim["latest_published"]) == ("2024-05-09", "2024-11-15")
    assert claim["value"] == "2026-05-02"  # the more precise statement represents the claim
    assert claim["doc_ids"] == ["a", "b"]
    assert set(out["dates"].column("claim_id").to_pylist()) == {claim["claim_id"]}


def test_a_document_and_its_copy_are_one_independent_source() -> None:
    out = build_claims(
        tables(
            [document("a"), document("b", duplicate_of="a")],
            quantities=[
                quantity("a", HELICOPTERS, "nine helicopters", 9, "helicopters"),
                quantity("b", HELICOPTERS, "nine helicopters", 9, "helicopter"),
            ],
        )
    )
    [claim] = out["claims"].to_pylist()
    assert (claim["n_documents"], claim["n_independent_sources"]) == (2, 1)
    assert claim["first_published"] is None and claim["latest_published"] is None


def test_same_number_in_unrelated_sentences_stays_separate() -> None:
    out = build_claims(
        tables(
            [document("a"), document("b"), document("c")],
            quantities=[
                quantity("a", HELICOPTERS, "nine helicopters", 9, "helicopters"),
                quantity("b", FISHING, "nine", 9, "helicopters"),
            ],
            dates=[
                date("a", FULBRIGHT, "May 2026", "2026-05"),
                date("c", BICENTENNIAL_B, "May 2, 2026", "2026-05-02"),
            ],
        )
    )
    assert out["claims"].num_rows == 4
    assert set(out["claims"].column("n_independent_sources").to_pylist()) == {1}


def test_facts_of_one_document_never_merge() -> None:
    sentence = "Exercises were held in 2023 and again in 2023 with the same partners."
    second = sentence.index("2023", sentence.index("2023") + 1)
    rows = [date("a", sentence, "2023", "2023"), date("a", sentence, "2023", "2023")]
    rows[1].update(fact_id="dates_a_second", char_start=second, char_end=second + 4)
    out = build_claims(tables([document("a")], dates=rows))
    assert out["claims"].num_rows == 2


def test_a_document_confirms_a_claim_once_even_with_two_matching_facts() -> None:
    out = build_claims(
        tables(
            [document("a"), document("b")],
            quantities=[
                quantity("a", HELICOPTERS, "nine helicopters", 9, "helicopters"),
                {
                    **quantity("a", HELICOPTERS, "nine helicopters", 9, "helicopters"),
                    "fact_id": "quantities_a_again",
                },
                quantity("b", HELICOPTERS, "nine helicopters", 9, "helicopters"),
            ],
        )
    )
    assert sorted(out["claims"].column("n_facts").to_pylist()) == [1, 2]
    assert max(out["claims"].column("n_documents").to_pylist()) == 2


def test_entities_count_the_documents_that_mention_them() -> None:
    out = build_claims(
        tables(
            [document("a"), document("b")],
            entities=[
                entity("a", HELICOPTERS, "Peru"),
                entity("b", FISHING, "Paita"),
                entity("b", BICENTENNIAL_B, "Peru"),
            ],
        )
    )
    counts = dict(
        zip(
            out["entities"].column("name").to_pylist(),
            out["entities"].column("n_documents").to_pylist(),
            strict=True,
        )
    )
    assert counts == {"Peru": 2, "Paita": 1}


def test_output_tables_have_the_declared_schemas() -> None:
    out = build_claims(
        tables(
            [document("a")],
            dates=[date("a", BICENTENNIAL_A, "2026", "2026")],
            entities=[entity("a", HELICOPTERS, "Peru")],
        )
    )
    for name in ("money", "quantities", "dates", "entities", "claims"):
        assert out[name].schema == TABLES[name].schema


def test_claims_do_not_depend_on_row_order() -> None:
    docs = [document("a", "2024"), document("b", duplicate_of="a"), document("c", "2025")]
    dates = [
        date("a", BICENTENNIAL_A, "2026", "2026"),
        date("b", BICENTENNIAL_A, "2026", "2026"),
        date("c", BICENTENNIAL_B, "May 2, 2026", "2026-05-02"),
        date("c", FULBRIGHT, "May 2026", "2026-05"),
    ]
    quantities = [
        quantity("a", HELICOPTERS, "nine helicopters", 9, "helicopters"),
        quantity("c", HELICOPTERS, "nine helicopters", 9, "helicopters"),
        quantity("b", FISHING, "nine", 9, "helicopters"),
    ]
    first = build_claims(tables(docs, dates, quantities))
    rng = random.Random(7)
    for _ in range(5):
        rng.shuffle(docs)
        rng.shuffle(dates)
        rng.shuffle(quantities)
        again = build_claims(tables(docs, dates, quantities))
        assert again["claims"].equals(first["claims"])
        assert claims_by_fact(again) == claims_by_fact(first)


def money(doc_id: str, sentence: str, quote: str, amount: float | None, period: str) -> Row:
    return {
        **provenance("money", doc_id, sentence, quote),
        "amount": amount,
        "currency": "USD",
        "period": period,
    }


GRANT = "The embassy announced $500 million in grants for 2025, and millions more in 2026."


def _unsorted_tables() -> dict[str, pa.Table]:
    """Tables whose rows are not in fact_id order (fact_ids name the document) and whose
    values in fact_id order are not those in row order; some values repeat."""
    docs = [document("a", "2024"), document("b", duplicate_of="a"), document("c", "2025")]
    dates = [
        date("b", BICENTENNIAL_A, "2026", "2026"),
        date("c", BICENTENNIAL_B, "May 2, 2026", "2026-05-02"),
        date("a", FULBRIGHT, "May 2026", "2026-05"),
        date("a", BICENTENNIAL_A, "2026", "2026"),
    ]
    quantities = [
        quantity("c", HELICOPTERS, "nine helicopters", 9, "helicopters"),
        quantity("b", FISHING, "nine", 9, "vessels"),
        quantity("a", FULBRIGHT, "3,200 scholarships", 3200, "scholarships"),
        quantity("a", HELICOPTERS, "nine helicopters", 9, "helicopters"),
    ]
    out = tables(docs, dates, quantities)
    rows = [
        money("c", GRANT, "$500 million", 5e8, "2025"),
        money("a", GRANT, "$500 million", 5e8, "2025"),
        money("b", GRANT, "millions", None, "2026"),
    ]
    out["money"] = to_arrow("money", rows, batch=True)
    return out


def _loader(tables: dict[str, pa.Table], asked: list[tuple[str, tuple[str, ...]]]) -> Load:
    def load(name: str, columns: Sequence[str]) -> pa.Table:
        asked.append((name, tuple(columns)))
        return tables[name].select(list(columns))

    return load


def test_claim_groups_carry_each_rows_value_in_row_order() -> None:
    unsorted = _unsorted_tables()
    groups = claim_groups(_loader(unsorted, []))
    for kind in CLAIM_KINDS:
        rows = unsorted[kind].to_pylist()
        fact_ids = [row["fact_id"] for row in rows]
        expected = [value_key(kind, row)[0] for row in rows]
        in_fact_id_order = [v for _f, v in sorted(zip(fact_ids, expected, strict=True))]
        assert in_fact_id_order != expected, kind  # else a misalignment would pass
        assert groups.values[kind] == expected, kind
        # equal values are one object (pickled once)
        first: dict[str, str] = {}
        assert all(first.setdefault(v, v) is v for v in groups.values[kind]), kind
        assert len(first) < len(expected), kind  # some do repeat


def test_claim_marks_given_groups_equal_claim_marks_grouping_itself() -> None:
    unsorted = _unsorted_tables()
    asked: list[tuple[str, tuple[str, ...]]] = []
    # made elsewhere: grouping runs in another process, its groups come pickled
    groups = pickle.loads(pickle.dumps(claim_groups(_loader(unsorted, []))))
    given = claim_marks(_loader(unsorted, asked), groups=groups)
    itself = claim_marks(_loader(unsorted, []))
    assert given.claim_ids == itself.claim_ids
    assert given.n_documents == itself.n_documents
    assert given.claims.equals(itself.claims)
    assert set(given.claims.column("kind").to_pylist()) == set(CLAIM_KINDS)
    value_of = {
        r["fact_id"]: value_key(k, r)[0] for k in CLAIM_KINDS for r in unsorted[k].to_pylist()
    }
    for claim in given.claims.to_pylist():  # a value of its own facts (the representative's)
        assert claim["value"] in {value_of[f] for f in claim["fact_ids"]}, claim["claim_id"]
    # the values come with the groups: no value columns read again, only shown quotes
    assert {name for name, _columns in asked} >= set(CLAIM_KINDS)
    value_columns = {"amount", "currency", "value", "unit", "iso"}
    for name, columns in asked:
        assert not value_columns & set(columns), name
        assert "quote" not in columns or columns == ("quote", "sentence"), name


def test_kinds_marked_in_two_shares_add_up_to_the_whole() -> None:
    """``ClaimGroups.halves``: two processes each mark some kinds; their claim ids and
    claims are those of marking every kind at once, and each kind is in one share."""
    unsorted = _unsorted_tables()
    groups = claim_groups(_loader(unsorted, []))
    whole = claim_marks(_loader(unsorted, []), groups=groups)
    first, second = groups.halves()
    assert sorted(first + second) == sorted(CLAIM_KINDS) and len(first) == 1
    shares = [claim_marks(_loader(unsorted, []), groups=groups.only(k)) for k in (first, second)]
    assert {**shares[0].claim_ids, **shares[1].claim_ids} == whole.claim_ids
    for share, kinds in zip(shares, (first, second), strict=True):
        assert set(share.claim_ids) == set(kinds)
        assert set(share.claims.column("kind").to_pylist()) == set(kinds)
    joined = pa.concat_tables([s.claims for s in shares]).sort_by("claim_id")
    assert joined.equals(whole.claims.sort_by("claim_id"))


def test_the_kind_with_the_most_facts_is_a_share_of_its_own() -> None:
    values = {"money": ["1"] * 5, "quantities": ["2"] * 9, "dates": ["3"] * 7}
    groups = ClaimGroups({kind: [] for kind in values}, values)
    assert groups.halves() == (("quantities",), ("money", "dates"))
    more_money = ClaimGroups(groups.rows, {**values, "money": ["1"] * 10})
    assert more_money.halves() == (("money",), ("quantities", "dates"))
    assert groups.only(["dates"]) == ClaimGroups({"dates": []}, {"dates": values["dates"]})


def test_context_terms_drop_the_value_and_function_words() -> None:
    terms = content_terms(BICENTENNIAL_B, "May 2, 2026")
    assert {"200", "diplom", "annive", "celebr"} <= terms
    assert not {"2026", "the", "may", "2"} & terms
    assert "200" not in content_terms(FULBRIGHT, "May 2026")  # 3,200 is one number


def test_date_values_are_compatible_when_one_contains_the_other() -> None:
    assert values_compatible("dates", "2026", "2026-05-02")
    assert values_compatible("dates", "2026-05-02", "2026-05")
    assert not values_compatible("dates", "2026-05-02", "2026-05-03")
    assert not values_compatible("dates", "FY2026", "2026")
    assert not values_compatible("quantities", "9 helicopters", "10 helicopters")


def _random_date_facts(
    rng: random.Random, n: int, values: Sequence[str] = ("2024", "2024-05", "2024-05-02")
) -> list[Fact]:
    vocab = [f"word{i}" for i in range(12)]
    facts = []
    for i in range(n):
        sentence = " ".join(rng.choice(vocab) for _ in range(rng.choice([0, 1, 3, 6])))
        iso = rng.choice(values)
        bucket = iso if iso.startswith("?") else iso[:6] if iso.startswith("FY") else iso[:4]
        doc = f"d{rng.randrange(8)}"
        terms = content_terms(sentence, iso)
        facts.append(
            Fact("dates", f"f{i:03d}", doc, doc, doc, 0, iso, bucket, None, iso, sentence, terms)
        )
    return facts


# 1: every leader indexed by its terms; 3 and 7: the first ones held (all candidates), then
# indexed; the default: mostly held
@pytest.mark.parametrize("index_from", [1, 3, 7, claims._INDEX_FROM])
def test_indexed_grouping_equals_comparing_with_every_leader(index_from: int) -> None:
    """The leader indexes (prefix terms; dates by compatible value) only skip leaders a
    context could not join, however many leaders they hold before indexing them."""
    rng = random.Random(11)
    values = ["2024", "2024-05", "2024-05-02", "2024-05-03", "2024-06", "FY2024", "?spring"]
    for _ in range(30):
        facts = _random_date_facts(rng, 60, values)
        idf = idf_weights(facts)
        grouped = claims._group(contexts(facts), [f.doc_id for f in facts], idf, index_from)
        assert grouped == plain_groups(facts, idf)
        if index_from == claims._INDEX_FROM:
            assert group_facts(facts, idf) == grouped


def test_groups_hold_one_fact_per_document_and_only_linkable_facts() -> None:
    rng = random.Random(5)
    for _ in range(20):
        facts = _random_date_facts(rng, 60)
        idf = idf_weights(facts)
        groups = group_facts(facts, idf)
        assert sorted(i for g in groups for i in g) == list(range(len(facts)))
        for group in groups:
            assert len({facts[i].doc_id for i in group}) == len(group)
            if len(group) > 1:  # every member is close enough to another member
                for i in group:
                    assert any(
                        values_compatible("dates", facts[i].value, facts[j].value)
                        and similarity(facts[i].terms, facts[j].terms, idf) >= SIMILARITY_THRESHOLD
                        for j in group
                        if j != i
                    )


def test_a_sentence_copied_into_many_documents_is_one_claim() -> None:
    sentence = "The embassy opened a new consular section in Lima in 2024."
    facts = [
        Fact(
            "dates",
            f"f{i:04d}",
            f"d{i}",
            f"d{i}",
            f"d{i}.txt",
            0,
            "2024",
            "2024",
            None,
            "2024",
            sentence,
            content_terms(sentence, "2024"),
        )
        for i in range(2000)
    ]
    groups = group_facts(facts, idf_weights(facts))
    assert [len(g) for g in groups] == [2000]


# --- the seeds ---------------------------------------------------------------------------

BICENTENNIAL_DOCS = ("002_f6ce622dd58cd100.txt", "004_062e40aed499f70b.txt")
SCRAPES_2013 = ("000_215ea90616700d2a.txt", "001_1a5958572703d33b.txt")


@pytest.fixture(scope="module")
def seed_tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    """The seeds assembled as a release would be (without validating or publishing)."""
    plan = make_plan(Settings(SEEDS, tmp_path_factory.mktemp("claims") / "out"))
    batches = plan.batches()
    repeated = repeated_from_counts([count_short_lines(plan, b) for b in batches])
    return assemble([process_batch(plan, b, repeated) for b in batches])


def _paths(seed_tables: dict[str, pa.Table], claim: Row) -> set[str]:
    docs = seed_tables["documents"]
    path = dict(
        zip(docs.column("doc_id").to_pylist(), docs.column("source_path").to_pylist(), strict=True)
    )
    return {path[d] for d in claim["doc_ids"]}


def _shared_claims(seed_tables: dict[str, pa.Table], pair: tuple[str, str]) -> list[Row]:
    claims = seed_tables["claims"].to_pylist()
    return [c for c in claims if _paths(seed_tables, c) == set(pair)]


def test_every_seed_fact_is_in_exactly_one_claim(seed_tables: dict[str, pa.Table]) -> None:
    listed = [f for ids in seed_tables["claims"].column("fact_ids").to_pylist() for f in ids]
    facts = [
        f
        for kind in ("money", "quantities", "dates")
        for f in seed_tables[kind].column("fact_id").to_pylist()
    ]
    assert sorted(listed) == sorted(facts)
    assert seed_tables["claims"].num_rows == len(set(seed_tables["claims"]["claim_id"].to_pylist()))


def test_independent_sources_are_distinct_original_documents(
    seed_tables: dict[str, pa.Table],
) -> None:
    docs = seed_tables["documents"].to_pylist()
    original = {d["doc_id"]: d["duplicate_of"] or d["doc_id"] for d in docs}
    for claim in seed_tables["claims"].to_pylist():
        expected = len({original[d] for d in claim["doc_ids"]})
        assert claim["n_independent_sources"] == expected, claim


def test_bicentennial_2026_is_confirmed_by_both_2024_documents(
    seed_tables: dict[str, pa.Table],
) -> None:
    [claim] = _shared_claims(seed_tables, BICENTENNIAL_DOCS)
    assert claim["kind"] == "dates" and claim["value"].startswith("2026")
    assert claim["n_independent_sources"] == 2
    assert (claim["first_published"], claim["latest_published"]) == ("2024-05-09", "2024-11-15")


def test_fulbright_may_2026_is_not_the_bicentennial(seed_tables: dict[str, pa.Table]) -> None:
    dates = seed_tables["dates"].to_pylist()
    [fulbright] = [d for d in dates if d["quote"] == "May 2026"]
    claims = {c["claim_id"]: c for c in seed_tables["claims"].to_pylist()}
    assert claims[fulbright["claim_id"]]["n_facts"] == 1


def test_blue_dot_and_artemis_entities_are_in_both_2024_documents(
    seed_tables: dict[str, pa.Table],
) -> None:
    counts = {
        e["name"]: e["n_documents"]
        for e in seed_tables["entities"].to_pylist()
        if e["name"] in ("Blue Dot Network", "Artemis Accords")
    }
    assert counts == {"Blue Dot Network": 2, "Artemis Accords": 2}


def test_the_2013_scrapes_share_their_facts(seed_tables: dict[str, pa.Table]) -> None:
    shared = _shared_claims(seed_tables, SCRAPES_2013)
    facts_000 = sum(
        1
        for kind in ("money", "quantities", "dates")
        for row in seed_tables[kind].to_pylist()
        if row["source_path"] == SCRAPES_2013[0]
    )
    assert len(shared) == facts_000  # every fact of one scrape is restated by the other


def test_the_2013_scrapes_are_one_independent_source(seed_tables: dict[str, pa.Table]) -> None:
    shared = _shared_claims(seed_tables, SCRAPES_2013)
    assert shared and all(c["n_independent_sources"] == 1 for c in shared)


def test_seed_claims_are_deterministic(seed_tables: dict[str, pa.Table], tmp_path: Path) -> None:
    plan = make_plan(Settings(SEEDS, tmp_path / "out"))
    batches = [[p] for b in plan.batches() for p in b]  # other batching, same corpus
    repeated = repeated_from_counts([count_short_lines(plan, b) for b in batches])
    again = assemble([process_batch(plan, b, repeated) for b in batches])
    assert again["claims"].equals(seed_tables["claims"])
    for kind in ("money", "quantities", "dates", "entities"):
        assert again[kind].equals(seed_tables[kind])


def test_terms_from_the_batches_give_the_same_claims(seed_tables: dict[str, pa.Table]) -> None:
    computed = build_claims(seed_tables)
    given = build_claims(seed_tables, fact_terms(seed_tables))
    assert given["claims"].equals(computed["claims"])
    assert fact_terms(seed_tables).num_rows == sum(
        seed_tables[k].num_rows for k in ("money", "quantities", "dates")
    )
