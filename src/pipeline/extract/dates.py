"""Calendar references in a passage: full dates, months, years and fiscal years.

Each reference becomes one :class:`DateFact` whose span is the date expression
itself ("May 9, 2024", "FY 2015", "October"), never the preposition before it.
Yearless references are resolved from the document's publication date.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

import yaml

from pipeline.extract.base import DateFact, DocContext

EXTRACTOR = "dates@0.2.0"


def _load(name: str) -> Any:
    """Parse one YAML vocabulary shipped in ``pipeline/resources``."""
    text = resources.files("pipeline").joinpath("resources", name).read_text("utf-8")
    return yaml.safe_load(text)


@functools.cache
def _month_table() -> dict[str, dict[str, int]]:
    data: dict[str, dict[str, int]] = _load("months.yaml")
    return data


@functools.cache
def _months() -> dict[str, int]:
    """Month number by name as written: "May", "MAY" (datelines, headings) or "Sept"."""
    names = {**_month_table()["full"], **_month_table()["abbreviations"]}
    return {**names, **{name.upper(): number for name, number in names.items()}}


@functools.cache
def _context() -> dict[str, Any]:
    data: dict[str, Any] = _load("date_context.yaml")
    return data


def _alternation(words: list[str]) -> str:
    """Regex alternation of literal words, longest first so prefixes do not win."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# Speed: Python's regex engine skips quickly to possible starts only when a pattern
# opens with a literal, a character class, or an alternation of literals. So the
# patterns below open with a digit or a month's first letter, and the checks on the
# character before a match come right after that first character as lookbehinds
# ("(?<!\w.)": the character before the first one is not a word character).


def _month_pattern(group: str) -> str:
    # Full names may carry a garbled ordinal suffix ("29 Aprilth"); abbreviations
    # need a period or a following number, so "Instituto del Mar" is not March.
    table = _month_table()
    alts = [(n, r"(?=th\b|\b)") for n in table["full"]]
    alts += [(n, r"(?:\.|\b(?=\s+\d))") for n in table["abbreviations"]]
    alts += [(n.upper(), tail) for n, tail in alts]
    alts.sort(key=lambda alt: len(alt[0]), reverse=True)
    body = "|".join(rf"{n[0]}(?<!\w.){re.escape(n[1:])}{tail}" for n, tail in alts)
    return rf"(?P<{group}>{body})"


def _day(group: str) -> str:
    return rf"(?P<{group}>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?(?![\d:])"


# Not part of a larger number or an amount: the character before the first digit is
# no word character, currency sign or number punctuation, nor a digit and a dash.
_LEAD = r"(?<![\w$€£¥.,/#]\d)(?<!\d[-–]\d)"


def _day_first(group: str) -> str:
    """A day opening a pattern; out-of-range days (0, 45) are rejected by ``_valid``."""
    return rf"(?P<{group}>\d{_LEAD}\d?)(?:st|nd|rd|th)?(?![\d:])"


def _year_first(group: str) -> str:
    """A year (1700-2099) opening a pattern."""
    return rf"(?P<{group}>[12]{_LEAD}\d\d\d(?<=1[7-9]\d\d|20\d\d))(?!\d|[.,]\d|%|/)"


def _year(group: str) -> str:
    return rf"(?P<{group}>1[7-9]\d\d|20\d\d)(?!\d|[.,]\d|%|/)"


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("".join(parts))


_DASH = r"\s?[-–—]\s?"

_P_ISO = re.compile(
    r"(?P<y>\d(?<![\d/.-]\d)\d{3})(?P<sep>[-/])(?P<m>\d\d)(?P=sep)(?P<d>\d\d)(?![\d/])"
)
# 05/02/2013 or 5/2/2013; with dots only two-digit parts (05.02.2013, checked in the
# rule), as "1.2.2013" is more often a version or section number.
_P_NUMERIC = re.compile(
    r"(?P<a>\d(?<![\d/.]\d)\d?)(?P<sep>[/.])(?P<b>\d\d?)(?P=sep)(?P<y>\d{4})(?![\d/]|\.\d)"
)
_MON = _month_pattern("mon")
_P_MDY_RANGE = _rx(_MON, r"\s+", _day("d"), _DASH, _day("d2"), r",?\s+", _year("y"))
_P_DMY_RANGE = _rx(_day_first("d"), _DASH, _day("d2"), r"\s+", _MON, r",?\s+", _year("y"))
_P_MDY = _rx(_MON, r"\s+", _day("d"), r"(?:,\s*|\s+)", _year("y"))
_P_DMY = _rx(_day_first("d"), r"\s+(?:of\s+)?", _MON, r",?\s+", _year("y"))
_P_FISCAL = re.compile(
    r"\b(?:FY|[Ff]iscal [Yy]ear \(FY\)|[Ff]iscal [Yy]ear|[Ff]iscal)"
    r"[\s-]?(?P<y>\d{4}|\d\d)(?![\d.,]\d|\d)"
)
# "FY 2015-16", "FY2015–FY2017", "fiscal years 2015-2016": one row per end.
_P_FISCAL_RANGE = re.compile(
    r"\b(?P<fy>FY|[Ff]iscal [Yy]ears?)[\s-]?(?P<y>\d{4}|\d\d)"
    r"(?P<dash>\s?[-–—]\s?|\s(?:to|through)\s)(?:FY\s?)?(?P<y2>\d{4}|\d\d)(?![\d.,]\d|\d)"
)
_P_MONTH_YEAR = _rx(_MON, r",?\s+", _year("y"))
_P_YEAR_RANGE = re.compile(_year_first("y") + _DASH + r"(?P<y2>1[7-9]\d\d|20\d\d|\d\d)\b(?!-)")
_P_MONTH_DAY = _rx(_MON, r"\s+", _day("d"), r"(?![.,]\d)")
_P_DAY_MONTH = _rx(_day_first("d"), r"\s+(?:of\s+)?", _MON)
_P_MONTH = re.compile(_MON)
_P_YEAR = re.compile(_year_first("y") + r"(?!-\d|:\d)")
# "\d\d{3}", not "\d{4}": a pattern opening with a repeat is tried at every position,
# one opening with a class lets the engine skip ahead to the next digit.
_P_FOUR_DIGITS = re.compile(r"\d\d{3}")
# What comes before a sentence-initial word: end punctuation or a line/bullet start.
_P_SENTENCE_OPEN = re.compile(r"(?:[.!?;:]|\n|^|[•·▪*-])[\"')\]]?\s*$")
# Sentence or bullet boundary: end punctuation, then anything but a lower-case word.
_P_SENTENCE_END = re.compile(r"[.!?;][\"')\]]?\s+(?=[^a-z\s])|\s[•·▪]\s")


def _words_before(words: list[str]) -> re.Pattern[str]:
    """Pattern true when the text before a match ends with one of ``words``."""
    return re.compile(rf"(?:^|[\s(\"'])(?:{_alternation(words)})[\s-]*$", re.IGNORECASE)


@functools.cache
def _context_patterns() -> dict[str, re.Pattern[str]]:
    ctx = _context()
    years = r"(?:\d{4}|FY\s?\d{2,4})"
    return {
        "year_prev": _words_before(ctx["year_prev_words"]),
        "determiner": _words_before(ctx["determiners"]),
        "year_of": _words_before([f"{w} of" for w in ctx["year_of_words"]]),
        "year_list": re.compile(
            rf"{years}(?:,\s*{years})*(?:,?\s+(?:{_alternation(ctx['year_list_words'])})\s+|,\s*)$"
        ),
        "month_prev": _words_before(ctx["month_prev_words"]),
        "month_list": re.compile(
            rf"\b(?:{_alternation(list(_month_table()['full']))})\.?"
            rf"(?:,\s*|\s+(?:{_alternation(ctx['year_list_words'])})\s+)$"
        ),
        "possessive": re.compile(r"\w's\s+$"),
        "change_by": _words_before([f"{w} by" for w in ctx["change_verbs"]]),
        # Up to three capitalised words may name the thing: "the 2024 APEC Leaders' Summit".
        "attributive_noun": re.compile(
            rf"\s+(?:(?-i:[A-Z][\w.'’-]*)\s+){{0,3}}"
            rf"(?:{_alternation(ctx['year_attributive_nouns'])})s?\b",
            re.IGNORECASE,
        ),
        "year_subject": re.compile(
            rf"\s+(?:{_alternation(ctx['year_subject_verbs'])})\b", re.IGNORECASE
        ),
        "connector": re.compile(rf"^\s*(?:{_alternation(ctx['range_connectors'])})\s*$"),
        "future": re.compile(rf"\b(?:{_alternation(ctx['future_markers'])})\b", re.IGNORECASE),
        "relative": re.compile(
            rf",?\s+({_alternation(list(ctx['relative_years']))})\b", re.IGNORECASE
        ),
    }


@dataclass(frozen=True, slots=True)
class _Ref:
    """A matched date expression before its year is resolved."""

    start: int
    end: int
    precision: str
    year: int | None = None
    month: int | None = None
    day: int | None = None
    last_day: int | None = None  # end of a day range ("May 1-3, 2024")


def _month_of(m: re.Match[str]) -> int:
    return _months()[m["mon"].rstrip(".")]


def _full_year(short: str, like: int) -> int:
    """Expand a two-digit year next to a four-digit one ("2018-22" -> 2022)."""
    return int(short) if len(short) == 4 else like // 100 * 100 + int(short)


def _valid(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def _ref_iso(m: re.Match[str], ctx: DocContext) -> list[_Ref]:
    y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
    return [_Ref(m.start(), m.end(), "day", y, mo, d)] if _valid(y, mo, d) else []


def _ref_numeric(m: re.Match[str], ctx: DocContext) -> list[_Ref]:
    if m["sep"] == "." and len(m["a"]) + len(m["b"]) < 4:
        return []
    a, b, y = int(m["a"]), int(m["b"]), int(m["y"])
    mo, d = (a, b) if ctx.month_first else (b, a)
    return [_Ref(m.start(), m.end(), "day", y, mo, d)] if _valid(y, mo, d) else []


def _ref_day_range(m: re.Match[str], ctx: DocContext) -> list[_Ref]:
    y, mo, d, d2 = int(m["y"]), _month_of(m), int(m["d"]), int(m["d2"])
    if not (_valid(y, mo, d) and _valid(y, mo, d2) and d < d2):
        return []
    return [_Ref(m.start(), m.end(), "day", y, mo, d, last_day=d2)]


def _ref_full(m: re.Match[str], ctx: DocContext) -> list[_Ref]:
    y, mo, d = int(m["y"]), _month_of(m), int(m["d"])
    return [_Ref(m.start(), m.end(), "day", y, mo, d)] if _valid(y, mo, d) else []


def _ref_fiscal(m: re.Match[str], ctx: DocContext) -> list[_Ref]:
    y = _full_year(m["y"], 2000)
    return [_Ref(m.start(), m.end(), "fiscal_year", y)] if 1700 <= y <= 2099 else []


def _ref_fiscal_range(m: re.Match[str], ctx: DocContext) -> list[_Ref]:
    y1 = _full_year(m["y"], 2000)
    y2 = _full_year(m["y2"], y1)
    if not (1700 <= y1 < y2 <= 2099):
        return []
    return [
        _Ref(m.start(), m.end("y"), "fiscal_year", y1),
        _Ref(m.end("dash"), m.end(), "fiscal_year", y2),
    ]


def _ref_month_year(m: re.Match[str], ctx: DocContext) -> list[_Ref]:
    return [_Ref(m.start(), m.end(), "month", int(m["y"]), _month_of(m))]


def _ref_year_range(m: re.Match[str], ctx: DocContext) -> list[_Ref]:
    y1 = int(m["y"])
    y2 = _full_year(m["y2"], y1)
    if y2 <= y1 or _is_name(m.string, m.start()):
        return []
    return [_Ref(m.start("y"), m.end("y"), "year", y1), _Ref(m.start("y2"), m.end(), "year", y2)]


def _ref_month_day(m: re.Match[str], ctx: DocContext) -> list[_Ref]:
    mo, d = _month_of(m), int(m["d"])
    return [_Ref(m.start(), m.end(), "day", None, mo, d)] if _valid(2000, mo, d) else []


def _ref_month(m: re.Match[str], ctx: DocContext) -> list[_Ref]:
    pats, before = _context_patterns(), m.string[max(0, m.start() - 40) : m.start()]
    if not any(pats[k].search(before) for k in ("month_prev", "month_list")):
        return []
    return [_Ref(m.start(), m.end(), "month", None, _month_of(m))]


def _ref_year(m: re.Match[str], ctx: DocContext) -> list[_Ref]:
    pats, before = _context_patterns(), m.string[max(0, m.start() - 40) : m.start()]
    ok = any(pats[k].search(before) for k in ("year_prev", "year_of", "year_list"))
    ok = ok or _is_year_subject(m, before)
    ok = ok and not pats["change_by"].search(before)
    # Attributive use: "the 2016 elections", "Peru's 2021 census" (not "the 2030 Agenda").
    if not ok and any(pats[k].search(before) for k in ("determiner", "possessive")):
        ok = pats["attributive_noun"].match(m.string, m.end()) is not None
    return [_Ref(m.start(), m.end(), "year", int(m["y"]))] if ok else []


def _is_year_subject(m: re.Match[str], before: str) -> bool:
    """A year opening a sentence as its subject: "2023 was a record year"."""
    if before.strip() and not _P_SENTENCE_OPEN.search(before):
        return False
    return _context_patterns()["year_subject"].match(m.string, m.end()) is not None


def _is_name(text: str, start: int) -> bool:
    """True when a capitalised non-date word precedes: "Connecting the Americas 2022"."""
    before = text[max(0, start - 40) : start]
    if any(_context_patterns()[k].search(before) for k in ("year_prev", "determiner")):
        return False
    return bool(re.search(r"\b[A-Z][\w.]*\s+$", before))


_Rule = Callable[[re.Match[str], DocContext], list[_Ref]]

# Most specific first: a span taken by an earlier rule blocks overlapping later ones.
# Each rule with what its pattern cannot match without: a year (four digits), a month
# name, a digit or a fiscal-year word. One cheap test per passage for each of these skips
# most patterns in most passages (half the passages of the genre have no digit at all).
_RULES: tuple[tuple[re.Pattern[str], _Rule, frozenset[str]], ...] = (
    (_P_ISO, _ref_iso, frozenset({"year"})),
    (_P_NUMERIC, _ref_numeric, frozenset({"year"})),
    (_P_MDY_RANGE, _ref_day_range, frozenset({"year", "month"})),
    (_P_DMY_RANGE, _ref_day_range, frozenset({"year", "month"})),
    (_P_MDY, _ref_full, frozenset({"year", "month"})),
    (_P_DMY, _ref_full, frozenset({"year", "month"})),
    (_P_FISCAL_RANGE, _ref_fiscal_range, frozenset({"fiscal", "digit"})),
    (_P_FISCAL, _ref_fiscal, frozenset({"fiscal", "digit"})),
    (_P_MONTH_YEAR, _ref_month_year, frozenset({"year", "month"})),
    (_P_YEAR_RANGE, _ref_year_range, frozenset({"year"})),
    (_P_MONTH_DAY, _ref_month_day, frozenset({"digit", "month"})),
    (_P_DAY_MONTH, _ref_month_day, frozenset({"digit", "month"})),
    (_P_MONTH, _ref_month, frozenset({"month"})),
    (_P_YEAR, _ref_year, frozenset({"year"})),
)
_FULL_DATE_RULES = _RULES[:6]  # the first rules: they take their spans first
_P_DIGIT = re.compile(r"\d")


def _present(text: str) -> frozenset[str]:
    """Which of the rules' prerequisites ``text`` has."""
    if not _P_DIGIT.search(text):  # then no year either: only bare month names can match
        return frozenset({"month"}) if _P_MONTH.search(text) else frozenset()
    found = {"digit"}
    if _P_FOUR_DIGITS.search(text):
        found.add("year")
    if _P_MONTH.search(text):
        found.add("month")
    if "FY" in text or "iscal" in text:
        found.add("fiscal")
    return frozenset(found)


def _overlaps(taken: list[tuple[int, int]], start: int, end: int) -> bool:
    i = bisect.bisect_left(taken, (start, end))
    neighbours = taken[max(0, i - 1) : i + 1]
    return any(s < end and start < e for s, e in neighbours)


def _match_refs(
    text: str,
    ctx: DocContext,
    rules: tuple[tuple[re.Pattern[str], _Rule, frozenset[str]], ...],
    present: frozenset[str],
    refs: list[_Ref],
) -> None:
    """Apply the rules in priority order; add to ``refs`` those that do not overlap a ref
    already there (found by earlier rules)."""
    taken = sorted((ref.start, ref.end) for ref in refs)
    for pattern, rule, needs in rules:
        if not needs <= present:
            continue
        for m in pattern.finditer(text):
            if _overlaps(taken, m.start(), m.end()):
                continue
            for ref in rule(m, ctx):
                bisect.insort(taken, (ref.start, ref.end))
                refs.append(ref)


@functools.lru_cache(maxsize=1024)
def _full_date_refs(text: str, month_first: bool) -> tuple[frozenset[str], tuple[_Ref, ...]]:
    """The rules' prerequisites in ``text`` and the refs of the full-date rules, cached:
    the metadata reads the full dates of a document's passages right before the extractor
    runs every rule over them, the full-date rules first (no rule uses more of the
    context than ``month_first``)."""
    present = _present(text)
    refs: list[_Ref] = []
    _match_refs(text, DocContext(month_first=month_first), _FULL_DATE_RULES, present, refs)
    return present, tuple(refs)


def find_full_dates(text: str, month_first: bool = True) -> list[tuple[int, int, dt.date]]:
    """Explicit day-precision dates with a year: ``(start, end, date)`` in text order."""
    if not _P_FOUR_DIGITS.search(text):  # cheap exit: every full date has a year
        return []
    _, found = _full_date_refs(text, month_first)
    refs = sorted(found, key=lambda r: r.start)
    return [(r.start, r.end, _interval(r)[0]) for r in refs if r.year is not None]


def _interval(ref: _Ref) -> tuple[dt.date, dt.date]:
    """First and last day covered by a ref whose year is known."""
    assert ref.year is not None
    y = ref.year
    if ref.precision == "fiscal_year":  # US federal fiscal year: Oct 1 - Sep 30
        return dt.date(y - 1, 10, 1), dt.date(y, 9, 30)
    if ref.precision == "year":
        return dt.date(y, 1, 1), dt.date(y, 12, 31)
    assert ref.month is not None
    if ref.precision == "month":
        return dt.date(y, ref.month, 1), dt.date(y, ref.month, calendar.monthrange(y, ref.month)[1])
    assert ref.day is not None
    return dt.date(y, ref.month, ref.day), dt.date(y, ref.month, ref.last_day or ref.day)


def _iso(ref: _Ref) -> str:
    y = f"{ref.year:04d}"
    if ref.precision == "fiscal_year":
        return f"FY{y}"
    if ref.precision == "year":
        return y
    if ref.precision == "month":
        return f"{y}-{ref.month:02d}"
    return f"{y}-{ref.month:02d}-{ref.day:02d}"


def _sentence(text: str, start: int) -> str:
    """The sentence of ``text`` that holds offset ``start``."""
    bounds = [0, *(m.end() for m in _P_SENTENCE_END.finditer(text)), len(text)]
    i = bisect.bisect_right(bounds, start)
    return text[bounds[i - 1] : bounds[min(i, len(bounds) - 1)]]


def _year_from_document(text: str, ref: _Ref, ctx: DocContext) -> int | None:
    """Year of a yearless month or day, read relative to the publication date."""
    pub = ctx.published_date
    if pub is None:
        return None
    relative = _context_patterns()["relative"].match(text, ref.end)
    if relative:
        return pub.year + int(_context()["relative_years"][relative[1].lower()])
    if ctx.published_precision == "year" or ref.month is None:
        return pub.year
    future = bool(_context_patterns()["future"].search(_sentence(text, ref.start)))
    if ref.month > pub.month and not future:
        return pub.year - 1
    if ref.month < pub.month and future:
        return pub.year + 1
    return pub.year


def _borrowed_year(text: str, refs: list[_Ref], i: int) -> int | None:
    """Year of the next ref when the two form a range ("May 1 to May 3, 2024")."""
    if i + 1 >= len(refs) or refs[i + 1].year is None:
        return None
    gap = text[refs[i].end : refs[i + 1].start]
    return refs[i + 1].year if _context_patterns()["connector"].match(gap) else None


def _to_fact(ref: _Ref, basis: str) -> DateFact:
    if ref.year is None or (ref.day and not _valid(ref.year, ref.month or 0, ref.day)):
        return DateFact(
            ref.start, ref.end, None, ref.precision, None, None, "unresolved", EXTRACTOR
        )
    start, end = _interval(ref)
    return DateFact(ref.start, ref.end, _iso(ref), ref.precision, start, end, basis, EXTRACTOR)


def _resolve(text: str, refs: list[_Ref], ctx: DocContext) -> Iterator[DateFact]:
    for i, ref in enumerate(refs):
        if ref.year is not None:
            yield _to_fact(ref, "explicit")
        elif (year := _borrowed_year(text, refs, i)) is not None:
            yield _to_fact(replace(ref, year=year), "explicit")
        else:
            year = _year_from_document(text, ref, ctx)
            yield _to_fact(replace(ref, year=year), "document_context")


def extract_dates(text: str, ctx: DocContext) -> list[DateFact]:
    """Every calendar reference in one cleaned passage, in text order."""
    present, found = _full_date_refs(text, ctx.month_first)
    refs = list(found)
    _match_refs(text, ctx, _RULES[len(_FULL_DATE_RULES) :], present, refs)
    return list(_resolve(text, sorted(refs, key=lambda r: r.start), ctx))
