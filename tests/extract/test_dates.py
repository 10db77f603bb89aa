"""Tests of the dates extractor on small texts written for the purpose."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.extract.base import DateFact, DocContext
from pipeline.extract.dates import EXTRACTOR, extract_dates, find_full_dates
from pipeline.schemas import DATE_BASES, DATE_PRECISIONS

NOV_15 = DocContext(published_date=dt.date(2030, 11, 15), published_precision="day")
NO_DATE = DocContext()


def rows(text: str, ctx: DocContext = NO_DATE) -> list[tuple[str, str | None, str, str]]:
    """(quote, iso, precision, basis) for every fact, in order."""
    return [(text[f.start : f.end], f.iso, f.precision, f.basis) for f in extract_dates(text, ctx)]


@pytest.mark.parametrize(
    ("text", "quote", "iso"),
    [
        ("The ministers met on March 3, 2021 in Lima.", "March 3, 2021", "2021-03-03"),
        ("The ministers met on 3 March 2021 in Lima.", "3 March 2021", "2021-03-03"),
        ("The ministers met on the 3rd of March, 2021.", "3rd of March, 2021", "2021-03-03"),
        ("Signed Sept. 14, 2019 by both envoys.", "Sept. 14, 2019", "2019-09-14"),
        ("Signed Dec 1st 2019 by both envoys.", "Dec 1st 2019", "2019-12-01"),
        ("Record of 2019-09-14 meeting.", "2019-09-14", "2019-09-14"),
        ("Dated 09/14/2019 at the embassy.", "09/14/2019", "2019-09-14"),
    ],
)
def test_full_dates(text: str, quote: str, iso: str) -> None:
    assert rows(text) == [(quote, iso, "day", "explicit")]


def test_full_date_interval_and_extractor() -> None:
    [fact] = extract_dates("Talks opened on July 4, 2022.", NO_DATE)
    assert fact == DateFact(
        16, 28, "2022-07-04", "day", dt.date(2022, 7, 4), dt.date(2022, 7, 4), "explicit", EXTRACTOR
    )


def test_day_first_numeric_when_context_says_so() -> None:
    ctx = DocContext(month_first=False)
    assert rows("Dated 05/02/2013.", ctx) == [("05/02/2013", "2013-02-05", "day", "explicit")]
    assert rows("Dated 05/02/2013.") == [("05/02/2013", "2013-05-02", "day", "explicit")]


def test_impossible_day_is_not_a_date() -> None:
    assert rows("Dated February 30, 2021 and 13/13/2021.") == []


def test_month_year() -> None:
    [fact] = extract_dates("In August 2019, the port reopened.", NO_DATE)
    assert (fact.iso, fact.precision, fact.date_start, fact.date_end) == (
        "2019-08",
        "month",
        dt.date(2019, 8, 1),
        dt.date(2019, 8, 31),
    )


@pytest.mark.parametrize(
    ("text", "quote", "iso"),
    [
        ("Exports grew in 2019 and again in 2021.", "2019", "2019"),
        ("Aid has flowed since 1998.", "1998", "1998"),
        ("The plant should open by 2031.", "2031", "2031"),
        ("Output peaked in mid-2017.", "2017", "2017"),
        ("Work ends at the end of 2027.", "2027", "2027"),
    ],
)
def test_bare_year_after_time_word(text: str, quote: str, iso: str) -> None:
    assert rows(text)[0] == (quote, iso, "year", "explicit")


def test_year_list_continues() -> None:
    assert [q for q, *_ in rows("Joint drills took place in 2019, 2020 and 2022.")] == [
        "2019",
        "2020",
        "2022",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "The Andes Connect 2030 initiative was launched.",
        "More than 2500 officers were trained.",
        "A grant of $2019 was paid.",
        "Resolution 2017 of the council.",
        "Trade rose 2020 percent.",
        "Peru entered the 21st century as a partner.",
        "The clip lasts 0:03:31 in total.",
        "Relations grew over the past four years.",
        "Today, this year and recently are relative words.",
        "The Instituto del Mar del Peru signed a letter.",
        "May the partnership flourish.",
        "They visited in the 1990s.",
    ],
)
def test_not_dates(text: str) -> None:
    assert rows(text) == []


def test_attributive_year_needs_a_dated_noun() -> None:
    text = "Chile's 2017 census and the 2030 Agenda; the 2000 volunteers; the 2019 elections."
    assert [q for q, *_ in rows(text)] == ["2017", "2019"]


def test_change_by_is_an_amount_not_a_year() -> None:
    assert rows("Enrolment rose by 2020 while exports doubled by 2025.") == [
        ("2025", "2025", "year", "explicit")
    ]


def test_month_lists_and_ranges() -> None:
    text = "Patrols ran in March, April and June, then from August to October 2031."
    assert [(q, iso) for q, iso, *_ in rows(text, NOV_15)] == [
        ("March", "2030-03"),
        ("April", "2030-04"),
        ("June", "2030-06"),
        ("August", "2031-08"),
        ("October 2031", "2031-10"),
    ]


def test_fiscal_years() -> None:
    text = "Since Fiscal Year (FY) 2016, and in FY2022, FY 2023 and fiscal year 2024."
    assert [(q, iso, p) for q, iso, p, _ in rows(text)] == [
        ("Fiscal Year (FY) 2016", "FY2016", "fiscal_year"),
        ("FY2022", "FY2022", "fiscal_year"),
        ("FY 2023", "FY2023", "fiscal_year"),
        ("fiscal year 2024", "FY2024", "fiscal_year"),
    ]
    fact = extract_dates("in FY 2016", NO_DATE)[0]
    assert (fact.date_start, fact.date_end) == (dt.date(2015, 10, 1), dt.date(2016, 9, 30))


def test_year_ranges_give_two_rows() -> None:
    assert rows("The 2018-2022 plan and the 2010–13 plan; from 2009 to 2016.") == [
        ("2018", "2018", "year", "explicit"),
        ("2022", "2022", "year", "explicit"),
        ("2010", "2010", "year", "explicit"),
        ("13", "2013", "year", "explicit"),
        ("2009", "2009", "year", "explicit"),
        ("2016", "2016", "year", "explicit"),
    ]


def test_day_range_borrows_year_of_second_end() -> None:
    assert rows("The fair ran from June 2 to June 5, 2022.") == [
        ("June 2", "2022-06-02", "day", "explicit"),
        ("June 5, 2022", "2022-06-05", "day", "explicit"),
    ]


def test_compact_day_range_is_one_interval() -> None:
    [fact] = extract_dates("Talks on June 2-5, 2022 in Cusco.", NO_DATE)
    assert (fact.iso, fact.date_start, fact.date_end) == (
        "2022-06-02",
        dt.date(2022, 6, 2),
        dt.date(2022, 6, 5),
    )


def test_yearless_dates_resolve_from_publication_date() -> None:
    text = "In September, the board met. On November 3 the port opened. 12 October was busy."
    assert rows(text, NOV_15) == [
        ("September", "2030-09", "month", "document_context"),
        ("November 3", "2030-11-03", "day", "document_context"),
        ("12 October", "2030-10-12", "day", "document_context"),
    ]


def test_later_month_in_past_tense_is_previous_year() -> None:
    assert rows("In December, the mission arrived.", NOV_15) == [
        ("December", "2029-12", "month", "document_context")
    ]


def test_future_tense_keeps_year_or_looks_ahead() -> None:
    assert rows("The mission will arrive in December.", NOV_15)[0][1] == "2030-12"
    assert rows("The next round will be held in March.", NOV_15)[0][1] == "2031-03"


def test_year_only_publication_date_is_not_shifted() -> None:
    ctx = DocContext(published_date=dt.date(2030, 1, 1), published_precision="year")
    assert rows("In December, the mission arrived.", ctx) == [
        ("December", "2030-12", "month", "document_context")
    ]


def test_month_with_relative_year() -> None:
    assert rows("They met in June last year.", NOV_15) == [
        ("June", "2029-06", "month", "document_context")
    ]


def test_unresolved_without_publication_date() -> None:
    facts = extract_dates("Negotiators met in April and on July 8.", NO_DATE)
    assert [(f.iso, f.precision, f.date_start, f.date_end, f.basis) for f in facts] == [
        (None, "month", None, None, "unresolved"),
        (None, "day", None, None, "unresolved"),
    ]


def test_garbled_ordinal_suffix_on_month() -> None:
    assert rows("Both sides welcomed the 14 Juneth session.", NOV_15) == [
        ("14 June", "2030-06-14", "day", "document_context")
    ]


def test_abbreviated_month_needs_period_or_day() -> None:
    assert rows("Signed Oct. 2021 and on Mar 4, 2020; not Jan de Vries.") == [
        ("Oct. 2021", "2021-10", "month", "explicit"),
        ("Mar 4, 2020", "2020-03-04", "day", "explicit"),
    ]


def test_find_full_dates() -> None:
    text = "On May 9, 2024 (2024-05-10) and in 2012 and in May."
    assert find_full_dates(text) == [
        (3, 14, dt.date(2024, 5, 9)),
        (16, 26, dt.date(2024, 5, 10)),
    ]
    assert find_full_dates("No dates here.") == []


# --- properties -------------------------------------------------------------------------

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
ABBREVIATED = (
    "Jan.",
    "Feb.",
    "Mar.",
    "Apr.",
    "May",
    "June",
    "July",
    "Aug.",
    "Sept.",
    "Oct.",
    "Nov.",
    "Dec.",
)
STYLES = (
    lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    lambda d: d.isoformat(),
    lambda d: f"{d.month:02d}/{d.day:02d}/{d.year}",
    lambda d: f"{ABBREVIATED[d.month - 1]} {d.day}, {d.year}",
)
dates = st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2099, 12, 31))


@given(
    dates,
    st.sampled_from(STYLES),
    st.sampled_from(["On ", "Signed ", "(", ""]),
    st.sampled_from([".", ", in Lima.", ")", ""]),
)
def test_any_style_parses_back(day: dt.date, style: object, before: str, after: str) -> None:
    expr = style(day)  # type: ignore[operator]
    text = f"{before}{expr}{after}"
    [fact] = extract_dates(text, NO_DATE)
    assert (text[fact.start : fact.end], fact.iso, fact.date_start) == (expr, day.isoformat(), day)
    assert find_full_dates(text) == [(fact.start, fact.end, day)]


TOKENS = [*"0123456789 ,.-/–", "May", "March", "in ", "FY", "since ", "Oct.", "th", "2024"]


@given(
    st.lists(st.sampled_from(TOKENS), max_size=30).map("".join),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)),
)
def test_facts_are_well_formed(text: str, published: dt.date) -> None:
    ctx = DocContext(published_date=published)
    for fact in extract_dates(text, ctx):
        assert 0 <= fact.start < fact.end <= len(text)
        assert text[fact.start : fact.end].strip()
        assert fact.precision in DATE_PRECISIONS and fact.basis in DATE_BASES
        assert (fact.iso is None) == (fact.date_start is None) == (fact.basis == "unresolved")
        if fact.date_start is not None and fact.date_end is not None:
            assert fact.date_start <= fact.date_end


# --- added forms ------------------------------------------------------------------------


def test_dotted_numeric_dates() -> None:
    assert rows("Dated 05.02.2013.") == [("05.02.2013", "2013-05-02", "day", "explicit")]
    ctx = DocContext(month_first=False)
    assert rows("Dated 05.02.2013.", ctx) == [("05.02.2013", "2013-02-05", "day", "explicit")]
    assert rows("Version 1.2.2013 shipped.") == []


def test_fiscal_year_ranges_give_two_rows() -> None:
    text = "Funds in FY 2015-16, FY2018–FY2020 and fiscal years 2021 to 2022."
    assert [(q, iso) for q, iso, *_ in rows(text)] == [
        ("FY 2015", "FY2015"),
        ("16", "FY2016"),
        ("FY2018", "FY2018"),
        ("FY2020", "FY2020"),
        ("fiscal years 2021", "FY2021"),
        ("2022", "FY2022"),
    ]


@pytest.mark.parametrize(
    ("text", "quote", "iso"),
    [
        ("MAY 9, 2024 - WASHINGTON - The leaders met.", "MAY 9, 2024", "2024-05-09"),
        ("LIMA, 9 MAY 2024 - The leaders met.", "9 MAY 2024", "2024-05-09"),
        ("SEPT. 14, 2019: ministers signed.", "SEPT. 14, 2019", "2019-09-14"),
    ],
)
def test_month_names_in_capitals(text: str, quote: str, iso: str) -> None:
    assert rows(text) == [(quote, iso, "day", "explicit")]


def test_capital_month_alone_needs_context() -> None:
    assert rows("YOU MAY APPLY NOW.") == []


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("2023 was a record year for trade.", "2023"),
        ("Exports grew. 2024 marks a new era.", "2024"),
        ("• 2026 will be the bicentennial.", "2026"),
    ],
)
def test_year_as_sentence_subject(text: str, year: str) -> None:
    assert rows(text) == [(year, year, "year", "explicit")]


def test_number_opening_a_sentence_is_not_a_year() -> None:
    assert rows("2000 people attended. Officials said 2023 was good.") == []


def test_attributive_year_before_a_named_event() -> None:
    text = "Leaders met at the 2024 APEC Summit and Peru's 2021 General Elections."
    assert [q for q, *_ in rows(text)] == ["2024", "2021"]
    assert rows("the 2000 Peruvian volunteers") == []


def test_relative_words_are_not_rows() -> None:
    assert rows("This year, last year and next year; recently and today.", NOV_15) == []


@given(st.text(), st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_any_text_is_safe(text: str, published: dt.date) -> None:
    for fact in extract_dates(text, DocContext(published_date=published, month_first=False)):
        assert 0 <= fact.start < fact.end <= len(text)
        assert text[fact.start : fact.end].strip()
