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


# --- canonical names, generic rules, noise ----------------------------------------------


def test_trade_promotion_agreement_aliases_share_one_name() -> None:
    text = (
        "The United States-Peru Trade Promotion Agreement (PTPA) and the U.S.-Peru TPA "
        "differ from the Peru Trade Promotion Agreement only in name."
    )
    names = {name for _, name, type_ in mentions(text) if type_ == "agreement"}
    assert names == {"U.S.-Peru Trade Promotion Agreement"}


def test_united_states_spelled_out_in_a_name_is_canonical() -> None:
    a = mentions("The United States-Chile Energy Dialogue met.")
    b = mentions("The U.S.-Chile Energy Dialogue met.")
    assert a[-1][1:] == b[-1][1:] == ("U.S.-Chile Energy Dialogue", "programme")
    assert mentions("The U.S. National Oceanic and Atmospheric Administration helped.")[0][1] == (
        "National Oceanic and Atmospheric Administration"
    )


def test_two_names_joined_by_and_before_a_country_pair() -> None:
    text = "The Andes Energy Dialogue and U.S.-Chile Water Dialogue met."
    assert [q for q, _, _ in mentions(text)] == [
        "Andes Energy Dialogue",
        "U.S.-Chile Water Dialogue",
    ]


def test_unknown_name_defined_by_its_acronym() -> None:
    text = (
        "Peru joined the Cooperative Situational Information Integration System (CSII) "
        "in 2020; CSII data now flows."
    )
    assert mentions(text)[1:] == [
        (
            "Cooperative Situational Information Integration System",
            "Cooperative Situational Information Integration System",
            "programme",
        ),
        ("CSII", "Cooperative Situational Information Integration System", "programme"),
        ("CSII", "Cooperative Situational Information Integration System", "programme"),
    ]


def test_acronym_that_does_not_fit_the_words_defines_nothing() -> None:
    assert mentions("They praised Good Results (XQZ) today.") == [("XQZ", "XQZ", "organization")]


def test_bare_unknown_acronym_is_an_organization() -> None:
    assert mentions("SUNAT and DEVIDA met.") == [
        ("SUNAT", "SUNAT", "organization"),
        ("DEVIDA", "DEVIDA", "organization"),
    ]


def test_non_entity_acronyms_and_capitals_headings() -> None:
    assert mentions("GDP grew 3 percent in USD terms in FY 2024.") == []
    assert mentions("JOINT STATEMENT BY THE LEADERS") == []
    assert mentions("Chapter XIV applies.") == []
    assert mentions("LIMA - The talks ended.") == [("LIMA", "Lima", "place")]


def test_country_plus_generic_head_is_noise() -> None:
    assert mentions("A grant by the U.S. Department supports farmers.") == [
        ("U.S.", "United States", "place")
    ]
    assert mentions("A Space Partnership is growing.") == []
    assert mentions("The U.S. Navy and Peruvian Navy trained.") == [
        ("U.S. Navy", "U.S. Navy", "organization"),
        ("Peruvian Navy", "Peruvian Navy", "organization"),
    ]


def test_statement_headings_are_not_entities() -> None:
    text = "Joint Statement on the U.S.-Peru High-Level Dialogue"
    assert mentions(text) == [
        ("U.S.-Peru High-Level Dialogue", "U.S.-Peru High-Level Dialogue", "programme")
    ]
    assert mentions("Fact Sheet: Strengthening Our Partnership") == []


@given(st.text())
def test_any_text_is_safe(text: str) -> None:
    for fact in extract_entities(text, CTX):
        assert 0 <= fact.start < fact.end <= len(text)
        assert text[fact.start : fact.end].strip()
        assert fact.name and fact.type in ENTITY_TYPES


def test_dateline_city_in_capitals_is_the_place() -> None:
    assert mentions("BOGOTA - Ministers met.") == [("BOGOTA", "Bogotá", "place")]
