"""Named entities in a passage: people, organisations, agreements, programmes, places, events.

A first, precision-minded version: a gazetteer of the genre (canonical names with
aliases) plus generic patterns for titled people ("Secretary of State Jane Roe") and
capitalised phrases with a telling head noun ("... Trade Promotion Agreement",
"Ministry of Foreign Affairs"). Overlapping candidates: the longest wins.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from pipeline.extract.base import DocContext, EntityFact

EXTRACTOR = "entities@0.1.0"

# YAML section of the gazetteer -> entity type
_SECTIONS = {
    "places": "place",
    "organizations": "organization",
    "agreements": "agreement",
    "programmes": "programme",
    "events": "event",
}
# Rank on equal spans: gazetteer before titled person before generic phrase.
_GAZETTEER, _PERSON, _PHRASE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class _Cand:
    start: int
    end: int
    name: str
    type: str
    rank: int


def _load(name: str) -> Any:
    """Parse one YAML vocabulary shipped in ``pipeline/resources``."""
    text = resources.files("pipeline").joinpath("resources", name).read_text("utf-8")
    return yaml.safe_load(text)


def _alternation(words: Iterable[str]) -> str:
    """Regex alternation of literal words, longest first so prefixes do not win."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@functools.cache
def _gazetteer() -> dict[str, tuple[str, str]]:
    """Alias -> (canonical name, type); each entry's first alias is its canonical name."""
    table: dict[str, tuple[str, str]] = {}
    for section, type_ in _SECTIONS.items():
        for aliases in _load("entities.yaml")[section]:
            for alias in aliases:
                table.setdefault(str(alias), (str(aliases[0]), type_))
    return table


@functools.cache
def _vocab() -> dict[str, Any]:
    data: dict[str, Any] = _load("entity_patterns.yaml")
    return data


@functools.cache
def _gazetteer_re() -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.])(?:{_alternation(_gazetteer())})(?:(?<=\.)|(?!-\w))(?![\w$])")


_P_ACRONYM_DEF = re.compile(r"\s*\(([A-Z][A-Za-z]*[A-Z])\)")
_P_OWNER = re.compile(r"\s(?:of|for)\s+(?:the\s+)?")
_P_COMPLEMENT = re.compile(r"\s+(?:of|for|on|against|de|del|para)\s")
_P_WORD = re.compile(r"(\S+)\s+")  # a word with following space: never the last word
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
    return re.compile(rf"(?<![\w'-]){_CAP}(?:\s+(?:{connector}\s+)*{_CAP})*(?!\w)")


@functools.cache
def _heads() -> list[tuple[re.Pattern[str], str]]:
    """One pattern per type matching its head nouns as whole words."""
    return [
        (re.compile(rf"(?<![\w-])(?:{_alternation(words)})(?![\w-])"), type_)
        for type_, words in _vocab()["heads"].items()
    ]


@functools.cache
def _splitter() -> re.Pattern[str]:
    """Where one capitalised run holds two names: "State and the Defense Ministry"."""
    heads = [w for words in _vocab()["heads"].values() for w in words]
    nxt = rf"(?:the\b|[A-Z]{{2,}}\b|(?:{_alternation([*heads, *_gazetteer()])})(?![\w-]))"
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


def _person_cands(text: str) -> Iterator[_Cand]:
    for m in _person_re().finditer(text):
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
    if head_start == start and stop == head_end:
        return None  # a bare head noun ("the Ministry") names nothing
    name, type_ = _canonical(_squash(text[start:stop]), head_type)
    return _Cand(start, stop, name, type_, _PHRASE)


def _canonical(span: str, type_: str) -> tuple[str, str]:
    """Gazetteer name and type of a phrase, trying "U.S. X" for "United States X"."""
    short = re.sub(r"^United States(?=\s)", "U.S.", span)
    return _gazetteer().get(span) or _gazetteer().get(short) or (span, type_)


def _phrase_cands(text: str) -> Iterator[_Cand]:
    for m in _phrase_re().finditer(text):
        start = m.start()
        for part in _splitter().finditer(text, m.start(), m.end()):
            if cand := _typed_phrase(text, start, part.start()):
                yield cand
            start = part.end()
        if cand := _typed_phrase(text, start, m.end()):
            yield cand


def _select(cands: Iterable[_Cand]) -> list[_Cand]:
    """Longest candidates first; drop any that overlaps one already kept."""
    kept: list[_Cand] = []
    for c in sorted(cands, key=lambda c: (c.start - c.end, c.rank, c.start)):
        if all(c.end <= k.start or k.end <= c.start for k in kept):
            kept.append(c)
    return sorted(kept, key=lambda c: c.start)


def _acronym_cands(text: str, kept: list[_Cand]) -> Iterator[_Cand]:
    """Acronyms defined in the passage ("Andean Water Fund (AWF)") and their later uses."""
    defined: dict[str, _Cand] = {}
    for c in kept:
        m = _P_ACRONYM_DEF.match(text, c.end)
        if m and c.type != "person" and m[1] not in _gazetteer():
            defined[m[1]] = c
    if not defined:
        return
    for m in re.finditer(rf"(?<![\w.])(?:{_alternation(defined)})(?![\w-])", text):
        c = defined[m[0]]
        yield _Cand(m.start(), m.end(), c.name, c.type, _GAZETTEER)


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
    kept = _select([*_gazetteer_cands(text), *_person_cands(text), *_phrase_cands(text)])
    kept = _select([*kept, *_acronym_cands(text, kept)])
    return [EntityFact(c.start, c.end, c.name, c.type, EXTRACTOR) for c in _full_person_names(kept)]
