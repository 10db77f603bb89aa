"""Tests of the passage topic classifier on passages written for the purpose."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.extract.topics import _taxonomy, passage_topics
from pipeline.resources import load_yaml

TOPICS = (
    "security",
    "trade_investment",
    "development_aid",
    "education_culture",
    "environment_climate",
    "space",
    "health",
    "migration",
    "democracy_governance",
    "infrastructure",
)


def test_taxonomy_is_documented() -> None:
    data = load_yaml("topics.yaml")
    assert tuple(t["id"] for t in data["topics"]) == TOPICS
    for topic in data["topics"]:
        assert topic["description"] and topic["strong"] and topic["keywords"]


@pytest.mark.parametrize(
    ("topic", "text"),
    [
        ("security", "Both governments pledged to expand counternarcotics cooperation."),
        ("security", "The Navy and the national police seized 20 tons of cocaine."),
        ("security", "Officials discussed crime and violence in border provinces."),
        ("trade_investment", "Two-way trade in goods reached $16 billion in 2023."),
        ("trade_investment", "The Trade Promotion Agreement entered into force in 2009."),
        ("trade_investment", "New investors and companies are expanding exports."),
        ("development_aid", "USAID provided $5 million to flood-affected families."),
        ("development_aid", "Humanitarian assistance reached 40,000 people."),
        ("development_aid", "The grants support rural communities and farmers."),
        ("education_culture", "Forty Fulbright scholars arrived in Lima."),
        ("education_culture", "An agreement protects cultural heritage and museums."),
        ("education_culture", "Teachers and students joined the English program at schools."),
        ("environment_climate", "The partners will fight illegal logging in the Amazon."),
        ("environment_climate", "Climate change threatens glaciers in the Andes."),
        ("environment_climate", "Sustainable fisheries protect the ocean."),
        ("space", "Peru signed the Artemis Accords in May."),
        ("space", "NASA and CONIDA will share satellite data."),
        ("space", "A telescope will support remote sensing for farmers."),
        ("health", "Vaccines donated during the COVID-19 pandemic reached Peru."),
        ("health", "The clinics treat patients with dengue."),
        ("health", "Doctors and nurses trained in medical emergencies."),
        ("migration", "Peru hosts 1.5 million Venezuelan migrants and refugees."),
        ("migration", "The Los Angeles Declaration guides regional responses."),
        ("migration", "Stronger border management and safe travel for nationals."),
        ("democracy_governance", "The leaders reaffirmed their commitment to democracy."),
        ("democracy_governance", "Support for human rights and the rule of law."),
        ("democracy_governance", "Reforms bring transparency and accountability to government."),
        ("infrastructure", "The Blue Dot Network certified the project."),
        ("infrastructure", "The new port at Chancay links shipping routes."),
        ("infrastructure", "Broadband connectivity and digital networks reach rural towns."),
    ],
)
def test_topic_found(topic: str, text: str) -> None:
    assert topic in passage_topics(text)


@pytest.mark.parametrize(
    "text",
    [
        "The two leaders met in Lima on Tuesday.",
        "President Obama welcomed President Humala to the White House.",
        "Who knows what the spring will bring?",  # 'who' is not the WHO
        "The security of the meeting room was fine.",  # one keyword is not enough
        "",
    ],
)
def test_no_topic(text: str) -> None:
    assert passage_topics(text) == ()


def test_heading_counts_as_context() -> None:
    assert "security" in passage_topics("Officials discussed the army.", "Security Cooperation")
    assert passage_topics("Officials discussed the army.") == ()


def test_keyword_counted_once_and_topics_in_taxonomy_order() -> None:
    assert passage_topics("trade, trade and more trade") == ()
    text = "Migrants and refugees need vaccines; the satellite launch went well."
    assert passage_topics(text) == ("space", "health", "migration")


def test_acronyms_keep_their_case() -> None:
    assert passage_topics("STEM programs opened.") == ("education_culture",)
    assert passage_topics("the plant stem grew.") == ()
    assert passage_topics("The WHO praised the effort.") == ("health",)


def test_line_breaks_inside_phrases() -> None:
    assert passage_topics("They fight drug\n  trafficking.") == ("security",)


def test_every_literal_term_finds_its_topic() -> None:
    data = load_yaml("topics.yaml")
    for topic in data["topics"]:
        for term in topic["strong"]:
            if term.replace(" ", "").replace("-", "").replace("'", "").isalnum():
                assert topic["id"] in passage_topics(f"Here {term} matters."), term
    assert len(_taxonomy().ids) == len(TOPICS)


@given(st.text(), st.one_of(st.none(), st.text()))
def test_any_text(text: str, heading: str | None) -> None:
    topics = passage_topics(text, heading)
    assert set(topics) <= set(TOPICS)
    assert list(topics) == sorted(topics, key=TOPICS.index)


def test_heading_alone_does_not_label_a_passage() -> None:
    assert passage_topics("The leaders met on Tuesday.", "Security Cooperation") == ()
    assert passage_topics("The leaders met.", "Promoting Good Governance") == ()
    # a strong heading phrase counts as one keyword: one more from the text suffices
    assert passage_topics(
        "Officials praised the reforms to the judicial system.", "Rule of Law"
    ) == ("democracy_governance",)
