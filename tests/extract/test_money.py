"""Money extractor: amounts, currencies, qualifiers, periods and what they are for."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.extract.base import DocContext, MoneyFact
from pipeline.extract.money import EXTRACTOR, extract_money

CTX = DocContext()


def _money(text: str) -> list[MoneyFact]:
    return extract_money(text, CTX)


def _quotes(text: str) -> list[str]:
    return [text[f.start : f.end] for f in _money(text)]


@pytest.mark.parametrize(
    ("text", "quote", "amount", "currency"),
    [
        ("They gave $16 billion to it.", "$16 billion", 16e9, "USD"),
        ("They gave $ 560 million to it.", "$ 560 million", 560e6, "USD"),
        ("They gave US$3.5 million to it.", "US$3.5 million", 3.5e6, "USD"),
        ("They gave USD 2 million to it.", "USD 2 million", 2e6, "USD"),
        ("They gave 139 million USD to it.", "139 million USD", 139e6, "USD"),
        ("They gave $92.5 million dollars.", "$92.5 million dollars", 92.5e6, "USD"),
        ("They gave $750,000 to it.", "$750,000", 750_000.0, "USD"),
        ("They gave $54K to it.", "$54K", 54_000.0, "USD"),
        ("They gave $1.2bn to it.", "$1.2bn", 1.2e9, "USD"),
        ("They gave two million dollars.", "two million dollars", 2e6, "USD"),
        ("They gave a $3.5-million grant.", "$3.5-million", 3.5e6, "USD"),
        ("They gave €40 million to it.", "€40 million", 40e6, "EUR"),
        ("They gave EUR 7 million to it.", "EUR 7 million", 7e6, "EUR"),
        ("They gave S/. 1,200 to it.", "S/. 1,200", 1200.0, "PEN"),
        ("They gave 3 million soles to it.", "3 million soles", 3e6, "PEN"),
        ("They gave £12m to it.", "£12m", 12e6, "GBP"),
        ("They gave S/ 185 million to it.", "S/ 185 million", 185e6, "PEN"),
        ("They gave PEN 40 million to it.", "PEN 40 million", 40e6, "PEN"),
        ("They gave GBP 3.5 million to it.", "GBP 3.5 million", 3.5e6, "GBP"),
        ("They gave ¥2 billion to it.", "¥2 billion", 2e9, "JPY"),
        ("They gave 15 billion yen to it.", "15 billion yen", 15e9, "JPY"),
        ("They gave C$40 million to it.", "C$40 million", 40e6, "CAD"),
        ("They gave MXN 1,500 to it.", "MXN 1,500", 1500.0, "MXN"),
        ("They gave COP 40 billion to it.", "COP 40 billion", 40e9, "COP"),
        ("They gave R$ 2.5 billion to it.", "R$ 2.5 billion", 2.5e9, "BRL"),
        ("They gave CNY 800 million to it.", "CNY 800 million", 800e6, "CNY"),
        ("They gave 5 million yuan to it.", "5 million yuan", 5e6, "CNY"),
        ("They gave KSh 2.5 billion to it.", "KSh 2.5 billion", 2.5e9, "KES"),
        ("They gave INR 8,000 crore to it.", "INR 8,000 crore", 80e9, "INR"),
        ("They gave ₹500 crore to it.", "₹500 crore", 5e9, "INR"),
        ("They gave twenty-five thousand euros to it.", "twenty-five thousand euros", 25e3, "EUR"),
    ],
)
def test_amount_forms(text: str, quote: str, amount: float, currency: str) -> None:
    (fact,) = _money(text)
    assert text[fact.start : fact.end] == quote
    assert fact.amount == pytest.approx(amount)
    assert fact.currency == currency
    assert fact.amount_usd == (fact.amount if currency == "USD" else None)
    assert fact.extractor == EXTRACTOR


@pytest.mark.parametrize(
    ("before", "qualifier", "low", "high"),
    [
        ("", None, 5e6, 5e6),
        ("roughly ", "approx", 5e6, 5e6),
        ("almost ", "approx", 5e6, 5e6),
        ("more than ", "min", 5e6, None),
        ("upwards of ", "min", 5e6, None),
        ("up to ", "max", None, 5e6),
        ("less than ", "max", None, 5e6),
        ("under ", "max", None, 5e6),
        ("a total of ", None, 5e6, 5e6),
        ("a record ", None, 5e6, 5e6),
        ("totaling more than ", "min", 5e6, None),
    ],
)
def test_qualifier_and_bounds(before: str, qualifier: str, low: float, high: float) -> None:
    text = f"The agency spent {before}$5 million on roads."
    (fact,) = _money(text)
    assert text[fact.start : fact.end] == "$5 million"  # qualifier words stay outside
    assert (fact.qualifier, fact.amount_low_usd, fact.amount_high_usd) == (qualifier, low, high)


def test_trailing_plus_is_min() -> None:
    (fact,) = _money("Grants of $300,000+ went out.")
    assert (fact.qualifier, fact.amount, fact.amount_low_usd) == ("min", 300_000.0, 300_000.0)


def test_two_changing_amounts_each_keep_their_own_period() -> None:
    text = "Two-way trade grew from $9.1 billion in 2009 to $14.3 billion in 2016."
    facts = _money(text)
    assert [(f.amount, f.period, f.qualifier) for f in facts] == [
        (9.1e9, "2009", None),
        (14.3e9, "2016", None),
    ]
    assert {f.flow_stage for f in facts} == {"trade"}


def test_period_right_after_another_amount_stays_with_it() -> None:
    text = "Trade reached €125 billion in 2022, while exports were worth around €35 billion."
    assert [f.period for f in _money(text)] == ["2022", None]


def test_non_usd_range_keeps_its_bounds_as_qualifiers() -> None:
    text = "A fund of between 2 and 3 million soles for culture."
    low, high = _money(text)
    assert [(f.amount, f.currency, f.qualifier) for f in (low, high)] == [
        (2e6, "PEN", "min"),
        (3e6, "PEN", "max"),
    ]
    assert low.amount_low_usd is None


def test_non_usd_amount_has_no_usd_bounds() -> None:
    (fact,) = _money("It cost nearly €2 billion.")
    assert (fact.amount_usd, fact.amount_low_usd, fact.amount_high_usd) == (None, None, None)


@pytest.mark.parametrize(
    "text",
    ["The fund needs $1–2 million now.", "The fund needs between $1 and $2 million now."],
)
def test_ranges_give_two_facts_with_shared_bounds(text: str) -> None:
    low, high = _money(text)
    assert (low.amount, high.amount) == (1e6, 2e6)
    assert (low.qualifier, high.qualifier) == ("min", "max")
    for fact in (low, high):
        assert (fact.amount_low_usd, fact.amount_high_usd) == (1e6, 2e6)


def test_bare_number_range_takes_currency_written_after_it() -> None:
    text = "Costs rose to 5 to 10 million euros."
    assert [(f.amount, f.currency) for f in _money(text)] == [(5e6, "EUR"), (10e6, "EUR")]


def test_change_from_to_is_two_amounts_not_a_range() -> None:
    text = "Sales grew from $3.2 billion in 2010 to $5.9 billion in 2019."
    facts = _money(text)
    assert [(f.amount, f.qualifier, f.period) for f in facts] == [
        (3.2e9, None, "2010"),
        (5.9e9, None, "2019"),
    ]


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("In 2019 the fund lent $7 million.", "2019"),
        ("In March 2021, the fund lent $7 million.", "2021-03"),
        ("In FY2022 the fund lent $7 million.", "FY2022"),
        ("In fiscal year 2020 the fund lent $7 million.", "FY2020"),
        ("Since FY 2016 the fund has lent $7 million.", "FY2016-"),
        ("Since Fiscal Year (FY) 2017, the fund has lent $7 million.", "FY2017-"),
        ("Since 1998 the fund has lent $7 million.", "1998-"),
        ("The fund will lend $7 million beginning in 2027.", "2027-"),
        ("The fund lent $7 million over the next five years.", None),
        ("The fund lent $7 million in calendar year 2018.", "2018"),
        ("As of 2024, the fund had lent $7 million.", "2024"),
        ("Between 2015 and 2020, the fund lent $7 million.", "2015..2020"),
        ("From 2009 to 2016 the fund lent $7 million.", "2009..2016"),
        ("On June 3, 2021, the fund lent $7 million.", "2021-06-03"),
        ("In FY24 the fund lent $7 million.", "FY2024"),
        ("The fund lent $7 million from FY 2009-2017.", "FY2009..FY2017"),
        ("Kenya received £62 million in 2022/23.", None),
        ("Exports reached 139 million USD in the year 2023.", "2023"),
        ("The fund lent $7 million. It was created in 2001.", None),
    ],
)
def test_period_from_the_same_sentence(text: str, period: str | None) -> None:
    (fact,) = _money(text)
    assert fact.period == period


def test_period_near_another_amount_is_not_borrowed() -> None:
    text = "A $20 million loan may unlock a $90 million plan starting in 2030."
    first, second = _money(text)
    assert (first.period, second.period) == (None, "2030-")


def test_period_opening_the_sentence_applies_to_every_amount() -> None:
    text = "In 2018, the bank lent $4 million to farmers and $6 million to fishers."
    assert [f.period for f in _money(text)] == ["2018", "2018"]


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("They provided $12 million in grants to rural clinics.", "grants to rural clinics"),
        ("It is a $40 million irrigation project that will help.", "irrigation project"),
        ("Tourism revenue reached $3 billion last year.", "Tourism revenue"),
        ("She pledged $9 million for the restoration of churches.", "restoration of churches"),
        ("They invested $5 million in 2020.", "investment"),
        ("The United States has invested $13 billion in Colombia.", "investment"),
        (
            "USAID invested $1.8 billion to promote economic, social, and political development.",
            "economic, social, and political development",
        ),
        ("It gave $2 million to Peru for water projects.", "water projects"),
        (
            "It gave $750,000 for roads, bridges, and schools to help.",
            "roads, bridges, and schools",
        ),
    ],
)
def test_what_phrase(text: str, what: str | None) -> None:
    (fact,) = _money(text)
    assert fact.what == what


def test_vague_amounts_have_no_amount() -> None:
    text = "The deal saves millions of dollars and draws billions in investment."
    facts = _money(text)
    assert [text[f.start : f.end] for f in facts] == ["millions of dollars", "billions"]
    assert [(f.amount, f.currency) for f in facts] == [(None, "USD"), (None, None)]
    assert facts[1].what == "investment"


def test_plain_numbers_are_not_money() -> None:
    assert _quotes("In 2012, 1,000 firms hired 25 percent more staff.") == []


def test_multiple_spaces_inside_text() -> None:
    text = "Trade  reached  nearly  $8 billion."
    (fact,) = _money(text)
    assert (text[fact.start : fact.end], fact.qualifier) == ("$8 billion", "approx")


def test_period_and_sentence_ignore_abbreviations() -> None:
    text = "On Feb. 6 the U.S. Embassy gave $3 million in May 2022. Later it gave $1 million."
    first, second = _money(text)
    assert (first.period, second.period) == ("2022-05", None)


@given(st.text(alphabet=st.sampled_from(list("$€0123456789,. -–millonbKtdars")), max_size=50))
def test_money_spans_are_inside_the_text(text: str) -> None:
    for fact in _money(text):
        assert 0 <= fact.start < fact.end <= len(text)


@pytest.mark.parametrize(
    ("text", "funder", "recipient", "stage"),
    [
        (
            "USAID provided $5 million to Peru's Ministry of Health.",
            "USAID",
            "Peru's Ministry of Health",
            "disbursement",
        ),
        (
            "The United States has invested $13 billion in Colombia.",
            "United States",
            "Colombia",
            "investment",
        ),
        ("Japan pledged ¥2 billion to the fund.", "Japan", "the fund", "pledge"),
        (
            "The U.S. Government will provide $10 million to Kenya.",
            "United States",
            "Kenya",
            "pledge",
        ),
        ("The Bank approved a $50 million loan for Ghana.", "Bank", "Ghana", "commitment"),
        (
            "Kenya received £62 million from the UK in 2023.",
            "United Kingdom",
            "Kenya",
            "disbursement",
        ),
        (
            "The grant of $3 million was funded by the European Union.",
            "European Union",
            None,
            "disbursement",
        ),
        ("The Navy gave Peru $4 million in spare parts.", "Navy", "Peru", "disbursement"),
        (
            "The U.S. Agency for International Development (USAID) has disbursed $8 million.",
            "USAID",
            None,
            "disbursement",
        ),
        ("USAID, with NASA, invested $2.1 million in the project.", "USAID", None, "investment"),
        (
            "American firms have invested roughly $54 billion in India.",
            "American firms",
            "India",
            "investment",
        ),
        ("Bilateral exports to Peru reached $9 billion.", None, None, "trade"),
        ("The city saves $2 million each year.", None, None, "other"),
    ],
)
def test_funder_recipient_and_flow_stage(
    text: str, funder: str | None, recipient: str | None, stage: str
) -> None:
    (fact,) = _money(text)
    assert (fact.funder, fact.recipient, fact.flow_stage) == (funder, recipient, stage)


def test_each_amount_takes_the_stage_of_its_own_clause() -> None:
    text = "Of the $3 billion announced at the summit, $1.2 billion has already been disbursed."
    assert [f.flow_stage for f in _money(text)] == ["pledge", "disbursement"]


def test_an_article_is_not_a_funder() -> None:
    (fact,) = _money("A loan of $150 million will finance roads.")
    assert (fact.funder, fact.what) == (None, "loan")


def test_flow_stages_are_the_schema_values() -> None:
    from pipeline.schemas import FLOW_STAGES

    texts = ["Japan pledged ¥2 billion.", "They spent $1 million.", "It costs $5."]
    assert {f.flow_stage for t in texts for f in _money(t)} <= set(FLOW_STAGES)


@given(st.text(max_size=200))
def test_any_text_gives_spans_inside_it(text: str) -> None:
    for fact in _money(text):
        assert 0 <= fact.start < fact.end <= len(text)
        assert text[fact.start : fact.end].strip()
        assert fact.flow_stage is not None


_SEEDS = [
    "USAID provided more than $5 million to Peru in 2020",
    "between $1 and $2 million",
    "approximately €300 billion by 2027",
    "Japan pledged ¥2 billion to the fund",
    "KSh 2.5 billion since FY 2015",
]


@given(
    st.lists(st.sampled_from([*_SEEDS, " ", ", ", ". ", "(", ")", "\n", "the", "to"]), max_size=12)
)
def test_money_like_text_never_breaks(parts: list[str]) -> None:
    text = "".join(parts)
    for fact in _money(text):
        assert 0 <= fact.start < fact.end <= len(text)
        assert fact.amount is None or fact.amount >= 0


def test_zero_amounts_are_not_money_facts() -> None:
    text = "Tariffs fell to $0 on 90 percent of goods, and $0.0 million was spent; $3 million more."
    assert [(f.amount, text[f.start : f.end]) for f in _money(text)] == [
        (3_000_000.0, "$3 million")
    ]


@given(st.lists(st.sampled_from([*_SEEDS, "$0", "US$ 0.00", " ", ". "]), max_size=10))
def test_every_amount_is_positive(parts: list[str]) -> None:
    assert all(f.amount is None or f.amount > 0 for f in _money("".join(parts)))
