"""Context of a money amount in its sentence: the period it refers to and what it is for.

Both come from the amount's own sentence only (the gold rule: a period stated in the
previous sentence does not carry over). Vocabulary lives in ``resources/money.yaml``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pipeline.extract.numbers import alternation, load_vocabulary, parse_number

__all__ = ["period", "what"]

_VOCAB = load_vocabulary("money")

_ABBREVIATIONS = frozenset(
    str(a).casefold() for a in load_vocabulary("abbreviations")["abbreviations"]
)


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
            r"(?i)\b(?:in|during|for|by|throughout|as\s+of)\s+(?:(?:calendar|the)\s+year\s+)?"
            + _YEAR
            + r"\b(?!\s*[-–/]\d)"  # not "2009-2016" nor the UK fiscal year "2022/23"
        ),
        "year",
    ),
)


def _full_year(digits: str) -> str:
    return digits if len(digits) == 4 else "20" + digits


def _period_value(m: re.Match[str], kind: str) -> str:
    year = _full_year(m["y"])
    if kind == "fy-span":
        return f"FY{year}..FY{_full_year(m['y2'])}"  # a closed span, as in the contract
    if kind.startswith("fy"):
        return f"FY{year}" + ("-" if kind == "fy-" else "")
    if kind == "month":
        month = f"{year}-{_MONTHS[m['mon'].lower()]:02d}"
        return f"{month}-{int(m['d']):02d}" if m["d"] else month
    if kind == "span":
        return f"{year}..{m['y2']}"
    return year + ("-" if kind == "year-" else "")


@lru_cache(maxsize=64)  # every amount of a sentence asks for the same hits
def _period_hits(text: str, sentence: tuple[int, int]) -> list[tuple[int, int, str]]:
    hits: list[tuple[int, int, str]] = []
    # Every pattern needs a year or a fiscal-year word: two cheap tests skip the slow
    # word-boundary scans in the many sentences that have neither.
    fiscal = any(w in text[sentence[0] : sentence[1]] for w in ("FY", "iscal"))
    year = _YEAR_RE.search(text, *sentence) is not None
    for pattern, kind in _PERIOD_PATTERNS:
        if not (fiscal if kind.startswith("fy") else year):
            continue
        for m in pattern.finditer(text, *sentence):
            if all(m.end() <= s or m.start() >= e for s, e, _ in hits):
                hits.append((m.start(), m.end(), _period_value(m, kind)))
    return hits


def period(
    text: str, sentence: tuple[int, int], span: tuple[int, int], others: list[tuple[int, int]]
) -> str | None:
    """The period stated in the sentence nearest to the amount at ``span``.

    A period belongs to the amounts next to it: one with another amount in between
    applies only when it opens the sentence ("In 2023, $5 million ... and $3 million"),
    and one right after another amount is that amount's ("€125 billion in 2022, while
    exports were worth €35 billion": none for the second).
    """
    start, end = span
    inside = [o for o in others if sentence[0] <= o[0] < sentence[1] and o != span]
    eligible = [
        h
        for h in _period_hits(text, sentence)
        if all(h[0] < o[0] for o in [*inside, span])
        or (
            not any(min(h[1], end) <= o[0] and o[1] <= max(h[0], start) for o in inside)
            and not _owned_by_other(h, end, inside)
        )
    ]
    if not eligible:
        return None
    return min(eligible, key=lambda h: max(start - h[1], h[0] - end, 0))[2]


def _owned_by_other(hit: tuple[int, int, str], end: int, inside: list[tuple[int, int]]) -> bool:
    if 0 <= hit[0] - end <= 2:
        return False
    return any(0 <= hit[0] - o[1] <= 2 for o in inside)


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
_TIME = (
    r"(?:(?:the\s+)?(?:calendar\s+)?year\s+(?:19|20)\d{2}|(?:FY|[Ff]iscal\s+[Yy]ear)\s*(?:19|20)?\d{2}|(?:"
    + _MONTH
    + r"\s+)?(?:19|20)\d{2})\b"
)
_LEADING_PERIOD_RE = re.compile(r"\s+(?:in|during)\s+" + _TIME + r"(?!\s*[.,;:]|\s*$)")
_TRAILING_PERIOD_RE = re.compile(r"\s+(?:in|during)\s+" + _TIME + r"\s*$")
_MAX_WHAT_WORDS = 8
_ASIDE_RE = re.compile(r"\s*\([^()]{1,60}\)")
_PURPOSE_VERB = r"(?:" + alternation(list(_PURPOSE_VERBS)) + r")"
# After a recipient: "for <what>", or "to <purpose verb> <what>" (the verb is dropped).
_AFTER_RECIPIENT_RE = re.compile(r"\s*(?:,\s*)?(?:for\s|to\s+" + _PURPOSE_VERB + r"(?:\s+to)?\s)")


def _ends_sentence(token: str) -> bool:
    return token.endswith(".") and token.casefold() not in _ABBREVIATIONS


def _phrase(tokens: list[str]) -> str | None:
    """Trim function words from both ends; None when nothing is left."""
    tokens = [*tokens[:-1], tokens[-1].rstrip(",")] if tokens else tokens
    while tokens and (
        tokens[-1].lower() in _WHAT_TRAILING | {"and", "or"} or tokens[-1].endswith(("-", ","))
    ):
        tokens = tokens[:-1]
    while tokens and tokens[0].lower() in _DETERMINERS:
        tokens = tokens[1:]
    return " ".join(tokens) or None


def _what_after(after: str) -> str | None:
    tokens = _TOKEN_RE.findall(after, 0, 240)[:40]  # the phrase is short
    if tokens and tokens[0].lower() in _WHAT_LEAD:
        tokens = tokens[1:]
    words: list[str] = []
    list_start: int | None = None  # words before the first comma of a list
    for i, token in enumerate(tokens):
        low = token.lower()
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if _continues_list(token, words, nxt, tokens[i + 2 : i + 3], list_start is not None):
            list_start = len(words) if list_start is None else list_start
            if token == ",":
                words[-1] += ","
            else:
                words.append(token)
            continue
        if not re.match(r"[\w'’]", token) or low in _WHAT_STOP:
            break
        if token[0].isdigit() or token[0] == "$":
            break
        if _starts_period(token) or (
            low in {"in", "to", "year"}
            and words
            and (_starts_period(nxt) or _is_infinitive(low, nxt))
        ):
            break
        if len(words) >= _MAX_WHAT_WORDS:
            if list_start is not None:
                words = words[:list_start]  # a list cut short reads worse than its first item
            break
        if _ends_sentence(token):
            words.append(token.rstrip("."))
            break
        words.append(token)
    return _phrase(words)


def _continues_list(
    token: str, words: list[str], nxt: str, after: list[str], in_list: bool
) -> bool:
    """A comma or 'and' inside a list of modifiers: "economic, social, and political aid"."""
    if not words or len(words) >= _MAX_WHAT_WORDS:
        return False
    if token == ",":
        following = after[0] if nxt in ("and", "or") and after else nxt
        return (
            bool(re.fullmatch(r"[a-z][\w-]*", following))
            and following not in _WHAT_STOP
            and following not in _PURPOSE_VERBS  # ", disrupt ...": a new clause
        )
    # "and" ends a list begun with a comma, with or without the serial comma
    return (
        token in ("and", "or")
        and (words[-1].endswith(",") or in_list)
        and bool(re.fullmatch(r"[a-z][\w-]*", nxt))
    )


def _starts_period(token: str) -> bool:
    """A year, a fiscal year or a month: the start of a time phrase, not of a "what"."""
    return (
        bool(_YEAR_RE.fullmatch(token.rstrip(".,")))
        or token.startswith("FY")
        or (token.lower().rstrip(".,") in _MONTHS)
    )


def _is_infinitive(word: str, nxt: str) -> bool:
    return word == "to" and nxt.rstrip(".,;:") in _PURPOSE_VERBS


def _what_before(before: str) -> str | None:
    """Subject of a linking verb: "U.S. direct investment in Peru was $6 billion"."""
    # Both patterns end at the string's end: search only its tail, not every position.
    m = _LINKING_RE.search(before, max(0, len(before) - 80))
    if m is None:
        return None
    subject = before[max(0, m.start() - 240) : m.start()]
    period = _TRAILING_PERIOD_RE.search(subject, max(0, len(subject) - 60))
    words: list[str] = []
    for token in reversed(_TOKEN_RE.findall(subject[: period.start()] if period else subject)):
        if len(words) >= _MAX_WHAT_WORDS or not re.match(r"[^\W\d]", token):
            break
        if token.lower() in _SUBJECT_STOP or parse_number(token) is not None:
            break
        words.insert(0, token)
    return _phrase(words)


def what(
    text: str,
    sentence: tuple[int, int],
    span: tuple[int, int],
    recipient_end: int | None = None,
    fallback: str | None = None,
) -> str | None:
    """Noun phrase after the amount, else the subject it is linked to, else its purpose.

    A recipient named right after the amount ("invested $13 billion in Colombia") is not
    what the money is for: the phrase after it is, else ``fallback`` (e.g. "investment").
    """
    start, end = span
    after = text[(recipient_end or end) : sentence[1]]
    aside = _ASIDE_RE.match(after)
    if aside:  # "S/ 185 million (about US$ 49.5 million) for ...": read past the aside
        after = after[aside.end() :]
    period = _LEADING_PERIOD_RE.match(after)
    if period:  # "$5 million in FY 2024 funding": skip the time phrase
        after = after[period.end() :]
    before = text[sentence[0] : start]
    if recipient_end is not None:
        lead = _AFTER_RECIPIENT_RE.match(after)
        found = _what_after(after[lead.end() - 1 :]) if lead else None
        return found or _what_before(before) or fallback
    purpose = _PURPOSE_RE.match(after)
    if purpose:  # "to promote economic development": the verb's object says what for
        verb = re.match(r"\S+", after[purpose.end() :])
        goal = after[purpose.end() + (verb.end() if verb else 0) :]
        return _what_before(before) or _what_after(goal) or fallback
    if re.match(r"\s+to\b", after):  # a recipient; the linked subject says more
        return _what_before(before) or _what_after(after) or fallback
    return _what_after(after) or _what_before(before) or fallback
