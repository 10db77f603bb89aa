"""Money amounts: "$16 billion", "US$3.5 million", "139 million USD", "$1–2 million".

Each amount becomes a :class:`MoneyFact` whose span is the money expression alone
(qualifier words stay outside it), with its qualifier, the period its sentence states
and a short phrase saying what the amount is for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from pipeline.extract.base import DocContext, MoneyFact
from pipeline.extract.numbers import (
    NumberMatch,
    find_numbers,
    load_vocabulary,
    qualifier_before,
)

__all__ = ["EXTRACTOR", "extract_money", "sentence_bounds"]

EXTRACTOR = "money@0.1.0"

_VOCAB = load_vocabulary("money")


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_PREFIXES: dict[str, str] = _VOCAB["prefixes"]
_SUFFIXES: dict[str, str] = _VOCAB["suffixes"]
# A currency prefix ends right before the number; a code must not be glued to a word.
_PREFIX_RE = re.compile(r"(?<![A-Za-z])(?P<cur>" + _alternation(list(_PREFIXES)) + r")[ \t]{0,2}$")
_SUFFIX_RE = re.compile(r"[ \t]{1,2}(?P<cur>" + _alternation(list(_SUFFIXES)) + r")\b")
_RANGE_GAP_RE = re.compile(r"\s*(?:–|—|-|to|and)\s*")
_BETWEEN_RE = re.compile(r"(?i)\bbetween\s+$")
_VAGUE_RE = re.compile(
    r"(?i)\b(?:(?:hundreds|tens)\s+of\s+)?(?P<scale>"
    + _alternation(_VOCAB["vague_scales"])
    + r")(?:\s+of\s+(?P<cur>"
    + _alternation(list(_VOCAB["vague_currencies"]))
    + r")\b|(?=\s+in\s+(?:"
    + _alternation(_VOCAB["vague_nouns"])
    + r")\b))"
)


@dataclass(frozen=True, slots=True)
class _Amount:
    """A number with the currency signs around it; ``start``/``end`` cover both."""

    number: NumberMatch
    start: int
    end: int
    currency: str | None
    value: float
    side: str | None = None  # 'low' or 'high' for one end of a range
    other: float | None = None  # value of the range's other end


def _amount(text: str, n: NumberMatch) -> _Amount:
    prefix = _PREFIX_RE.search(text, max(0, n.start - 8), n.start)
    suffix = _SUFFIX_RE.match(text, n.end)
    currency, start, end = None, n.start, n.end
    if prefix:
        currency, start = _PREFIXES[prefix["cur"]], prefix.start()
    if suffix and not n.plus:
        currency = currency or _SUFFIXES[suffix["cur"]]
        end = suffix.end()
    return _Amount(n, start, end, currency, n.value)


def _link_range(text: str, a: _Amount, b: _Amount) -> tuple[_Amount, _Amount]:
    """Join "$1–2 million", "between $5 and $10 million", "5 to 10 million euros"."""
    gap = _RANGE_GAP_RE.fullmatch(text, a.end, b.start)
    if gap is None or (a.currency is None and b.currency is None):
        return a, b
    if "and" in gap.group() and not _BETWEEN_RE.search(text, 0, a.start):
        return a, b
    low = a.value
    if a.number.scale == 1 and b.number.scale > 1 and a.number.base < b.number.base:
        low = a.number.base * b.number.scale  # the scale word is written once, at the end
    if low >= b.value:
        return a, b
    currency = a.currency or b.currency
    return (
        replace(a, currency=currency, value=low, side="low", other=b.value),
        replace(b, currency=currency, side="high", other=low),
    )


def _amounts(text: str) -> list[_Amount]:
    amounts = [_amount(text, n) for n in find_numbers(text)]
    for i in range(len(amounts) - 1):
        amounts[i], amounts[i + 1] = _link_range(text, amounts[i], amounts[i + 1])
    return [a for a in amounts if a.currency is not None]


_ABBREVIATIONS = frozenset(str(a) for a in _VOCAB["abbreviations"])
_BOUNDARY_RE = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]?[A-Z])")
_INITIAL_RE = re.compile(r"(?:^|\s)(?:[A-Z]\.)+$")


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """Sentences of ``text`` as (start, end) pairs; "U.S." or "Feb." end none."""
    bounds, start = [], 0
    for m in _BOUNDARY_RE.finditer(text):
        word_start = text.rfind(" ", 0, m.start()) + 1
        word = text[word_start : m.start() + 1]
        if word in _ABBREVIATIONS or _INITIAL_RE.search(word):
            continue
        bounds.append((start, m.start() + 1))
        start = m.end()
    bounds.append((start, len(text)))
    return bounds


_MONTHS: dict[str, int] = _VOCAB["months"]
_MONTH = r"(?P<mon>" + _alternation(list(_MONTHS)) + r")"
_YEAR = r"(?P<y>(?:19|20)\d{2})"
_FY = r"(?:FY|[Ff]iscal\s+[Yy]ear)\s*(?:\(FY\)\s*)?(?P<y>(?:19|20)?\d{2})\b"
_SINCE = r"(?:[Ss]ince|[Bb]eginning(?:\s+in)?|[Ss]tarting(?:\s+in)?)\s+"
# Most specific first: a later pattern overlapping an earlier hit is ignored.
_PERIOD_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b" + _SINCE + _FY), "fy-"),
    (re.compile(r"\b" + _FY), "fy"),
    (re.compile(r"(?i)\b" + _SINCE + r"(?:" + _MONTH + r"\s+)?" + _YEAR + r"\b"), "year-"),
    (re.compile(r"(?i)\b" + _MONTH + r"\s+(?:(?P<d>\d{1,2}),?\s+)?" + _YEAR + r"\b"), "month"),
    (re.compile(r"(?i)\b(?:in|during|for|by|throughout)\s+" + _YEAR + r"\b(?!\s*[-–]\d)"), "year"),
)


def _period_value(m: re.Match[str], kind: str) -> str:
    year = m["y"] if len(m["y"]) == 4 else "20" + m["y"]
    if kind.startswith("fy"):
        return f"FY{year}" + ("-" if kind == "fy-" else "")
    if kind == "month":
        month = f"{year}-{_MONTHS[m['mon'].lower()]:02d}"
        return f"{month}-{int(m['d']):02d}" if m["d"] else month
    return year + ("-" if kind == "year-" else "")


def _period(text: str, sentence: tuple[int, int], start: int, end: int) -> str | None:
    """The period stated in the sentence nearest to the amount at [start, end)."""
    hits: list[tuple[int, int, str]] = []
    for pattern, kind in _PERIOD_PATTERNS:
        for m in pattern.finditer(text, *sentence):
            if all(m.end() <= s or m.start() >= e for s, e, _ in hits):
                hits.append((m.start(), m.end(), _period_value(m, kind)))
    if not hits:
        return None
    return min(hits, key=lambda h: max(start - h[1], h[0] - end, 0))[2]


_WHAT_STOP = frozenset(str(w) for w in _VOCAB["what_stop_words"])
_WHAT_TRAILING = frozenset(str(w) for w in _VOCAB["what_trailing"])
_WHAT_LEAD = frozenset({"in", "for", "of", "on", "toward", "towards"})
_DETERMINERS = frozenset({"the", "a", "an", "our", "its", "their", "his", "her"})
_TOKEN_RE = re.compile(r"[^\s,;:()\[\]\"]+|[,;:()\[\]\"]")
_YEAR_RE = re.compile(r"(?:19|20)\d{2}")
_LINKING_RE = re.compile(
    r"(?i)\b(?:" + _alternation(_VOCAB["linking_verbs"]) + r")\s+(?:\S+\s+){0,2}$"
)
_MAX_WHAT_WORDS = 8


def _ends_sentence(token: str) -> bool:
    return token.endswith(".") and token not in _ABBREVIATIONS


def _phrase(tokens: list[str]) -> str | None:
    """Trim function words from both ends; None when nothing is left."""
    while tokens and tokens[-1].lower() in _WHAT_TRAILING:
        tokens = tokens[:-1]
    while tokens and tokens[0].lower() in _DETERMINERS:
        tokens = tokens[1:]
    return " ".join(tokens) or None


def _what_after(after: str) -> str | None:
    tokens = _TOKEN_RE.findall(after)
    if tokens and tokens[0].lower() in _WHAT_LEAD:
        tokens = tokens[1:]
    words: list[str] = []
    for i, token in enumerate(tokens):
        low = token.lower()
        if len(words) >= _MAX_WHAT_WORDS or not re.match(r"[\w'’]", token) or low in _WHAT_STOP:
            break
        if token[0].isdigit() or token[0] == "$":
            break
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if low in {"in", "to"} and words and (_YEAR_RE.fullmatch(nxt) or _is_infinitive(low, nxt)):
            break
        if _ends_sentence(token):
            words.append(token.rstrip("."))
            break
        words.append(token)
    return _phrase(words)


def _is_infinitive(word: str, nxt: str) -> bool:
    return word == "to" and nxt[:1].islower() and nxt.lower() not in _DETERMINERS


def _what_before(before: str) -> str | None:
    """Subject of a linking verb: "U.S. direct investment in Peru was $6 billion"."""
    m = _LINKING_RE.search(before)
    if m is None:
        return None
    tokens = _TOKEN_RE.findall(before[: m.start()])
    words: list[str] = []
    for token in reversed(tokens):
        if len(words) >= _MAX_WHAT_WORDS or not re.match(r"[\w'’]", token):
            break
        if token.lower() in _WHAT_STOP:
            break
        words.insert(0, token)
    text = re.sub(r"\s+(?:in|during)\s+(?:19|20)\d{2}$", "", " ".join(words))
    return _phrase(text.split())


def _what(text: str, sentence: tuple[int, int], start: int, end: int) -> str | None:
    return _what_after(text[end : sentence[1]]) or _what_before(text[sentence[0] : start])


def _bounds(amount: float | None, qualifier: str | None) -> tuple[float | None, float | None]:
    if qualifier == "min":
        return amount, None
    if qualifier == "max":
        return None, amount
    return amount, amount


def _fact(
    text: str, a: _Amount, sentences: list[tuple[int, int]], vague: bool = False
) -> MoneyFact:
    sentence = next(s for s in sentences if s[0] <= a.start < max(s[1], s[0] + 1))
    found = qualifier_before(text, a.start)
    qualifier = found[0] if found else None
    if a.number.plus:
        qualifier = "min"
    amount = None if vague else a.value
    usd = amount if a.currency == "USD" else None
    low, high = _bounds(usd, qualifier)
    if a.side is not None and usd is not None and a.other is not None:
        qualifier = qualifier or ("min" if a.side == "low" else "max")
        low, high = min(usd, a.other), max(usd, a.other)  # both ends carry the range
    return MoneyFact(
        start=a.start,
        end=a.end,
        amount=amount,
        currency=a.currency,
        amount_usd=usd,
        qualifier=qualifier,
        period=_period(text, sentence, a.start, a.end),
        what=_what(text, sentence, a.start, a.end),
        extractor=EXTRACTOR,
        amount_low_usd=low,
        amount_high_usd=high,
    )


def _vague_amounts(text: str) -> list[_Amount]:
    out = []
    for m in _VAGUE_RE.finditer(text):
        currency = _VOCAB["vague_currencies"][m["cur"]] if m["cur"] else None
        if m["cur"] and m["cur"] not in _VOCAB["vague_currencies"]:
            currency = "USD" if "dollar" in m["cur"].lower() else None
        number = NumberMatch(m.start(), m.end(), 0.0, 0.0)
        out.append(_Amount(number, m.start(), m.end(), currency, 0.0))
    return out


def extract_money(text: str, ctx: DocContext) -> list[MoneyFact]:
    """Every money amount in one cleaned passage, in text order."""
    del ctx  # amounts need no document context; periods come from the sentence alone
    sentences = sentence_bounds(text)
    facts = [_fact(text, a, sentences) for a in _amounts(text)]
    facts += [_fact(text, a, sentences, vague=True) for a in _vague_amounts(text)]
    return sorted(facts, key=lambda f: f.start)
