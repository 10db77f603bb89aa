"""Quantity extractor: counts and percentages, and the numbers that are neither."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.extract.base import DocContext
from pipeline.extract.quantities import EXTRACTOR, extract_quantities

CTX = DocContext()


def _rows(text: str) -> list[tuple[str, float, str | None, str | None]]:
    return [
        (text[f.start : f.end], f.value, f.qualifier, f.unit) for f in extract_quantities(text, CTX)
    ]


@pytest.mark.parametrize(
    ("text", "row"),
    [
        ("It created 2.3 million jobs.", ("2.3 million", 2_300_000.0, None, "jobs")),
        ("It bought seven Sikorsky transport helicopters.", ("seven", 7.0, None, "helicopters")),
        ("It got 150,000+ passport requests.", ("150,000+", 150_000.0, "min", "requests")),
        ("Output rose 45 percent.", ("45 percent", 45.0, None, "percent")),
        ("Output rose 12.5%.", ("12.5%", 12.5, None, "percent")),
        ("Output rose 3 per cent.", ("3 per cent", 3.0, None, "percent")),
        ("Delegates came from more than 30 nations.", ("30", 30.0, "min", "nations")),
        ("It trains 500 small- and medium-sized firms.", ("500", 500.0, None, "firms")),
        ("It hired nearly 240 local staff.", ("240", 240.0, "approx", "staff")),
        ("It hired some 75 people.", ("75", 75.0, "approx", "people")),
        ("It hired up to 40 engineers.", ("40", 40.0, "max", "engineers")),
        ("It runs under two ministries.", ("two", 2.0, None, "ministries")),
        ("It hired a dozen advisers.", ("a dozen", 12.0, None, "advisers")),
        ("It hired twenty-one guards.", ("twenty-one", 21.0, None, "guards")),
        ("It hired an average of 60 nurses.", ("60", 60.0, None, "nurses")),
        ("It sent 6 Navy Department of Energy experts.", ("6", 6.0, None, "experts")),
        ("It posted 12 active-duty military, and more.", ("12", 12.0, None, "military")),
        ("The Navy gave Peru 12 boats.", ("12", 12.0, None, "boats")),
        (
            "It donated to the Police of Peru three helicopters.",
            ("three", 3.0, None, "helicopters"),
        ),
        ("They will install 60 GW of wind.", ("60", 60.0, None, "GW")),
        ("It trained 1,100 Kenya Defence Forces personnel.", ("1,100", 1100.0, None, "personnel")),
        ("It created 5 lakh jobs.", ("5 lakh", 500_000.0, None, "jobs")),
        ("It created 1.1 million jobs.", ("1.1 million", 1_100_000.0, None, "jobs")),
        ("It got 200,000+ visa applications.", ("200,000+", 200_000.0, "min", "applications")),
        ("Coverage reached 97.5% of homes.", ("97.5%", 97.5, None, "percent")),
        ("Nearly 60 percent of firms export.", ("60 percent", 60.0, "approx", "percent")),
    ],
)
def test_counts_and_percentages(text: str, row: tuple[str, float, str | None, str]) -> None:
    assert _rows(text) == [row]


def test_extractor_name() -> None:
    (fact,) = extract_quantities("We met 40 mayors.", CTX)
    assert fact.extractor == EXTRACTOR


def test_money_numbers_are_left_to_the_money_extractor() -> None:
    text = "A $4 million grant and 2 million euros helped 300 farmers."
    assert _rows(text) == [("300", 300.0, None, "farmers")]


@pytest.mark.parametrize(
    "text",
    [
        "In 2019 the office opened.",  # year
        "Trade grew in the four quarters to June.",  # a duration
        "It is the number one partner and among the top 10 producers.",  # ranks
        "Four years since the launch, the two leaders met.",  # duration, anaphora
        "The Beca 18 and 100,000 Strong in the Americas programmes grew.",  # names
        "Connecting the Region 2030 goals were set.",  # year inside a name
        "They met on March 14 and on 3 April.",  # day numbers
        "It is the 21st meeting and the ninth round.",  # ordinals
        "Peru is the number one partner among the top 10 producers.",  # ranks
        "Students ages 12-17 and a 16-year-old joined.",  # ages
        "Youth aged 15 joined.",  # ages
        "It marks 150 years of ties and two centuries of trade.",  # durations
        "Over the next three years and the past 20 decades, a five-year plan.",  # durations
        "The Beca 20 scholarships and the Apollo 11 crews.",  # numbers inside names
        "The 50,000 Strong in the Region initiative grew.",  # name, no counted noun
        "COVID-19 cases and G7 partners grew.",  # glued to names
        "The two leaders and our two nations agreed; the two governments too.",  # anaphoric
        "It is one of the most important; one said so.",  # 'one'
        "Two-way trade grew.",  # compound adjective
        "The clip runs 0:02:15 and starts at 10:30.",  # times
        "Call 202-555-0147 at 5 p.m. about Section 4 and Article 12 clauses.",  # phone, labels
        "The Round 3 talks doubled three times.",  # label, multiplier
    ],
)
def test_non_quantities(text: str) -> None:
    assert _rows(text) == []


def test_temporal_over_is_not_a_qualifier_but_count_over_is() -> None:
    text = "Over the past 10 years, over 4,000 teachers trained."
    assert _rows(text) == [("4,000", 4000.0, "min", "teachers")]


def test_name_rule_ignores_capitalised_word_that_ends_a_clause() -> None:
    text = "Under the Heritage Agreement, 1,500 artifacts returned."
    assert _rows(text) == [("1,500", 1500.0, None, "artifacts")]


def test_sentence_initial_number_word() -> None:
    assert _rows("Nine teams met.") == [("Nine", 9.0, None, "teams")]


@given(
    st.lists(
        st.sampled_from(
            ["40 mayors", "$5 million", "in 2020", "nearly 9%", "the two leaders", "-", " ", ","]
        ),
        max_size=8,
    )
)
def test_spans_are_inside_the_text(parts: list[str]) -> None:
    text = " ".join(parts)
    for fact in extract_quantities(text, CTX):
        assert 0 <= fact.start < fact.end <= len(text)
        assert text[fact.start : fact.end].strip()


def test_range_sides_share_the_counted_noun() -> None:
    assert _rows("They built 10 to 15 schools and 3–4 clinics.") == [
        ("10", 10.0, None, "schools"),
        ("15", 15.0, None, "schools"),
        ("3", 3.0, None, "clinics"),
        ("4", 4.0, None, "clinics"),
    ]


def test_ratios_and_rates_are_not_counts() -> None:
    assert _rows("One in four adults and 2 out of 5 farms; 12 cases per 100,000 residents.") == [
        ("12", 12.0, None, "cases")
    ]


@given(st.text(max_size=200))
def test_any_text_gives_spans_inside_it(text: str) -> None:
    for fact in extract_quantities(text, CTX):
        assert 0 <= fact.start < fact.end <= len(text)
        assert text[fact.start : fact.end].strip()
