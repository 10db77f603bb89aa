"""Money amounts: "$16 billion", "US$3.5 million", "139 million USD", "$1–2 million".

Each amount becomes a :class:`MoneyFact` whose span is the money expression alone
(qualifier words stay outside it), with its qualifier, the period its sentence states
and a short phrase saying what the amount is for (``money_context``), and its funder,
recipient and flow stage (``money_parties``).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, replace
from functools import lru_cache

from pipeline.clean.sentences import sentence_bounds
from pipeline.extract.base import DocContext, MoneyFact
from pipeline.extract.money_context import period, what
from pipeline.extract.money_parties import flow_stage, parties
from pipeline.extract.numbers import (
    NumberMatch,
    alternation,
    load_vocabulary,
    numbers_in,
    qualifier_before,
)

__all__ = ["EXTRACTOR", "extract_money", "money_spans"]

EXTRACTOR = "money@0.2.0"

_VOCAB = load_vocabulary("money")
_STAGE_WHAT: dict[str, str] = load_vocabulary("flow_stages")["stage_what"]


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


_VAGUE_SCALES = tuple(str(w) for w in _VOCAB["vague_scales"])


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
    range_end: int | None = None  # for a range's low end: where the whole range ends


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
        replace(a, currency=currency, value=low, side="low", other=b.value, range_end=b.end),
        replace(b, currency=currency, side="high", other=low),
    )


def _amounts(text: str) -> list[_Amount]:
    amounts = [_amount(text, n) for n in numbers_in(text)]
    for i in range(len(amounts) - 1):
        amounts[i], amounts[i + 1] = _link_range(text, amounts[i], amounts[i + 1])
    # "$0" states no amount of money changing hands ("$0 in tariffs"): not a money fact,
    # and the contract holds every amount > 0.
    return [a for a in amounts if a.currency is not None and a.value > 0]


def _sentence_of(sentences: list[tuple[int, int]], position: int, size: int) -> tuple[int, int]:
    """The sentence that holds ``position`` (the whole text when there is none)."""
    i = bisect_right(sentences, (position, size + 1)) - 1
    return sentences[i] if i >= 0 else (0, size)


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
    if a.side is not None and a.other is not None:
        qualifier = qualifier or ("min" if a.side == "low" else "max")
        if usd is not None:
            low, high = min(usd, a.other), max(usd, a.other)  # both ends carry the range
    lead = found[1] if found else a.start  # the qualifier words belong to the amount
    tail = a.range_end or a.end  # both ends of a range share what follows the range
    stage = flow_stage(text, sentence, lead, tail)
    who = parties(text, sentence, lead, tail, stage)
    return MoneyFact(
        start=a.start,
        end=a.end,
        amount=amount,
        currency=a.currency,
        amount_usd=usd,
        qualifier=qualifier,
        period=period(text, sentence, (a.start, a.end), _without_partner(others, a, tail)),
        what=what(text, sentence, (lead, tail), who.recipient_end, _STAGE_WHAT.get(stage)),
        extractor=EXTRACTOR,
        amount_low_usd=low,
        amount_high_usd=high,
        funder=who.funder,
        recipient=who.recipient,
        flow_stage=stage,
    )


def _without_partner(others: list[tuple[int, int]], a: _Amount, tail: int) -> list[tuple[int, int]]:
    """Spans of the other amounts, without the high end of ``a``'s own range."""
    if a.range_end is None:
        return others
    return [o for o in others if o[1] != tail]


def _vague_amounts(text: str) -> list[_Amount]:
    out = []
    for m in _VAGUE_RE.finditer(text):
        currency = _VAGUE_CURRENCIES.get(m["cur"].lower()) if m["cur"] else None
        number = NumberMatch(m.start(), m.end(), 0.0, 0.0)
        out.append(_Amount(number, m.start(), m.end(), currency, 0.0))
    return out


@lru_cache(maxsize=8)
def _found(text: str) -> tuple[list[_Amount], list[_Amount]]:
    """Amounts and vague amounts of a passage, cached so that the quantity extractor, run
    on the same passage right after, reuses them instead of scanning a second time."""
    low = text.lower()
    vague = _vague_amounts(text) if any(w in low for w in _VAGUE_SCALES) else []
    return _amounts(text), vague


def money_spans(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of every money expression in ``text`` (without their context)."""
    amounts, vague = _found(text)
    return [(a.start, a.end) for a in amounts + vague]


def extract_money(text: str, ctx: DocContext) -> list[MoneyFact]:
    """Every money amount in one cleaned passage, in text order."""
    del ctx  # amounts need no document context; periods come from the sentence alone
    amounts, vague = _found(text)
    if not amounts and not vague:
        return []
    sentences = sentence_bounds(text)
    spans = [(a.start, a.end) for a in amounts + vague]
    facts = [_fact(text, a, sentences, spans) for a in amounts]
    facts += [_fact(text, a, sentences, spans, vague=True) for a in vague]
    return sorted(facts, key=lambda f: f.start)
