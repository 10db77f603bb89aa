"""Number expressions shared by the money and quantity extractors.

Finds numbers written with digits ("1,000", "97.5", "200,000+", "1.1 million", "$54K"
without the sign) or in words ("two million", "twenty-five", "a dozen") and returns
their value and their span in the text. Vocabularies live in ``pipeline/resources``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pipeline.resources import load_yaml

__all__ = [
    "NumberMatch",
    "alternation",
    "find_numbers",
    "load_vocabulary",
    "numbers_in",
    "parse_number",
    "qualifier_before",
]


@dataclass(frozen=True, slots=True)
class NumberMatch:
    """One number expression: ``text[start:end]`` has value ``value`` (= base * scale)."""

    start: int
    end: int
    value: float
    base: float
    scale: float = 1.0
    words: bool = False  # written out in words
    abbreviated: bool = False  # scale given by an abbreviation such as K or bn
    plus: bool = False  # a trailing '+' ("200,000+") is part of the span
    grouped: bool = False  # digits with thousands separators ("2,000")


def load_vocabulary(name: str) -> dict[str, Any]:
    """The mapping in ``pipeline/resources/<name>.yaml`` (parsed once by ``load_yaml``)."""
    data = load_yaml(f"{name}.yaml")
    if not isinstance(data, dict):
        raise ValueError(f"resource {name}.yaml must hold a mapping")
    return data


def alternation(words: list[str]) -> str:
    """Regex alternation of literal words where a longer word beats its prefixes.

    Built as a trie ("t(?:wo|hree|en)"): the engine then tests one branch per letter
    instead of every word at every position, which makes the number-word scan several
    times faster than a flat longest-first list, with the same matches.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _trie_regex(trie)


def _trie_regex(node: dict[str, Any]) -> str:
    ends_here = "" in node
    branches = [re.escape(char) + _trie_regex(child) for char, child in node.items() if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if ends_here:  # greedy '?': the longer word is tried first, the prefix on backtracking
        return "(?:" + body + ")?"
    return body


_VOCAB = load_vocabulary("number_words")
_UNITS: dict[str, int] = _VOCAB["units"]
_TEENS: dict[str, int] = _VOCAB["teens"]
_TENS: dict[str, int] = _VOCAB["tens"]
_SCALES: dict[str, int] = _VOCAB["scales"]
_DOZENS: dict[str, int] = _VOCAB["dozens"]
_ABBREVIATIONS: dict[str, int] = {str(k): v for k, v in _VOCAB["abbreviations"].items()}
_ALL_WORDS = [*_UNITS, *_TEENS, *_TENS, *_SCALES, *_DOZENS]

# Digits: not glued to a word, a decimal point, a colon or a slash (G20, 0:03:31, 2024/11).
# The pattern opens with the digit itself (the lookbehind tests the character before
# it): a pattern that opens with a character class lets the engine skip ahead to the next
# digit instead of trying every position, which makes this scan about twice as fast.
_DIGITS_RE = re.compile(
    r"(?P<num>\d(?<![\w.,:/]\d)(?:\d{0,2}(?:,\d{3})+(?:\.\d+)?|\d*(?:\.\d+)?))"
    r"(?:(?P<sp>[ \t]*|-)(?P<scale>(?i:" + alternation(list(_SCALES)) + r"))\b"
    r"|(?P<abbr>" + alternation(list(_ABBREVIATIONS)) + r")(?![\w]))?"
    r"(?P<plus>\+)?"
    r"(?![\w]|[.,:/]\d)"
)
_WORD = r"(?:" + alternation(_ALL_WORDS) + r")"
_WORD_RUN = _WORD + r"(?:(?:\s+and\s+|[ \t]+|-)" + _WORD + r")*"
_WORDS_RE = re.compile(r"(?i)\b(?:(?P<article>an?)\s+)?(?P<run>" + _WORD_RUN + r")\b")
_TOKEN_RE = re.compile(r"(?i)" + _WORD)
# Over lower-cased text, the runs that start a word, opening with the non-word character
# before the run: the engine then skips ahead to the next such character (a sixth of the
# text) rather than trying the trie at every letter, and the article is checked in Python.
# Run over " " + the text (a run at 0 has no character before it). Several times as fast
# as _WORDS_RE with (?i).
_RUN_AT_WORD_START_RE = re.compile(r"\W(?P<run>" + _WORD_RUN + r")\b")
_ARTICLE_BEFORE_RE = re.compile(r"(?<!\w)an?\s+$")


@dataclass(frozen=True, slots=True)
class _WordRun:
    start: int  # the article's start when there is one
    run_start: int
    run: str
    article: bool


def _digits_match(m: re.Match[str]) -> NumberMatch:
    base = float(m["num"].replace(",", ""))
    scale, abbreviated = 1.0, False
    if m["scale"]:
        scale = float(_SCALES[m["scale"].lower()])
    elif m["abbr"]:
        scale, abbreviated = float(_ABBREVIATIONS[m["abbr"]]), True
    return NumberMatch(
        start=m.start(),
        end=m.end(),
        value=base * scale,
        base=base,
        scale=scale,
        abbreviated=abbreviated,
        plus=bool(m["plus"]),
        grouped="," in m["num"],
    )


Token = tuple[str, int, int]  # a number word and its span


def _kind(word: str) -> str:
    for kind, table in (
        ("unit", _UNITS),
        ("teen", _TEENS),
        ("tens", _TENS),
        ("dozen", _DOZENS),
    ):
        if word in table:
            return kind
    return "hundred" if word == "hundred" else "scale"


# Which kind of word may follow which inside one number ("twenty-five", "two hundred and six").
_MAY_FOLLOW: dict[str, frozenset[str | None]] = {
    "unit": frozenset({None, "tens", "hundred", "scale"}),
    "teen": frozenset({None, "hundred", "scale"}),
    "tens": frozenset({None, "hundred", "scale"}),
    "hundred": frozenset({"unit", "teen", "article"}),
    "scale": frozenset({"unit", "teen", "tens", "hundred", "dozen", "article"}),
    "dozen": frozenset({"unit", "teen", "tens", "article"}),
}


_COUNTING_KINDS = frozenset({"unit", "teen", "tens"})


def _word_value(word: str) -> int:
    for table in (_UNITS, _TEENS, _TENS, _SCALES, _DOZENS):
        if word in table:
            return table[word]
    raise KeyError(word)


def _group_words(tokens: list[Token], article: bool) -> list[list[Token]]:
    """Split a run of number words into numbers ("two three" is two numbers)."""
    groups: list[list[Token]] = []
    current: list[Token] = []
    last: str | None = "article" if article else None
    last_scale, since_scale = float("inf"), 0  # scales fall: "two million three thousand"
    for token in tokens:
        word = token[0].lower()
        kind = _kind(word)
        if kind == "scale" and _SCALES[word] >= last_scale and last in _MAY_FOLLOW[kind]:
            # "two million three million": the words after the first scale start a new number
            groups.append(current[:since_scale])
            current, last_scale, since_scale = current[since_scale:], float("inf"), 0
        elif last not in _MAY_FOLLOW[kind]:
            if current:
                groups.append(current)
            current, last, last_scale, since_scale = [], None, float("inf"), 0
            if None not in _MAY_FOLLOW[kind]:
                continue  # a bare scale word ("thousand") is not a number
        current.append(token)
        last = kind
        if kind == "scale":
            last_scale, since_scale = _SCALES[word], len(current)
    if current:
        groups.append(current)
    return groups


def _group_value(group: list[Token]) -> float:
    total, current = 0, 0
    for word, _, _ in group:
        w = word.lower()
        value = _word_value(w)
        if w == "hundred":
            current = (current or 1) * 100
        elif w in _DOZENS:
            current = (current or 1) * value
        elif w in _SCALES:
            total += (current or 1) * value
            current = 0
        else:
            current += value
    return float(total + current)


def _words_matches(m: _WordRun) -> list[NumberMatch]:
    tokens = [
        (t.group(), m.run_start + t.start(), m.run_start + t.end())
        for t in _TOKEN_RE.finditer(m.run)
    ]
    out: list[NumberMatch] = []
    for i, group in enumerate(_group_words(tokens, m.article)):
        start = group[0][1]
        # The article counts before a multiplier ("a million"), not in "a nine-member team".
        first_kind = _kind(group[0][0].lower())
        if i == 0 and m.article and start == tokens[0][1] and first_kind not in _COUNTING_KINDS:
            start = m.start
        value = _group_value(group)
        out.append(NumberMatch(start, group[-1][2], value, value, words=True))
    return out


def _word_runs(text: str) -> Iterator[_WordRun]:
    low = text.lower()
    if len(low) != len(text):  # lower() may lengthen a few characters ("İ"): keep offsets
        for w in _WORDS_RE.finditer(text):
            yield _WordRun(w.start(), w.start("run"), w["run"], w["article"] is not None)
        return
    # Offsets in " " + low are one more than in low (and text).
    for m in _RUN_AT_WORD_START_RE.finditer(" " + low):
        start, end = m.start("run") - 1, m.end() - 1
        article = _ARTICLE_BEFORE_RE.search(low, max(0, start - 8), start)
        yield _WordRun(article.start() if article else start, start, text[start:end], bool(article))


def find_numbers(text: str) -> list[NumberMatch]:
    """Every number expression in ``text``, in text order, without overlaps."""
    digits = [_digits_match(m) for m in _DIGITS_RE.finditer(text)]
    words = [n for m in _word_runs(text) for n in _words_matches(m)]
    taken = [(d.start, d.end) for d in digits]
    words = [w for w in words if all(w.end <= s or w.start >= e for s, e in taken)]
    return sorted(digits + words, key=lambda n: n.start)


@lru_cache(maxsize=16)
def numbers_in(text: str) -> tuple[NumberMatch, ...]:
    """``find_numbers`` of a passage, cached: the money and the quantity extractors both
    scan each passage, one right after the other, so the second scan is free."""
    return tuple(find_numbers(text))


def parse_number(text: str) -> float | None:
    """Value of ``text`` when it is exactly one number expression, else None."""
    stripped = text.strip()
    found = find_numbers(stripped)
    if len(found) == 1 and found[0].start == 0 and found[0].end == len(stripped):
        return found[0].value
    return None


def _qualifier_regex(money: bool) -> re.Pattern[str]:
    vocab = load_vocabulary("qualifiers")
    words = {kind: [str(p) for p in vocab[kind]] for kind in ("approx", "min", "max")}
    if money:
        words["max"] += [str(p) for p in vocab["max_money_only"]]
    parts = [f"(?P<{kind}>{alternation(phrases)})" for kind, phrases in words.items()]
    # search() takes the leftmost hit, so "no more than" (max) beats its tail "more than".
    return re.compile(r"(?i)(?<![\w])(?:" + "|".join(parts) + r")\s+$")


_QUALIFIER_RES = {money: _qualifier_regex(money) for money in (False, True)}
_QUALIFIER_WINDOW = 40


def qualifier_before(text: str, start: int, money: bool = False) -> tuple[str, int] | None:
    """Qualifier ('approx', 'min', 'max') ending right before ``start``, with its start.

    ``money`` admits the bounds that only hold before amounts ("under $5 million").
    """
    lo = max(0, start - _QUALIFIER_WINDOW)
    m = _QUALIFIER_RES[money].search(text, lo, start)
    if m is None or m.lastgroup is None:
        return None
    return m.lastgroup, m.start()
