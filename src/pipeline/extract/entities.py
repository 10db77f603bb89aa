"""Named entities in a passage: people, organisations, agreements, programmes, places, events.

A first, precision-minded version: a gazetteer of the genre (canonical names with
aliases) plus generic patterns for titled people ("Secretary of State Jane Roe") and
capitalised phrases with a telling head noun ("... Trade Promotion Agreement",
"Ministry of Foreign Affairs"). Unknown names are still found by generic rules: a
capitalised name followed by its acronym ("Xyz Integration System (XIS)") and later
uses of that acronym, and a bare unknown acronym ("SUNAT"), taken as an organisation
unless entity_patterns.yaml lists it as no entity (FY, GDP, USD). Overlapping
candidates: the longest wins. Canonical names are what entity_id is computed from, so
"United States X" is written "U.S. X" as in the gazetteer.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pipeline.extract.base import DocContext, EntityFact
from pipeline.resources import load_yaml

EXTRACTOR = "entities@0.2.0"

# YAML section of the gazetteer -> entity type
_SECTIONS = {
    "places": "place",
    "organizations": "organization",
    "agreements": "agreement",
    "programmes": "programme",
    "events": "event",
}
# Rank on equal spans: gazetteer before titled person before generic phrase, then
# the weaker generic rules (a name defined by its acronym, a bare unknown acronym).
_GAZETTEER, _PERSON, _PHRASE, _DEFINED, _BARE = 0, 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class _Cand:
    start: int
    end: int
    name: str
    type: str
    rank: int


def _alternation(words: Iterable[str]) -> str:
    """Regex alternation of literal words, longest first so prefixes do not win."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@functools.cache
def _gazetteer() -> dict[str, tuple[str, str]]:
    """Alias -> (canonical name, type); each entry's first alias is its canonical name."""
    table: dict[str, tuple[str, str]] = {}
    for section, type_ in _SECTIONS.items():
        for aliases in load_yaml("entities.yaml")[section]:
            for alias in aliases:
                table.setdefault(str(alias), (str(aliases[0]), type_))
    return table


@functools.cache
def _vocab() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml("entity_patterns.yaml")
    return data


@functools.cache
def _gazetteer_re() -> re.Pattern[str]:
    return re.compile(
        rf"(?:{_first_char_alternation(_gazetteer(), '.')})(?:(?<=\.)|(?!-\w))(?![\w$])"
    )


# Speed: Python's regex engine skips quickly to possible starts only when a pattern
# opens with a literal or an alternation of literals, so the check on the character
# before a name comes after its first character ("(?<![\w.].)": the one before the
# first is not a word character or a period).
def _first_char_alternation(words: Iterable[str], also_not_before: str = "") -> str:
    """Alternation of literal words, each checked to start a word.

    Grouped by first character ("U(?:nited States|\\.S\\.)"), so that at a capital
    the engine tries only the words that start with it; longest first in a group.
    """
    before = rf"(?<![\w{re.escape(also_not_before)}].)"
    groups: dict[str, list[str]] = {}
    for word in sorted({w for w in words if w}, key=len, reverse=True):
        groups.setdefault(word[0], []).append(re.escape(word[1:]))
    return "|".join(f"{re.escape(c)}{before}(?:{'|'.join(rests)})" for c, rests in groups.items())


# A closing quote may sit between a name and its acronym: “... System” (CSII).
_P_ACRONYM_DEF = re.compile(r"[\s\"”’']*\(([A-Z][A-Za-z]*[A-Z])\)")
_P_PAREN_ACRONYM = re.compile(r"\(([A-Z][A-Za-z]*[A-Z])\)")
# 3-8 capitals standing alone: not inside a word, a dotted or hyphenated form, nor next
# to another all-capitals word ("TOWARD A STRATEGIC PARTNERSHIP FOR THE 21ST": a heading).
# Opens with the first capital, the checks on what precedes it after it (see above): the
# same matches as "(?<![\w.&/-])(?<![A-Z]\s)[A-Z]{3,8}...", five times as fast.
_P_BARE_ACRONYM = re.compile(
    r"[A-Z](?<![\w.&/-].)(?<![A-Z]\s.)[A-Z]{2,7}(?![\w&/-]|\.\w|\s[A-Z][A-Z\d]*\b)"
)
_P_HEAD_WORD = re.compile(r"[\w-]+")
_P_ROMAN = re.compile(r"[IVXLCDM]+")
_P_OWNER = re.compile(r"\s(?:of|for)\s+(?:the\s+)?")
_P_COMPLEMENT = re.compile(r"\s+(?:of|for|on|against|de|del|para)\s")
_P_WORD = re.compile(r"(\S+)\s+")  # a word with following space: never the last word
_P_SPACE = re.compile(r"\s")
_P_AND = re.compile(r"\s+(?:and|&)\s+")
_P_LAST_WORD = re.compile(r"\S+$")
_P_INDEFINITE = re.compile(r"(?<!\w)(?:[Aa]n?)\s+$")
_P_UNITED_STATES = re.compile(r"^United States(?:(?=\s)|\s?[-–]\s?(?=[A-Z]))")
_NAME_TOKEN = r"(?:[A-ZÀ-Þ][a-zß-ÿ]+(?:[A-Z][a-zß-ÿ]+)?(?:-[A-ZÀ-Þ][a-zß-ÿ]+)*|[A-Z]\.)"
_CAP = r"(?:(?:[A-Z]\.){2,}(?:-[A-Z]\w*)*|[A-ZÀ-Þ]\w*(?:-\w+)*)"


@functools.cache
def _person_re() -> re.Pattern[str]:
    v = _vocab()
    title = (
        rf"(?:(?:{_alternation(v['title_modifiers'])})\s+)*(?:{_alternation(v['titles'])})"
        rf"(?:\s+(?:of|for)\s+(?:{_alternation(v['portfolios'])}))?"
    )
    particle = rf"(?:{_alternation(v['name_particles'])})\s+"
    name = rf"{_NAME_TOKEN}(?:\s+(?:{particle})*{_NAME_TOKEN}){{0,3}}"
    return re.compile(rf"\b{title}(?:\s+{title})*\s+(?P<name>{name})(?![\w-])")


@functools.cache
def _phrase_re() -> re.Pattern[str]:
    connector = rf"(?:{_alternation(_vocab()['connectors'])})"
    # Spaces with at most one line break: a blank line ends a name.
    space = r"(?:[^\S\n]*\n[^\S\n]*|[^\S\n]+)"
    # The first capitalised word, written to open with a character class (see above).
    first = r"[A-ZÀ-Þ](?<![\w'-].)(?:(?<=[A-Z])\.(?:[A-Z]\.)+(?:-[A-Z]\w*)*|\w*(?:-\w+)*)"
    return re.compile(rf"{first}(?:{space}(?:{connector}{space})*{_CAP})*(?!\w)")


@functools.cache
def _heads() -> list[tuple[re.Pattern[str], str]]:
    """One pattern per type matching its head nouns as whole words."""
    return [
        (re.compile(rf"(?:{_first_char_alternation(words, '-')})(?![\w-])"), type_)
        for type_, words in _vocab()["heads"].items()
    ]


@functools.cache
def _any_head() -> re.Pattern[str]:
    """Any head noun of any type: most capitalised runs ("Peru") have none."""
    words = [w for words in _vocab()["heads"].values() for w in words]
    return re.compile(rf"(?:{_first_char_alternation(words, '-')})(?![\w-])")


@functools.cache
def _splitter() -> re.Pattern[str]:
    """Where one capitalised run holds two names: "State and the Defense Ministry"."""
    heads = [w for words in _vocab()["heads"].values() for w in words]
    # A known name after "and" opens a new one, also as the first half of a pair
    # ("... Dialogue and U.S.-Peru ..."), so only a following letter blocks the split.
    nxt = rf"(?:the\b|[A-Z]{{2,}}\b|(?:{_alternation([*heads, *_gazetteer()])})(?!\w))"
    # A capitalised stopword inside a run starts a new one: "... Secretary For Immediate".
    stops = [w for w in _vocab()["leading_stopwords"] if w[:1].isupper()]
    return re.compile(rf"\s+(?:and|&|y)\s+(?={nxt})|\s+(?=(?:{_alternation(stops)})\s)")


@functools.cache
def _place_prefix() -> re.Pattern[str]:
    """A place then a connector opening a run: "Peru to the ...", "Chile and the ..."."""
    places = [a for a, (_, type_) in _gazetteer().items() if type_ == "place"]
    connector = _alternation(_vocab()["connectors"])
    return re.compile(rf"(?:{_alternation(places)})\s+(?:{connector}|to)\s+")


def _squash(name: str) -> str:
    """One space between words, as in a canonical name."""
    return " ".join(name.split())


def _gazetteer_cands(text: str) -> Iterator[_Cand]:
    for m in _gazetteer_re().finditer(text):
        name, type_ = _gazetteer()[m[0]]
        yield _Cand(m.start(), m.end(), name, type_, _GAZETTEER)


@functools.cache
def _name_stopwords() -> frozenset[str]:
    return frozenset(_vocab()["not_name_words"]) | frozenset(_vocab()["leading_stopwords"])


def _person_name_end(text: str, start: int, end: int) -> int:
    """End of a matched name, cut before the first word that cannot be part of a name."""
    stop = start
    for word in re.finditer(r"\S+", text[start:end]):
        if word[0] in _name_stopwords():
            break
        if word[0] not in _vocab()["name_particles"]:  # a name never ends in "de"
            stop = start + word.end()
    return stop


@functools.cache
def _title_gate() -> re.Pattern[str]:
    """Where a person pattern can start: the first word of a title or title modifier."""
    v = _vocab()
    return re.compile(_first_char_alternation({*v["titles"], *v["title_modifiers"]}))


def _person_matches(text: str) -> Iterator[re.Match[str]]:
    """The matches of ``_person_re`` (like finditer), tried only where a title starts."""
    pos = 0
    while gate := _title_gate().search(text, pos):
        if m := _person_re().match(text, gate.start()):
            yield m
            pos = max(m.end(), gate.start() + 1)
        else:
            pos = gate.start() + 1


def _person_cands(text: str) -> Iterator[_Cand]:
    for m in _person_matches(text):
        start = m.start("name")
        end = _person_name_end(text, start, m.end("name"))
        name = _squash(text[start:end])
        if name and name not in _gazetteer():
            yield _Cand(start, end, name, "person", _PERSON)


@functools.cache
def _leading_stopwords() -> frozenset[str]:
    return frozenset(_vocab()["leading_stopwords"]) | frozenset(_vocab()["connectors"])


def _strip_leading(text: str, start: int, end: int) -> int:
    """Move ``start`` past opening words that never begin a name ("Through", "The")."""
    while (m := _P_WORD.match(text, start, end)) and m[1] in _leading_stopwords():
        start = m.end()
    return start


def _rightmost_head(text: str, start: int, end: int) -> tuple[int, int, str] | None:
    """(end, start, type) of the last head noun in ``text[start:end]``, if any."""
    if not _any_head().search(text, start, end):
        return None
    found = (
        (m.end(), m.start(), type_)
        for pattern, type_ in _heads()
        for m in pattern.finditer(text, start, end)
    )
    return max(found, default=None)


def _cut_owner(text: str, start: int, head_start: int) -> int:
    """Drop "Scientists of the" from "Scientists of the Fisheries Institute".

    The words before a head noun name the entity unless an "of"/"for" joins them to
    something else; a head noun before that "of" keeps it ("Ministry of Trade Council").
    """
    owners = list(_P_OWNER.finditer(text, start, head_start))
    last = owners[-1] if owners else None
    if last is None or _rightmost_head(text, start, last.start()) is not None:
        return start
    return last.end()


def _typed_phrase(text: str, start: int, end: int) -> _Cand | None:
    """The entity a capitalised run names, judged by its rightmost head noun."""
    if not _any_head().search(text, start, end):
        return None  # most runs have no head noun; none is found after a later start either
    start = _strip_leading(text, start, end)
    if prefix := _place_prefix().match(text, start, end):
        start = _strip_leading(text, prefix.end(), end)
    head = _rightmost_head(text, start, end)
    if head is None:
        return None
    head_end, head_start, head_type = head
    start = _cut_owner(text, start, head_start)
    # "Ministry of Foreign Affairs" runs on to the end; "Port Authority Director" stops.
    stop = end if _P_COMPLEMENT.match(text, head_end, end) else head_end
    if stop == head_end and _is_generic(text, start, head_start):
        return None  # "the Ministry", "the U.S. Department", "a Space Partnership"
    name, type_ = _canonical(_squash(text[start:stop]), head_type)
    return _Cand(start, stop, name, type_, _PHRASE)


def _is_generic(text: str, start: int, head_start: int) -> bool:
    """True when the words before the head do not make it a name.

    A bare head noun ("the Ministry"), one after an indefinite article ("a Space
    Partnership": a description, not a name), or a generic head after only a country
    ("U.S. Department", cut from "U.S. Department of ..." by a line break or typo).
    """
    if head_start == start or _P_INDEFINITE.search(text, max(0, start - 4), start):
        return True
    modifier = text[start:head_start].strip()
    if (
        modifier in _vocab()["nationality_words"]
        or _gazetteer().get(modifier, ("", ""))[1] == "place"
    ):
        head = _P_HEAD_WORD.match(text, head_start)
        return head is not None and head[0] in _vocab()["generic_heads"]
    return False


def _canonical(span: str, type_: str) -> tuple[str, str]:
    """Gazetteer name and type of a phrase, trying the usual spellings of "U.S.".

    "United States X" and "United States-Peru X" are written "U.S. X" and "U.S.-Peru X"
    in canonical names, and "U.S. X" falls back to "X" when only that is listed
    ("U.S. National Oceanic and Atmospheric Administration").
    """
    short = _P_UNITED_STATES.sub(lambda m: "U.S." if m[0] == "United States" else "U.S.-", span)
    gaz = _gazetteer()
    found = gaz.get(span) or gaz.get(short) or gaz.get(short.removeprefix("U.S. "))
    return found or (short, type_)


@functools.cache
def _head_words() -> frozenset[str]:
    return frozenset(w for words in _vocab()["heads"].values() for w in words)


def _splits(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Where a capitalised run breaks into names: the splitter, and an "and" right after a
    head noun, which closes a complete name ("U.S. Navy and Peruvian Navy")."""
    found = [(p.start(), p.end()) for p in _splitter().finditer(text, start, end)]
    if text.find("and", start, end) < 0 and text.find("&", start, end) < 0:
        return found  # _P_AND needs one of them; and found is then sorted and disjoint
    for p in _P_AND.finditer(text, start, end):
        word = _P_LAST_WORD.search(text, max(start, p.start() - 40), p.start())
        if word and word[0] in _head_words():
            found.append((p.start(), p.end()))
    kept: list[tuple[int, int]] = []
    for a, b in sorted(found):
        if not kept or a >= kept[-1][1]:
            kept.append((a, b))
    return kept


def _phrase_cands(text: str) -> Iterator[_Cand]:
    any_head = _any_head()
    for m in _phrase_re().finditer(text):
        run_start, run_end = m.span()
        if not _P_SPACE.search(text, run_start, run_end):  # in place: no copy of the run
            continue  # one word is at most a bare head noun, which names nothing
        if not any_head.search(text, run_start, run_end):
            # No part names anything (see _typed_phrase), so no need to split the run:
            # a part ends at the run's end or before a space, so a head noun found in a
            # part would be found in the whole run too.
            continue
        start = run_start
        for part_start, part_end in _splits(text, run_start, run_end):
            if cand := _typed_phrase(text, start, part_start):
                yield cand
            start = part_end
        if cand := _typed_phrase(text, start, run_end):
            yield cand


def _select(cands: Iterable[_Cand]) -> list[_Cand]:
    """Longest candidates first; drop any that overlaps one already kept.

    Kept spans never overlap, so sorted by start they are sorted by end too and a
    new span need only be compared with its two neighbours (no quadratic scan).
    """
    spans: list[tuple[int, int]] = []
    kept: list[_Cand] = []
    for c in sorted(cands, key=lambda c: (c.start - c.end, c.rank, c.start)):
        i = bisect.bisect_left(spans, (c.start, c.end))
        if all(c.end <= s or e <= c.start for s, e in spans[max(0, i - 1) : i + 1]):
            spans.insert(i, (c.start, c.end))
            kept.append(c)
    return sorted(kept, key=lambda c: c.start)


def _acronym_cands(text: str, kept: list[_Cand]) -> Iterator[_Cand]:
    """Acronyms defined in the passage ("Andean Water Fund (AWF)") and their later uses."""
    defined: dict[str, _Cand] = {}
    for c in kept:
        m = _P_ACRONYM_DEF.match(text, c.end)
        if m and c.type != "person" and m[1] not in _gazetteer() and m[1] not in _not_acronyms():
            defined[m[1]] = c
    if not defined:
        return
    for m in re.finditer(rf"(?<![\w.])(?:{_alternation(defined)})(?![\w-])", text):
        c = defined[m[0]]
        yield _Cand(m.start(), m.end(), c.name, c.type, _GAZETTEER)


@functools.cache
def _initials_re() -> re.Pattern[str]:
    """First letters of the words of a name that count for its acronym (not "of", "and")."""
    connectors = _alternation(_vocab()["connectors"])
    return re.compile(rf"(?<![\w'’-])(?!(?:{connectors})\b)\w", re.IGNORECASE)


def _acronym_start(text: str, start: int, end: int, acronym: str) -> int | None:
    """Start of the words of ``text[start:end]`` that the acronym abbreviates, if any.

    "Peru's Cooperative Situational Information Integration System (CSII)": the name
    starts at the last word whose initial is the acronym's first letter and from which
    the acronym's letters follow in order among the initials (CSII within CSIIS).
    """
    letters = [c for c in acronym if c.isupper()]
    initials = [(m.start(), m[0].upper()) for m in _initials_re().finditer(text, start, end)]
    for i in range(len(initials) - 1, -1, -1):
        if initials[i][1] != letters[0] or len(initials) - i < len(letters):
            continue
        rest = iter(c for _, c in initials[i + 1 :])
        if all(letter in rest for letter in letters[1:]):  # subsequence test
            return initials[i][0]
    return None


def _defined_name_cands(text: str) -> Iterator[_Cand]:
    """An unknown capitalised name defined by its acronym: "Xyz Integration System (XIS)"."""
    for m in _P_PAREN_ACRONYM.finditer(text):
        window = max(0, m.start() - 160)
        # the last capitalised run before the parenthesis
        run = next(reversed(list(_phrase_re().finditer(text, window, m.start()))), None)
        if run is None or text[run.end() : m.start()].strip(" \t\n\"”’'"):
            continue
        start = _acronym_start(text, run.start(), run.end(), m[1])
        if start is None or m[1] in _gazetteer() or m[1] in _not_acronyms():
            continue
        head = _rightmost_head(text, start, run.end())
        name, type_ = _canonical(
            _squash(text[start : run.end()]), head[2] if head else "organization"
        )
        yield _Cand(start, run.end(), name, type_, _DEFINED)


@functools.cache
def _not_acronyms() -> frozenset[str]:
    return frozenset(str(w) for w in _vocab()["non_entity_acronyms"])


def _bare_acronym_cands(text: str) -> Iterator[_Cand]:
    """Unknown acronyms ("CONIDA", "SUNAT") are organisations unless listed as not names.

    An all-capitals word in an all-capitals run is a shouted heading ("JOINT STATEMENT"),
    and a capitalised country or city ("LIMA") is that place.
    """
    for m in _P_BARE_ACRONYM.finditer(text):
        word = m[0]
        if word in _not_acronyms() or _P_ROMAN.fullmatch(word):
            continue
        if word.title() in _gazetteer():
            name, type_ = _gazetteer()[word.title()]
            yield _Cand(m.start(), m.end(), name, type_, _BARE)
        elif word not in _gazetteer():
            yield _Cand(m.start(), m.end(), word, "organization", _BARE)


def _full_person_names(kept: list[_Cand]) -> list[_Cand]:
    """Give a surname-only mention the full name used elsewhere in the passage."""
    full = {c.name.split()[-1]: c.name for c in kept if c.type == "person" and " " in c.name}
    return [
        _Cand(c.start, c.end, full.get(c.name, c.name), c.type, c.rank) if c.type == "person" else c
        for c in kept
    ]


def extract_entities(text: str, ctx: DocContext) -> list[EntityFact]:
    """Every entity mention in one cleaned passage, in text order.

    ``ctx`` is not used yet; it keeps the signature common to all extractors.
    """
    kept = _select(
        [
            *_gazetteer_cands(text),
            *_person_cands(text),
            *_phrase_cands(text),
            *_defined_name_cands(text),
        ]
    )
    # Later rules only fill gaps; re-select only when they found something.
    if acronyms := list(_acronym_cands(text, kept)):
        kept = _select([*kept, *acronyms])
    if _P_BARE_ACRONYM.search(text) and (bare := list(_bare_acronym_cands(text))):
        kept = _select([*kept, *bare])
    return [EntityFact(c.start, c.end, c.name, c.type, EXTRACTOR) for c in _full_person_names(kept)]
