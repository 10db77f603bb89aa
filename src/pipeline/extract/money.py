"""Money amounts: "$16 billion", "US$3.5 million", "139 million USD", "$1–2 million".

Each amount becomes a :class:`MoneyFact` whose span is the money expression alone
(qualifier words stay outside it), with its qualifier, the period its sentence states
and a short phrase saying what the amount is for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from pipeline.clean.sentences import sentence_bounds
from pipeline.extract.base import DocContext, MoneyFact
from pipeline.extract.numbers import (
    NumberMatch,
    alternation,
    find_numbers,
    load_vocabulary,
    parse_number,
    qualifier_before,
)

__all__ = ["EXTRACTOR", "extract_money"]

EXTRACTOR = "money@0.1.0"

_VOCAB = load_vocabulary("money")


_PREFIXES: dict[str, str] = _VOCAB["prefixes"]
_SUFFIXES: dict[str, str] = _VOCAB["suffixes"]
# A currency prefix ends right before the number; a code must not be glued to a word.
_PREFIX_RE = re.compile(r"(?<![A-Za-z])(?P<cur>" + alternation(list(_PREFIXES)) + r")[ \t]{0,2}$")
_SUFFIX_RE = re.compile(r"[ \t]{1,2}(?P<cur>" + alternation(list(_SUFFIXES)) + r")\b")
_RANGE_GAP_RE = re.compile(r"\s*(?:–|—|-|to|and)\s*")
_BETWEEN_RE = re.compile(r"(?i)\bbetween\s+$")
_FROM_RE = re.compile(r"(?i)\bfrom\s+$")
_VAGUE_CURRENCIES = {str(k).lower(): str(v) for k, v in _VOCAB["vague_currencies"].items()}
_VAGUE_RE = re.compile(
    r"(?i)\b(?:(?:hundreds|tens)\s+of\s+)?(?P<scale>"
    + alternation(_VOCAB["vague_scales"])
    + r")(?:\s+of\s+(?P<cur>"
    + alternation(list(_VOCAB["vague_currencies"]))
    + r")\b|(?=\s+in\s+(?:"
    + alternation(_VOCAB["vague_nouns"])
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
    # A bare first number needs a currency written after the second ("5 to 10 million euros").
    if gap is None or (a.currency is None and (b.currency is None or b.start < b.number.start)):
        return a, b
    word = gap.group().strip()
    if word == "and" and not _BETWEEN_RE.search(text, max(0, a.start - 12), a.start):
        return a, b
    if word == "to" and _FROM_RE.search(text, max(0, a.start - 8), a.start):
        return a, b  # "from $9 billion to $14 billion" is a change, not a range
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


_ABBREVIATIONS = frozenset(
    str(a).casefold() for a in load_vocabulary("abbreviations")["abbreviations"]
)


def _sentence_of(sentences: list[tuple[int, int]], position: int, size: int) -> tuple[int, int]:
    """The sentence that holds ``position`` (the whole text when there is none)."""
    holding = [s for s in sentences if s[0] <= position]
    return holding[-1] if holding else (0, size)


_MONTH_NAMES = load_vocabulary("months")
_MONTHS: dict[str, int] = {
    str(k).lower(): int(v) for table in _MONTH_NAMES.values() for k, v in table.items()
}
_MONTH = r"(?P<mon>" + alternation(list(_MONTHS)) + r")\.?"
_YEAR = r"(?P<y>(?:19|20)\d{2})"
_FY = r"(?:FY|[Ff]iscal\s+[Yy]ear)\s*(?:\(FY\)\s*)?(?P<y>(?:19|20)?\d{2})\b"
_SINCE = r"(?:[Ss]ince|[Bb]eginning(?:\s+in)?|[Ss]tarting(?:\s+in)?)\s+"
# Most specific first: a later pattern overlapping an earlier hit is ignored.
_PERIOD_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"\b(?:from|between)\s+" + _FY + r"\s*(?:to|and|through|–|-)\s*(?:FY\s*)?"
            r"(?P<y2>(?:19|20)?\d{2})\b"
        ),
        "fy-span",
    ),
    (re.compile(r"\b" + _SINCE + _FY), "fy-"),
    (re.compile(r"\b" + _FY), "fy"),
    (
        re.compile(
            r"(?i)\b(?:from|between)\s+" + _YEAR + r"\s*(?:to|and|through|–|-)\s*"
            r"(?P<y2>(?:19|20)\d{2})\b"
        ),
        "span",
    ),
    (re.compile(r"(?i)\b" + _SINCE + r"(?:" + _MONTH + r"\s+)?" + _YEAR + r"\b"), "year-"),
    (re.compile(r"(?i)\b" + _MONTH + r"\s+(?:(?P<d>\d{1,2}),?\s+)?" + _YEAR + r"\b"), "month"),
    (
        re.compile(
            r"(?i)\b(?:in|during|for|by|throughout|as\s+of)\s+(?:calendar\s+year\s+)?"
            + _YEAR
            + r"\b(?!\s*[-–]\d)"
        ),
        "year",
    ),
)


def _full_year(digits: str) -> str:
    return digits if len(digits) == 4 else "20" + digits


def _period_value(m: re.Match[str], kind: str) -> str:
    year = _full_year(m["y"])
    if kind == "fy-span":
        return f"FY{year}-FY{_full_year(m['y2'])}"
    if kind.startswith("fy"):
        return f"FY{year}" + ("-" if kind == "fy-" else "")
    if kind == "month":
        month = f"{year}-{_MONTHS[m['mon'].lower()]:02d}"
        return f"{month}-{int(m['d']):02d}" if m["d"] else month
    if kind == "span":
        return f"{year}-{m['y2']}"
    return year + ("-" if kind == "year-" else "")


def _period_hits(text: str, sentence: tuple[int, int]) -> list[tuple[int, int, str]]:
    hits: list[tuple[int, int, str]] = []
    for pattern, kind in _PERIOD_PATTERNS:
        for m in pattern.finditer(text, *sentence):
            if all(m.end() <= s or m.start() >= e for s, e, _ in hits):
                hits.append((m.start(), m.end(), _period_value(m, kind)))
    return hits


def _period(
    text: str, sentence: tuple[int, int], span: tuple[int, int], others: list[tuple[int, int]]
) -> str | None:
    """The period stated in the sentence nearest to the amount at ``span``.

    A period belongs to the amounts next to it: one with another amount in between
    applies only when it opens the sentence ("In 2023, $5 million ... and $3 million").
    """
    start, end = span
    inside = [o for o in others if sentence[0] <= o[0] < sentence[1] and o != span]
    eligible = [
        h
        for h in _period_hits(text, sentence)
        if all(h[0] < o[0] for o in [*inside, span])
        or not any(min(h[1], end) <= o[0] and o[1] <= max(h[0], start) for o in inside)
    ]
    if not eligible:
        return None
    return min(eligible, key=lambda h: max(start - h[1], h[0] - end, 0))[2]


_WHAT_STOP = frozenset(str(w) for w in _VOCAB["what_stop_words"])
_WHAT_TRAILING = frozenset(str(w) for w in _VOCAB["what_trailing"])
_PURPOSE_VERBS = frozenset(str(w) for w in _VOCAB["purpose_verbs"])
_PURPOSE_RE = re.compile(r"\s+to\s+(?=(?:" + "|".join(_PURPOSE_VERBS) + r")\b)")
_WHAT_LEAD = frozenset(str(w) for w in _VOCAB["what_lead_words"])
_DETERMINERS = frozenset(str(w) for w in _VOCAB["determiners"])
_SUBJECT_STOP = frozenset(str(w) for w in _VOCAB["subject_stop_words"])
_TOKEN_RE = re.compile(r"\d[\d,.]*\d|[^\s,;:()\[\]\"]+|[,;:()\[\]\"]")
_YEAR_RE = re.compile(r"(?:19|20)\d{2}")
_LINKING_RE = re.compile(
    r"(?i)\b(?:(?:" + alternation(_VOCAB["copulas"]) + r")\s+)?"
    r"(?:" + alternation(_VOCAB["linking_verbs"]) + r")\s+"
    r"(?:(?:" + alternation(_VOCAB["linking_fillers"]) + r")\s+)?$"
)
_TIME = r"(?:(?:FY|[Ff]iscal\s+[Yy]ear)\s*(?:19|20)?\d{2}|(?:" + _MONTH + r"\s+)?(?:19|20)\d{2})\b"
_LEADING_PERIOD_RE = re.compile(r"\s+(?:in|during)\s+" + _TIME + r"(?!\s*[.,;:]|\s*$)")
_TRAILING_PERIOD_RE = re.compile(r"\s+(?:in|during)\s+" + _TIME + r"\s*$")
_MAX_WHAT_WORDS = 8


def _ends_sentence(token: str) -> bool:
    return token.endswith(".") and token.casefold() not in _ABBREVIATIONS


def _phrase(tokens: list[str]) -> str | None:
    """Trim function words from both ends; None when nothing is left."""
    while tokens and (tokens[-1].lower() in _WHAT_TRAILING or tokens[-1].endswith("-")):
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
        if _starts_period(token) or (
            low in {"in", "to"} and words and (_starts_period(nxt) or _is_infinitive(low, nxt))
        ):
            break
        if _ends_sentence(token):
            words.append(token.rstrip("."))
            break
        words.append(token)
    return _phrase(words)


def _starts_period(token: str) -> bool:
    """A year, a fiscal year or a month: the start of a time phrase, not of a "what"."""
    return (
        bool(_YEAR_RE.fullmatch(token.rstrip(".,")))
        or token.startswith("FY")
        or (token.lower().rstrip(".,") in _MONTHS)
    )


def _is_infinitive(word: str, nxt: str) -> bool:
    return word == "to" and nxt in _PURPOSE_VERBS


def _what_before(before: str) -> str | None:
    """Subject of a linking verb: "U.S. direct investment in Peru was $6 billion"."""
    m = _LINKING_RE.search(before)
    if m is None:
        return None
    subject = before[: m.start()]
    period = _TRAILING_PERIOD_RE.search(subject)
    words: list[str] = []
    for token in reversed(_TOKEN_RE.findall(subject[: period.start()] if period else subject)):
        if len(words) >= _MAX_WHAT_WORDS or not re.match(r"[^\W\d]", token):
            break
        if token.lower() in _SUBJECT_STOP or parse_number(token) is not None:
            break
        words.insert(0, token)
    return _phrase(words)


def _what(text: str, sentence: tuple[int, int], start: int, end: int) -> str | None:
    """Noun phrase after the amount, else the subject it is linked to, else its purpose."""
    after = text[end : sentence[1]]
    period = _LEADING_PERIOD_RE.match(after)
    if period:  # "$5 million in FY 2024 funding": skip the time phrase
        after = after[period.end() :]
    before = text[sentence[0] : start]
    purpose = _PURPOSE_RE.match(after)
    if purpose:
        return _what_before(before) or _what_after(after[purpose.end() :])
    if re.match(r"\s+to\b", after):  # a recipient; the linked subject says more
        return _what_before(before) or _what_after(after)
    return _what_after(after) or _what_before(before)


def _bounds(amount: float | None, qualifier: str | None) -> tuple[float | None, float | None]:
    if qualifier == "min":
        return amount, None
    if qualifier == "max":
        return None, amount
    return amount, amount


def _fact(
    text: str,
    a: _Amount,
    sentences: list[tuple[int, int]],
    others: list[tuple[int, int]],
    vague: bool = False,
) -> MoneyFact:
    sentence = _sentence_of(sentences, a.start, len(text))
    found = qualifier_before(text, a.start, money=True)
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
        period=_period(text, sentence, (a.start, a.end), others),
        what=_what(text, sentence, found[1] if found else a.start, a.end),
        extractor=EXTRACTOR,
        amount_low_usd=low,
        amount_high_usd=high,
    )


def _vague_amounts(text: str) -> list[_Amount]:
    out = []
    for m in _VAGUE_RE.finditer(text):
        currency = _VAGUE_CURRENCIES.get(m["cur"].lower()) if m["cur"] else None
        number = NumberMatch(m.start(), m.end(), 0.0, 0.0)
        out.append(_Amount(number, m.start(), m.end(), currency, 0.0))
    return out


def extract_money(text: str, ctx: DocContext) -> list[MoneyFact]:
    """Every money amount in one cleaned passage, in text order."""
    del ctx  # amounts need no document context; periods come from the sentence alone
    sentences = sentence_bounds(text)
    amounts, vague = _amounts(text), _vague_amounts(text)
    spans = [(a.start, a.end) for a in amounts + vague]
    facts = [_fact(text, a, sentences, spans) for a in amounts]
    facts += [_fact(text, a, sentences, spans, vague=True) for a in vague]
    return sorted(facts, key=lambda f: f.start)
