"""Counted quantities and percentages: "1.1 million jobs", "nine helicopters", "60 percent".

A number is a quantity only when a counted noun follows it (or a percent sign or word).
Money, years, dates, ordinals, ranks, ages, durations, numbers inside names and the
anaphoric "the two countries" are left out.
"""

from __future__ import annotations

import re

from pipeline.extract.base import DocContext, QuantityFact
from pipeline.extract.money import money_spans
from pipeline.extract.numbers import (
    NumberMatch,
    alternation,
    load_vocabulary,
    numbers_in,
    parse_number,
    qualifier_before,
)

__all__ = ["EXTRACTOR", "extract_quantities"]

EXTRACTOR = "quantities@0.2.0"

_VOCAB = load_vocabulary("quantities")
_MONTHS = frozenset(str(m) for table in load_vocabulary("months").values() for m in table)


def _words(key: str) -> frozenset[str]:
    return frozenset(str(w) for w in _VOCAB[key])


_NOT_COUNTED = _words("not_counted")
_IRREGULAR = _words("irregular_plurals")
_COLLECTIVE = _words("collective_nouns")
_NOT_PLURAL = _words("not_plurals")
_PHRASE_STOP = _words("phrase_stop")
_LABELS = _words("label_words")
_ANAPHORIC = _words("anaphoric_nouns")
_CAPITALISED_OK = _words("capitalised_function_words")
_DEFINITE = _words("anaphoric_determiners")
_GIVING = _words("giving_verbs")
_MEASURE_UNITS = _words("measure_units")
_ABBREVIATIONS = frozenset(
    str(a).casefold() for a in load_vocabulary("abbreviations")["abbreviations"]
)
_PERCENT: dict[str, str] = _VOCAB["percent"]
_PERCENT_RE = re.compile(
    r"(?:[ \t]?(?P<sign>%)|[ \t]+(?P<word>"
    + alternation([w for w in _PERCENT if w != "%"])
    + r")\b)"
)
_RANGE_TAIL_RE = re.compile(
    r"\s*(?:–|—|to|or|and)\s*(?P<num>\d[\d,.]*|[A-Za-z]+(?:-[a-z]+)?)(?=\s)"
)
_RATIO_RE = re.compile(r"(?i)\b(?:one|\d+)\s+(?:in|out\s+of)\s+$")
_NEXT_WORDS_RE = re.compile(r"\S+")
_SENTENCE_START = frozenset(".!?:;•([-–—*")
_LOOKAHEAD = 100
_MAX_PHRASE_TOKENS = 7


def _previous_word(text: str, start: int) -> tuple[str, int] | None:
    """The last word of the 40 characters before ``start`` when spaces follow it, with its
    start; None when the window does not end in a space.

    The same as a regex search for a word then spaces at the window's end, by rstrip and
    rsplit: the search tried every position of the window. (str's whitespace is re's.)
    """
    lo = max(0, start - 40)
    window = text[lo:start]
    kept = window.rstrip()
    if not kept or len(kept) == len(window):
        return None
    word = kept.rsplit(None, 1)[-1]
    return word, lo + len(kept) - len(word)


def _next_words(text: str, end: int) -> list[str]:
    return _NEXT_WORDS_RE.findall(text, end, min(len(text), end + _LOOKAHEAD))


def _next_word(text: str, end: int) -> str | None:
    """The first of ``_next_words``, without finding the others."""
    m = _NEXT_WORDS_RE.search(text, end, min(len(text), end + _LOOKAHEAD))
    return m[0] if m else None


def _is_year(text: str, n: NumberMatch) -> bool:
    raw = text[n.start : n.end]
    return raw.isdigit() and len(raw) == 4 and 1900 <= n.value <= 2100


def _glued(text: str, n: NumberMatch) -> bool:
    """Part of a hyphenated token: "COVID-19", "13-18", "two-way", "15-year-old"."""
    before = text[n.start - 2 : n.start] if n.start >= 2 else ""
    after = text[n.end : n.end + 2]
    return (len(before) == 2 and before[1] == "-" and before[0].isalnum()) or (
        len(after) == 2 and after[0] == "-" and after[1].isalnum()
    )


def _is_name_part(word: str, word_start: int, text: str) -> bool:
    """A capitalised word mid-sentence before the number: "Beca 18", "Apollo 11"."""
    if (
        not word[:1].isupper()
        or word in _CAPITALISED_OK
        or word.endswith(("'s", "’s", ",", ";", ":"))
    ):
        return False
    before = text[:word_start].rstrip()
    if not before or before[-1] in _SENTENCE_START:
        return False
    # "gave Peru 12 boats": the name is the receiver of the count, not a part of it
    prev = _previous_word(text, word_start)
    return prev is None or prev[0].lower() not in _GIVING


def _excluded_by_context(text: str, n: NumberMatch) -> bool:
    """Dates, ranks, labels, ages, names and the anaphoric "the two leaders"."""
    prev = _previous_word(text, n.start)
    nxt = _next_word(text, n.end)
    next_word = nxt.strip(",.;:") if nxt else ""
    if next_word in _MONTHS:
        return True
    if prev is None:
        return False
    word, word_start = prev
    bare = word.strip("\"'(").lower()
    if word.strip(",") in _MONTHS or bare in _LABELS:
        return True
    if bare in _DEFINITE and next_word.lower() in _ANAPHORIC:
        return True
    # Names carry digits ("Beca 18", "Apollo 11"); a number word after a capitalised word
    # is a count ("donated to the Police of Peru three helicopters").
    return not n.words and _is_name_part(word.lstrip("\"'("), word_start, text)


def _is_candidate(text: str, n: NumberMatch) -> bool:
    if n.abbreviated or _glued(text, n) or _RATIO_RE.search(text, max(0, n.start - 20), n.start):
        return False
    if n.words and n.value == 1 and n.scale == 1:
        return False  # "one" is a pronoun or an idiom far more often than a count
    return not _excluded_by_context(text, n)


def _is_plural(word: str) -> bool:
    low = word.lower()
    if low in _IRREGULAR:
        return True
    if low in _NOT_PLURAL or low.endswith(("ss", "'s", "’s", "us", "is")) or "." in low:
        return False
    return len(low) > 2 and low.endswith("s") and word[:1].isalpha()


def _range_end(text: str, end: int) -> int:
    """End of a range's second number ("10 to 15 countries"), else ``end``."""
    m = _RANGE_TAIL_RE.match(text, end)
    return m.end() if m and parse_number(m["num"]) is not None else end


def _head_noun(text: str, end: int) -> str | None:
    """The counted noun after the number: first plural word of its noun phrase.

    None when the phrase has no plural noun or names a duration ("five years").
    """
    tokens = _next_words(text, _range_end(text, end))[:_MAX_PHRASE_TOKENS]
    for i, token in enumerate(tokens):
        word = token.rstrip(",;:)\"'.") if not token.endswith(".)") else token[:-2]
        low = word.lower()
        if token.lower() in _NOT_COUNTED or low in _NOT_COUNTED:
            return None  # a duration, a multiplier or a clock time
        if not word or not word[0].isalpha() or token[0] in "\"'(":
            return None
        if i == 0 and word in _MEASURE_UNITS:
            return word  # "60 GW": a unit symbol right after the number
        if _is_plural(word):
            nxt = tokens[i + 1].rstrip(",;:)\"'.") if i + 1 < len(tokens) else ""
            if word[:1].isupper() and word == token and nxt[:1].islower() and _is_plural(nxt):
                return nxt  # "1,100 Kenya Defence Forces personnel": the name is a modifier
            return word
        if low in _COLLECTIVE and (word != token or _ends_phrase(tokens, i + 1)):
            return word
        if low in _PHRASE_STOP and not _joins_name(tokens, i):
            return None
        if word != token and token.casefold() not in _ABBREVIATIONS:
            return None  # punctuation ends the phrase, the dot of "U.S." does not
    return None


def _ends_phrase(tokens: list[str], i: int) -> bool:
    return i >= len(tokens) or tokens[i].lower() in _PHRASE_STOP or not tokens[i][0].isalpha()


def _joins_name(tokens: list[str], i: int) -> bool:
    """'of' inside a capitalised name: "five Department of Defense civilians"."""
    return (
        tokens[i] == "of"
        and 0 < i < len(tokens) - 1
        and tokens[i - 1][:1].isupper()
        and tokens[i + 1][:1].isupper()
    )


def _quantity(text: str, n: NumberMatch) -> QuantityFact | None:
    percent = _PERCENT_RE.match(text, n.end)
    end, unit = n.end, None
    if percent:
        end = percent.end()
        unit = _PERCENT["%" if percent["sign"] else percent["word"]]
    elif _is_year(text, n):
        return None
    else:
        unit = _head_noun(text, n.end)
        if unit is None:
            return None
    found = qualifier_before(text, n.start)
    qualifier = "min" if n.plus else (found[0] if found else None)
    return QuantityFact(n.start, end, n.value, qualifier, unit, EXTRACTOR)


def extract_quantities(text: str, ctx: DocContext) -> list[QuantityFact]:
    """Every counted quantity and percentage in one cleaned passage, in text order."""
    del ctx  # counts need no document context
    money = money_spans(text)  # shared with (and cached from) the money extractor
    facts = []
    for n in numbers_in(text):
        if any(n.start < e and s < n.end for s, e in money) or not _is_candidate(text, n):
            continue
        fact = _quantity(text, n)
        if fact is not None:
            facts.append(fact)
    return facts
