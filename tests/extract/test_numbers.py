"""Number parsing shared by the money and quantity extractors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.extract.numbers import find_numbers, parse_number, qualifier_before


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,000", 1000.0),
        ("97.5", 97.5),
        ("12,345,678.25", 12345678.25),
        ("200,000+", 200000.0),
        ("2.5 million", 2_500_000.0),
        ("3.5-million", 3_500_000.0),
        ("7 Billion", 7_000_000_000.0),
        ("1 trillion", 1e12),
        ("54K", 54_000.0),
        ("1.2bn", 1_200_000_000.0),
        ("40mn", 40_000_000.0),
        ("3B", 3_000_000_000.0),
        ("nine", 9.0),
        ("Eleven", 11.0),
        ("twenty-five", 25.0),
        ("two million", 2_000_000.0),
        ("a dozen", 12.0),
        ("two dozen", 24.0),
        ("a hundred", 100.0),
        ("three hundred and six", 306.0),
        ("one million two hundred thousand", 1_200_000.0),
        ("fifteen hundred", 1500.0),
    ],
)
def test_parse_number_values(text: str, value: float) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "thousand", "abc", "1,2", "two three", "21st", "G20"])
def test_parse_number_rejects_non_numbers(text: str) -> None:
    assert parse_number(text) is None


def test_spans_and_flags_in_running_text() -> None:
    text = "Over 200,000+ visitors, 4.5 million tons and twenty-two ships."
    found = find_numbers(text)
    assert [text[n.start : n.end] for n in found] == ["200,000+", "4.5 million", "twenty-two"]
    assert [n.plus for n in found] == [True, False, False]
    assert [n.grouped for n in found] == [True, False, False]
    assert found[1].base == 4.5 and found[1].scale == 1_000_000
    assert found[2].words


def test_numbers_glued_to_words_or_times_are_not_found() -> None:
    text = "G20 leaders met at 0:03:31 on 21st street; version 2024/11 ships."
    assert find_numbers(text) == []


def test_word_runs_split_into_separate_numbers() -> None:
    text = "two three"
    assert [(text[n.start : n.end], n.value) for n in find_numbers(text)] == [
        ("two", 2.0),
        ("three", 3.0),
    ]


def test_a_repeated_scale_starts_a_new_number() -> None:
    text = "two million three million"
    assert [n.value for n in find_numbers(text)] == [2_000_000.0, 3_000_000.0]


def test_article_is_part_of_the_span_only_before_a_scale_word() -> None:
    text = "a million people and a nine-member board"
    spans = [text[n.start : n.end] for n in find_numbers(text)]
    assert spans == ["a million", "nine"]


def test_number_words_inside_other_words_are_skipped_not_swallowed() -> None:
    # "one" ends "someone", "ten" ends "often": the scan must go on to the real numbers.
    text = "Someone two million; often ten; Atone a thousand; İstanbul three."
    found = [(text[n.start : n.end], n.value) for n in find_numbers(text)]
    assert found == [
        ("two million", 2_000_000.0),
        ("ten", 10.0),
        ("a thousand", 1000.0),
        ("three", 3.0),
    ]


@given(st.text(alphabet="aeinotwhrsudlfATOH -\n", max_size=40))
def test_word_scan_agrees_with_the_case_insensitive_pattern(text: str) -> None:
    from pipeline.extract.numbers import _WORDS_RE, _word_runs

    expected = [(m.start(), m.start("run"), m["run"]) for m in _WORDS_RE.finditer(text)]
    assert [(r.start, r.run_start, r.run) for r in _word_runs(text)] == expected


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        ("nearly ", "approx"),
        ("some ", "approx"),
        ("more than ", "min"),
        ("totaling more than  ", "min"),
        ("at least ", "min"),
        ("no more than ", "max"),
        ("up to ", "max"),
        ("a total of ", None),
        ("an average of ", None),
        ("Moreover ", None),
    ],
)
def test_qualifier_before(before: str, expected: str | None) -> None:
    text = before + "$5"
    found = qualifier_before(text, len(before))
    assert (found[0] if found else None) == expected


def test_under_is_an_upper_bound_only_for_money() -> None:
    text = "under 5"
    assert qualifier_before(text, 6) is None
    assert qualifier_before(text, 6, money=True) == ("max", 0)


def _words(n: int) -> str:
    """Independent spelling of a whole number below one trillion."""
    small = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ]
    tens = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]

    def below_thousand(k: int) -> list[str]:
        out: list[str] = []
        if k >= 100:
            out += [small[k // 100], "hundred"]
            k %= 100
        if k >= 20:
            out.append(tens[k // 10] + (f"-{small[k % 10]}" if k % 10 else ""))
        elif k or not out:
            out.append(small[k])
        return out

    parts: list[str] = []
    for scale, name in ((10**9, "billion"), (10**6, "million"), (10**3, "thousand")):
        if n >= scale:
            parts += [*below_thousand(n // scale), name]
            n %= scale
    if n or not parts:
        parts += below_thousand(n)
    return " ".join(parts)


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_integer_styles_parse_back(n: int) -> None:
    assert parse_number(str(n)) == n
    assert parse_number(f"{n:,}") == n
    assert parse_number(_words(n)) == n


@given(
    st.integers(min_value=1, max_value=999),
    st.integers(min_value=0, max_value=9),
    st.sampled_from([("thousand", 10**3), ("million", 10**6), ("billion", 10**9)]),
)
def test_scaled_decimals_parse_back(whole: int, tenth: int, scale: tuple[str, int]) -> None:
    word, factor = scale
    value = parse_number(f"{whole}.{tenth} {word}")
    assert value == pytest.approx((whole + tenth / 10) * factor)
    assert parse_number(f"{whole:,}+") == whole


@given(
    st.text(alphabet=st.sampled_from(list("0123456789,.+-–$ kKMmbn%abtwoneimlr:/")), max_size=40)
)
def test_spans_are_inside_the_text_and_non_empty(text: str) -> None:
    previous_end = 0
    for n in find_numbers(text):
        assert 0 <= n.start < n.end <= len(text)
        assert n.start >= previous_end  # no overlaps, text order
        previous_end = n.end


@given(st.text(max_size=60))
def test_spans_hold_for_any_text(text: str) -> None:
    for n in find_numbers(text):
        assert 0 <= n.start < n.end <= len(text)
        assert text[n.start : n.end].strip() == text[n.start : n.end]


@given(
    st.integers(min_value=1, max_value=999),
    st.sampled_from([("million", "m", 10**6), ("billion", "bn", 10**9), ("thousand", "K", 10**3)]),
)
def test_scale_words_and_abbreviations_agree(whole: int, scale: tuple[str, str, int]) -> None:
    word, abbreviation, factor = scale
    expected = whole * factor
    assert parse_number(f"{whole} {word}") == expected
    assert parse_number(f"{whole}-{word}") == expected
    assert parse_number(f"{whole}{abbreviation}") == expected
    assert parse_number(f"{_words(whole)} {word}") == expected


def test_south_asian_scales() -> None:
    assert parse_number("8,000 crore") == 8e10
    assert parse_number("five lakh") == 5e5
