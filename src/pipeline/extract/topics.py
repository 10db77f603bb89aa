"""Topics of a passage from the documented taxonomy (resources/topics.yaml).

A keyword classifier, deliberately simple and explainable: each topic has strong
phrases (one is enough) and weaker keywords (two distinct ones are needed); the
score rule and the vocabulary live in the YAML file.

Speed matters (this runs on every passage), so every term of every topic goes into
one alternation, factored by first letter so that the regex engine tries only the
terms that can start at a position, run over the lower-cased text; all-capitals
acronyms (WHO, AIDS, STEM) go into a second, case-sensitive alternation. Which
topics a matched string belongs to is decided afterwards, once per distinct string.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass

from pipeline.resources import load_yaml

# Escapes (\d, \w, \.) do not make a term lower-case; only its literal letters do.
_P_ESCAPE = re.compile(r"\\.")

# (topic index, True for a strong phrase, False for a keyword)
_Hit = tuple[int, bool]


@dataclass(frozen=True, slots=True)
class _Taxonomy:
    ids: tuple[str, ...]
    words: re.Pattern[str]  # lower-case terms, run on text.lower()
    acronyms: re.Pattern[str]  # case-sensitive terms, run on the text itself
    terms: tuple[tuple[re.Pattern[str], _Hit], ...]
    min_strong: int
    min_keywords: int


def _is_acronym(term: str) -> bool:
    return not any(c.islower() for c in _P_ESCAPE.sub("", term))


def _regex(term: str) -> str:
    # A space in a term also matches a line break or double space left in the text.
    return term.replace(" ", r"\s+")


def _alternation(terms: list[str], rare_starts: bool = False) -> str:
    """Terms grouped by first character: a(?:...)|b(?:...), longest first in each.

    ``rare_starts``: the first characters are rare in text (capitals of acronyms), so the
    word-start check comes after the first character ("A(?<!\\w.)..."), which lets the
    engine skip ahead to the next possible first character: three times as fast on
    acronyms, but slower on lower-case words, whose first letters are everywhere.
    """
    by_first: dict[str, list[str]] = defaultdict(list)
    for term in terms:
        if term[0].isalnum():
            by_first[term[0]].append(term[1:])
        else:  # a term opening with regex syntax stays whole
            by_first[""].append(term)
    parts = []
    for first, rests in sorted(by_first.items()):
        # longest first, then by text: the pattern must not depend on set order (hash seed)
        body = "|".join(_regex(r) for r in sorted(set(rests), key=lambda r: (-len(r), r)))
        if not rare_starts:
            parts.append(f"{re.escape(first)}(?:{body})")
        elif first:  # not after a word character: the same test as a leading (?<!\w)
            parts.append(rf"{re.escape(first)}(?<!\w.)(?:{body})")
        else:
            parts.append(rf"(?<!\w)(?:{body})")
    # (?!\w) rather than \b: hyphenated compounds ("trade-related") still count.
    if rare_starts:
        return rf"(?:{'|'.join(parts) or '(?!)'})(?!\w)"
    return rf"(?<!\w)(?:{'|'.join(parts) or '(?!)'})(?!\w)"


@functools.cache
def _taxonomy() -> _Taxonomy:
    data = load_yaml("topics.yaml")
    ids: list[str] = []
    terms: list[tuple[str, _Hit]] = []
    for i, topic in enumerate(data["topics"]):
        ids.append(str(topic["id"]))
        terms += [(str(t), (i, True)) for t in topic["strong"]]
        terms += [(str(t), (i, False)) for t in topic["keywords"]]
    words = [t.lower() for t, _ in terms if not _is_acronym(t)]
    acronyms = [t for t, _ in terms if _is_acronym(t)]
    return _Taxonomy(
        ids=tuple(ids),
        words=re.compile(_alternation(words)),
        acronyms=re.compile(_alternation(acronyms, rare_starts=True)),
        terms=tuple(
            (re.compile(_regex(t) if _is_acronym(t) else _regex(t.lower())), hit)
            for t, hit in terms
        ),
        min_strong=int(data["min_strong"]),
        min_keywords=int(data["min_keywords"]),
    )


@functools.lru_cache(maxsize=8192)
def _hits(matched: str) -> tuple[_Hit, ...]:
    """Every (topic, strength) whose term matches the whole string (cached: few distinct)."""
    return tuple(hit for pattern, hit in _taxonomy().terms if pattern.fullmatch(matched))


def _matches(text: str) -> list[str]:
    tax = _taxonomy()
    found = tax.words.findall(text.lower())
    if any(c.isupper() for c in text):
        found += tax.acronyms.findall(text)
    return found


def _count(text: str, strong: list[int], keywords: list[set[str]], as_keyword: bool) -> None:
    """Add the terms of ``text`` to the scores; heading terms all count as keywords."""
    for matched in _matches(text):
        for i, is_strong in _hits(matched):
            if is_strong and not as_keyword:
                strong[i] += 1
            else:
                keywords[i].add(matched.lower())


def passage_topics(text: str, heading: str | None = None) -> tuple[str, ...]:
    """Topic ids of the passage, in taxonomy order (the heading counts as context)."""
    tax = _taxonomy()
    strong = [0] * len(tax.ids)
    in_text: list[set[str]] = [set() for _ in tax.ids]
    _count(text, strong, in_text, as_keyword=False)
    both = in_text
    if heading:  # scanned apart so that its last word and the text's first never merge
        both = [set(words) for words in in_text]
        _count(heading, [0] * len(tax.ids), both, as_keyword=True)
    return tuple(
        topic
        for i, topic in enumerate(tax.ids)
        if strong[i] >= tax.min_strong or (in_text[i] and len(both[i]) >= tax.min_keywords)
    )
