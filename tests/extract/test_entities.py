"""Tests of the entities extractor on small texts written for the purpose."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from pipeline.extract.base import DocContext, EntityFact
from pipeline.extract.entities import EXTRACTOR, extract_entities
from pipeline.schemas import ENTITY_TYPES

CTX = DocContext()


def mentions(text: str) -> list[tuple[str, str, str]]:
    """(quote, canonical name, type) for every mention, in order."""
    return [(text[f.start : f.end], f.name, f.type) for f in extract_entities(text, CTX)]


def test_gazetteer_aliases_resolve_to_one_name() -> None:
    text = "USAID and the U.S. Agency for International Development work with the OAS."
    assert mentions(text) == [
        ("USAID", "U.S. Agency for International Development", "organization"),
        (
            "U.S. Agency for International Development",
            "U.S. Agency for International Development",
            "organization",
        ),
        ("OAS", "Organization of American States", "organization"),
    ]


def test_state_department_variants() -> None:
    names = {
        name
        for _, name, _ in mentions(
            "The State Department, the Department of State and the United States Department "
            "of State issued it."
        )
    }
    assert names == {"U.S. Department of State"}


def test_countries_and_hyphenated_pairs() -> None:
    assert mentions("U.S.-Chile ties and Mexico grew.") == [
        ("U.S.", "United States", "place"),
        ("Chile", "Chile", "place"),
        ("Mexico", "Mexico", "place"),
    ]


def test_fact_fields() -> None:
    assert extract_entities("FEMA helped.", CTX) == [
        EntityFact(0, 4, "Federal Emergency Management Agency", "organization", EXTRACTOR)
    ]


def test_titled_people_without_title() -> None:
    text = (
        "Secretary of State Jane Roe met Deputy Minister of Foreign Affairs Ambassador "
        "Luis de la Cruz and President Ana Torres-Vega. Later Secretary Roe left."
    )
    assert mentions(text) == [
        ("Jane Roe", "Jane Roe", "person"),
        ("Luis de la Cruz", "Luis de la Cruz", "person"),
        ("Ana Torres-Vega", "Ana Torres-Vega", "person"),
        ("Roe", "Jane Roe", "person"),
    ]


def test_title_before_non_name_is_not_a_person() -> None:
    assert mentions("The Secretary of State said the President of the council agreed.") == []
    assert [t for _, _, t in mentions("During the General Assembly week.")] == []


def test_head_nouns_type_capitalised_phrases() -> None:
    text = (
        "Under the Andean Rivers Initiative, the Ministry of Energy and Mines and the "
        "Coastal Fisheries Agency signed the Quito Climate Accords at the Pacific Energy "
        "Summit."
    )
    assert mentions(text) == [
        ("Andean Rivers Initiative", "Andean Rivers Initiative", "programme"),
        ("Ministry of Energy and Mines", "Ministry of Energy and Mines", "organization"),
        ("Coastal Fisheries Agency", "Coastal Fisheries Agency", "organization"),
        ("Quito Climate Accords", "Quito Climate Accords", "agreement"),
        ("Pacific Energy Summit", "Pacific Energy Summit", "event"),
    ]


def test_memorandum_of_understanding_is_an_agreement() -> None:
    assert mentions("They signed a Memorandum of Understanding on Water Security.") == [
        (
            "Memorandum of Understanding on Water Security",
            "Memorandum of Understanding on Water Security",
            "agreement",
        ),
    ]


def test_two_names_joined_by_and_the_are_split() -> None:
    assert mentions("The Department of Labor and the Andes Trade Council met.") == [
        ("Department of Labor", "U.S. Department of Labor", "organization"),
        ("Andes Trade Council", "Andes Trade Council", "organization"),
    ]


def test_acronym_defined_in_passage() -> None:
    assert mentions("The Andean Water Fund (AWF) grew; AWF grants help.") == [
        ("Andean Water Fund", "Andean Water Fund", "programme"),
        ("AWF", "Andean Water Fund", "programme"),
        ("AWF", "Andean Water Fund", "programme"),
    ]


def test_sentence_initial_capitals_are_not_entities() -> None:
    assert mentions("Bolstering Security and Strengthening the Rule of Law.") == []
    assert mentions("Strong Ties Matter. Recent Examples Include trade.") == []
    assert mentions("Through Regional Cooperation Program grants, schools opened.") == [
        ("Regional Cooperation Program", "Regional Cooperation Program", "programme")
    ]


def test_bare_head_noun_is_not_an_entity() -> None:
    assert mentions("The Ministry and the Agreement were discussed at the Summit.") == []


def test_spanish_institution_with_de() -> None:
    assert mentions("Scientists of the Instituto del Mar del Sur met.") == [
        ("Instituto del Mar del Sur", "Instituto del Mar del Sur", "organization")
    ]


WORDS = [
    "Peru",
    "U.S.",
    "the",
    "and",
    "of",
    "Ministry",
    "Agreement",
    "President",
    "Ana",
    "Roe",
    "USAID",
    "(AWF)",
    "AWF",
    "Fund",
    "Secretary",
    "State",
    "de",
    "la",
    ",",
    ".",
]


@given(st.lists(st.sampled_from(WORDS), max_size=25).map(" ".join))
def test_mentions_are_well_formed(text: str) -> None:
    facts = extract_entities(text, CTX)
    for fact in facts:
        assert 0 <= fact.start < fact.end <= len(text)
        assert text[fact.start : fact.end].strip() == text[fact.start : fact.end]
        assert fact.name and not fact.name.lower().startswith("the ")
        assert fact.type in ENTITY_TYPES
    spans = sorted((f.start, f.end) for f in facts)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
