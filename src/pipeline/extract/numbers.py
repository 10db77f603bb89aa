"""Number expressions shared by the money and quantity extractors.

Finds numbers written with digits ("1,000", "97.5", "200,000+", "1.1 million", "$54K"
without the sign) or in words ("two million", "twenty-five", "a dozen") and returns
their value and their span in the text. Vocabularies live in ``pipeline/resources``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

__all__ = [
    "NumberMatch",
    "find_numbers",
    "load_vocabulary",
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


@cache
def load_vocabulary(name: str) -> dict[str, Any]:
    """Load ``pipeline/resources/<name>.yaml`` once."""
    text = files("pipeline").joinpath("resources", f"{name}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"resource {name}.yaml must hold a mapping")
    return data


def _alternation(words: list[str]) -> str:
    """Regex alternation of literal words, longest first so prefixes never win."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_VOCAB = load_vocabulary("number_words")
_UNITS: dict[str, int] = _VOCAB["units"]
_TEENS: dict[str, int] = _VOCAB["teens"]
_TENS: dict[str, int] = _VOCAB["tens"]
_SCALES: dict[str, int] = _VOCAB["scales"]
_DOZENS: dict[str, int] = _VOCAB["dozens"]
_ABBREVIATIONS: dict[str, int] = {str(k): v for k, v in _VOCAB["abbreviations"].items()}
_ALL_WORDS = [*_UNITS, *_TEENS, *_TENS, *_SCALES, *_DOZENS]

# Digits: not glued to a word, a decimal point, a colon or a slash (G20, 0:03:31, 2024/11).
_DIGITS_RE = re.compile(
    r"(?<![\w.,:/])"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:(?P<sp>[ \t]*)(?P<scale>(?i:" + _alternation(list(_SCALES)) + r"))\b"
    r"|(?P<abbr>" + _alternation(list(_ABBREVIATIONS)) + r")(?![\w]))?"
    r"(?P<plus>\+)?"
    r"(?![\w]|[.,:/]\d)"
)
_WORD = r"(?:" + _alternation(_ALL_WORDS) + r")"
_WORDS_RE = re.compile(
    r"(?i)\b(?:(?P<article>an?)\s+)?(?P<run>" + _WORD + r"(?:(?:\s+and\s+|[ \t]+|-)" + _WORD + r")*)\b"
)
_TOKEN_RE = re.compile(r"(?i)" + _WORD)


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


def _word_value(word: str) -> int:
    for table in (_UNITS, _TEENS, _TENS, _SCALES, _DOZENS):
        if word in table:
            return table[word]
    raise KeyError(word)


def _group_words(tokens: list[tuple[str, int, int]], article: bool) -> list[list[tuple[str, int, int]]]:
    """Split a run of number words into numbers ("two three" is two numbers)."""
    groups: list[list[tuple[str, int, int]]] = []
    current: list[tuple[str, int, int]] = []
    last: str | None = "article" if article else None
    for token in tokens:
        kind = _kind(token[0].lower())
        if last not in _MAY_FOLLOW[kind] or (kind == "scale" and last == "scale"):
            if current:
                groups.append(current)
            current, last = [], None
            if None not in _MAY_FOLLOW[kind]:
                continue  # a bare scale word ("thousand") is not a number
        current.append(token)
        last = kind
    if current:
        groups.append(current)
    return groups


def _group_value(group: list[tuple[str, int, int]]) -> float:
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


def _words_matches(m: re.Match[str]) -> list[NumberMatch]:
    run_start = m.start("run")
    tokens = [
        (t.group(), run_start + t.start(), run_start + t.end())
        for t in _TOKEN_RE.finditer(m["run"])
    ]
    article = m["article"] is not None
    out: list[NumberMatch] = []
    for i, group in enumerate(_group_words(tokens, article)):
        start = group[0][1]
        if i == 0 and article and group[0][1] == tokens[0][1]:
            if _kind(group[0][0].lower()) in {"unit", "teen", "tens"}:
                pass  # "a nine-member team": the article is not part of the number
            else:
                start = m.start()
        value = _group_value(group)
        out.append(NumberMatch(start, group[-1][2], value, value, words=True))
    return out


def find_numbers(text: str) -> list[NumberMatch]:
    """Every number expression in ``text``, in text order, without overlaps."""
    digits = [_digits_match(m) for m in _DIGITS_RE.finditer(text)]
    words = [n for m in _WORDS_RE.finditer(text) for n in _words_matches(m)]
    taken = [(d.start, d.end) for d in digits]
    words = [w for w in words if all(w.end <= s or w.start >= e for s, e in taken)]
    return sorted(digits + words, key=lambda n: n.start)


def parse_number(text: str) -> float | None:
    """Value of ``text`` when it is exactly one number expression, else None."""
    stripped = text.strip()
    found = find_numbers(stripped)
    if len(found) == 1 and found[0].start == 0 and found[0].end == len(stripped):
        return found[0].value
    return None


def _qualifier_regex() -> re.Pattern[str]:
    vocab = load_vocabulary("qualifiers")
    parts = [
        f"(?P<{kind}>{_alternation([str(p) for p in vocab[kind]])})"
        for kind in ("approx", "min", "max")
    ]
    # Order by length across kinds: "no more than" (max) must beat "more than" (min).
    return re.compile(r"(?i)(?<![\w])(?:" + "|".join(parts) + r")\s+$")


_QUALIFIER_RE = _qualifier_regex()
_QUALIFIER_WINDOW = 40


def qualifier_before(text: str, start: int) -> tuple[str, int] | None:
    """Qualifier ('approx', 'min', 'max') ending right before ``start``, with its start."""
    lo = max(0, start - _QUALIFIER_WINDOW)
    m = _QUALIFIER_RE.search(text, lo, start)
    if m is None or m.lastgroup is None:
        return None
    return m.lastgroup, m.start()
