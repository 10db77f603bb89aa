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
        ("Between 2015 and 2020, the fund lent $7 million.", "2015-2020"),
        ("On June 3, 2021, the fund lent $7 million.", "2021-06-03"),
        ("In FY24 the fund lent $7 million.", "FY2024"),
        ("The fund lent $7 million from FY 2009-2017.", "FY2009-FY2017"),
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
        ("They invested $5 million in 2020.", None),
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
