"""The faster formulations in pipeline.extract find exactly what the plain ones they
replaced found (the plain ones are written out here as the reference)."""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import re
from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import claims
from pipeline.extract import dates, entities, numbers, quantities, run, topics
from pipeline.extract.base import DateFact, DocContext, EntityFact, MoneyFact, QuantityFact
from pipeline.ids import entity_id, fact_id, short_hash
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


_NUMBER_TOKENS = st.sampled_from(
    [
        *["one", "Two", "twenty", "twenty-five", "hundred", "Million", "a", "an", "A", "and"],
        *["dozen", "thousand", "nine", "eleven", "seventy", "sixty", "tens", "ones", "often"],
        *["x", "_", "é", "İ", "3", "1,000", "-", "(", "'", "anyone", "someone", "network"],
    ]
)
_NUMBER_SEPARATORS = st.sampled_from([" ", " ", "  ", "\t", "\n", "\u00a0", "-", "_", ",", ""])
_NUMBER_TEXT = st.lists(st.tuples(_NUMBER_TOKENS, _NUMBER_SEPARATORS), max_size=20).map(
    lambda parts: "".join(token + sep for token, sep in parts)
)
_OLD_RUN_LOWER = re.compile(r"(?P<run>" + numbers._WORD_RUN + r")\b")
_OLD_WORD_REST = re.compile(r"\w*")


def _old_word_runs(text: str) -> Iterator[numbers._WordRun]:
    """_word_runs searching the run pattern at every letter, skipping runs inside words."""
    low = text.lower()
    if len(low) != len(text):
        for w in numbers._WORDS_RE.finditer(text):
            yield numbers._WordRun(w.start(), w.start("run"), w["run"], w["article"] is not None)
        return
    pos = 0
    while m := _OLD_RUN_LOWER.search(low, pos):
        start = m.start()
        if start and (low[start - 1].isalnum() or low[start - 1] == "_"):
            rest = _OLD_WORD_REST.match(low, start)
            pos = rest.end() if rest else start + 1
            continue
        pos = m.end()
        article = numbers._ARTICLE_BEFORE_RE.search(low, max(0, start - 8), start)
        yield numbers._WordRun(
            article.start() if article else start, start, text[start:pos], bool(article)
        )


@settings(max_examples=500, deadline=None)
@given(st.one_of(_NUMBER_TEXT, _TEXT, st.text(max_size=60)))
def test_number_word_runs_are_the_runs_found_at_every_letter(text: str) -> None:
    assert list(numbers._word_runs(text)) == list(_old_word_runs(text))


_OLD_PREV_WORD = re.compile(r"(?P<word>[^\s]+)\s+$")
_SPACED_TEXT = st.lists(
    st.tuples(_TOKENS, st.sampled_from([" ", "\n", "\t ", "\u00a0", "\u2003", "\x1c", ""])),
    max_size=25,
).map(lambda parts: "".join(token + sep for token, sep in parts))


@settings(max_examples=500, deadline=None)
@given(st.one_of(_SPACED_TEXT, st.text(max_size=80)), st.integers(0, 120))
def test_quantity_context_words_are_the_regex_ones(text: str, offset: int) -> None:
    position = min(offset, len(text))
    old = _OLD_PREV_WORD.search(text, max(0, position - 40), position)
    assert quantities._previous_word(text, position) == (
        (old["word"], old.start()) if old else None
    )
    following = quantities._next_words(text, position)
    assert quantities._next_word(text, position) == (following[0] if following else None)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_TEXT, st.text(alphabet="0123456789١٢٣ ,.-x", max_size=30)))
def test_four_digit_test_is_the_plain_repeat(text: str) -> None:
    found = dates._P_FOUR_DIGITS.search(text)
    old = re.search(r"\d{4}", text)
    assert (found.span() if found else None) == (old.span() if old else None)


_VALUES = st.one_of(
    st.none(),
    st.floats(allow_nan=False),
    st.integers(-(10**12), 10**12),
    st.text(max_size=12),
    st.dates(),
)


def _old_value_key(values: dict[str, object]) -> str:
    return "|".join(f"{k}={values[k]!r}" for k in sorted(values))


def _old_values(fact: run.Fact) -> dict[str, object]:
    if isinstance(fact, EntityFact):
        return {"entity_id": entity_id(fact.type, fact.name), "name": fact.name, "type": fact.type}
    skip = {"start", "end", "extractor"}
    return {f.name: getattr(fact, f.name) for f in dataclasses.fields(fact) if f.name not in skip}


def _facts() -> st.SearchStrategy[run.Fact]:
    kinds = (MoneyFact, QuantityFact, DateFact)
    typed = [
        st.builds(kind, **{f.name: _VALUES for f in dataclasses.fields(kind)}) for kind in kinds
    ]
    entity = st.builds(EntityFact, name=st.text(max_size=20), type=st.text(max_size=8))
    return st.one_of(*typed, entity)


@settings(max_examples=300, deadline=None)
@given(_facts(), st.text(max_size=64), st.sampled_from(list(run.EXTRACTORS)), st.integers(0, 10**7))
def test_fact_values_and_ids_are_the_plain_ones(
    fact: run.Fact, sha: str, kind: str, start: int
) -> None:
    values, key = run._values(fact)
    assert values == _old_values(fact)
    assert list(values) == list(_old_values(fact))  # the same column order in the row
    assert key == _old_value_key(values)
    prefix = {"money": "mny", "quantities": "qty", "dates": "dat", "entities": "ent"}[kind]
    plain_id = f"{prefix}_" + short_hash(sha, kind, start, start + 5, key, length=20)
    assert fact_id(sha, kind, start, start + 5, key) == plain_id
