"""The faster formulations in pipeline.extract find exactly what the plain ones they
replaced found (the plain ones are written out here as the reference)."""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import claims
from pipeline.extract import dates, entities, topics
from pipeline.extract.base import DocContext
from pipeline.resources import load_yaml

_TOKENS = st.sampled_from(
    [
        *"aAZ09-.,&()$",
        *["Ministry", "of", "Foreign", "Affairs", "and", "the", "The", "U.S.", "United"],
        *["States", "Navy", "Peruvian", "Embassy", "Peru", "Agreement", "Fund", "Council"],
        *["NASA", "CONIDA", "SUNAT", "FY", "GDP", "AIDS", "APEC", "COVID-19", "WHO", "II"],
        *["May", "March", "Sept.", "2024", "2015-16", "05/02/2013", "1st", "14", "in", "by"],
        *["fiscal", "year", "years", "Secretary", "President", "Jane", "Roe", "(XIS)"],
    ]
)
_SEPARATORS = st.sampled_from([" ", " ", " ", "  ", "\n", ", ", ". ", "-", ""])
_TEXT = st.lists(st.tuples(_TOKENS, _SEPARATORS), max_size=25).map(
    lambda parts: "".join(token + sep for token, sep in parts)
)

_OLD_BARE_ACRONYM = re.compile(
    r"(?<![\w.&/-])(?<![A-Z]\s)[A-Z]{3,8}(?![\w&/-]|\.\w|\s[A-Z][A-Z\d]*\b)"
)


_Rules = tuple[tuple[re.Pattern[str], dates._Rule, frozenset[str]], ...]


def _old_refs(text: str, ctx: DocContext, rules: _Rules = dates._RULES) -> list[dates._Ref]:
    """The rules in one pass from nothing taken (before the full dates were shared)."""
    taken: list[tuple[int, int]] = []
    refs: list[dates._Ref] = []
    present = dates._present(text)
    for pattern, rule, needs in rules:
        if not needs <= present:
            continue
        for m in pattern.finditer(text):
            if dates._overlaps(taken, m.start(), m.end()):
                continue
            for ref in rule(m, ctx):
                bisect.insort(taken, (ref.start, ref.end))
                refs.append(ref)
    return sorted(refs, key=lambda r: r.start)


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.booleans())
def test_dates_with_shared_full_dates_are_the_one_pass_dates(text: str, month_first: bool) -> None:
    ctx = DocContext(dt.date(2020, 6, 1), "day", month_first)
    full = dates.find_full_dates(text, month_first)  # fills the cache first, as metadata does
    old_full = [
        (r.start, r.end, dates._interval(r)[0])
        for r in _old_refs(text, ctx, dates._FULL_DATE_RULES)
        if r.year is not None
    ]
    assert full == (old_full if re.search(r"\d{4}", text) else [])
    assert dates.extract_dates(text, ctx) == list(dates._resolve(text, _old_refs(text, ctx), ctx))


def _old_phrase_cands(text: str) -> Iterator[entities._Cand]:
    """_phrase_cands without skipping runs that have no head noun."""
    for m in entities._phrase_re().finditer(text):
        if not entities._P_SPACE.search(m[0]):
            continue
        start = m.start()
        for part_start, part_end in entities._splits(text, m.start(), m.end()):
            if cand := entities._typed_phrase(text, start, part_start):
                yield cand
            start = part_end
        if cand := entities._typed_phrase(text, start, m.end()):
            yield cand


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_entity_fast_paths_find_the_same_candidates(text: str) -> None:
    assert list(entities._phrase_cands(text)) == list(_old_phrase_cands(text))
    new = [m.span() for m in entities._P_BARE_ACRONYM.finditer(text)]
    assert new == [m.span() for m in _OLD_BARE_ACRONYM.finditer(text)]


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_topic_acronyms_match_the_leading_lookbehind_pattern(text: str) -> None:
    tax = topics._taxonomy()
    acronyms = [
        str(t)
        for topic in load_yaml("topics.yaml")["topics"]
        for t in (*topic["strong"], *topic["keywords"])
        if topics._is_acronym(str(t))
    ]
    old = re.compile(topics._alternation(acronyms))
    assert tax.acronyms.findall(text) == old.findall(text)


def _old_content_terms(sentence: str, quote: str) -> frozenset[str]:
    own = set(claims._TOKEN.findall(quote.casefold()))
    words = claims._TOKEN.findall(sentence.casefold())
    keep = (w for w in words if len(w) > 1 and w not in claims._STOPWORDS and w not in own)
    return frozenset(claims.stem(w) for w in keep)


@settings(max_examples=300, deadline=None)
@given(_TEXT, _TOKENS)
def test_fact_context_terms_are_the_plain_ones(sentence: str, quote: str) -> None:
    assert claims.content_terms(sentence, quote) == _old_content_terms(sentence, quote)
