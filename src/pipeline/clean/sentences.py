"""Sentence bounds in cleaned text (a rule splitter that knows the genre's abbreviations)."""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import cache, lru_cache

from pipeline.resources import load_yaml

# The boundary is group 1, after the end punctuation. Opening with the punctuation (not a
# lookbehind for it) lets the engine skip ahead to the next [.!?]: twice as fast, the same
# boundaries (a match ends in a space, so a boundary's punctuation is never in the last).
_BOUNDARY_RE = re.compile(r"[.!?]([\"')\]]*\s+)(?=[\"'(\[]?[A-Z0-9$])")
_LAST_TOKEN_RE = re.compile(r"(\S+)$")
_INITIALS_RE = re.compile(r"(?:[a-z]\.)+")


@cache
def _abbreviations() -> frozenset[str]:
    return frozenset(a.casefold() for a in load_yaml("abbreviations.yaml")["abbreviations"])


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """[start, end) of each sentence of ``text``, covering it without gaps in content."""
    return list(_sentence_bounds(text))


@lru_cache(maxsize=16)
def _sentence_bounds(text: str) -> tuple[tuple[int, int], ...]:
    """``sentence_bounds``, cached: the extractors split a passage right after the caller
    that attaches each fact's sentence did."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY_RE.finditer(text):
        boundary = m.start(1)
        # Look back a short window only: abbreviations are short, passages may be long.
        token = _LAST_TOKEN_RE.search(text, max(0, boundary - 24), boundary)
        word = token.group(1).casefold() if token else ""
        if word in _abbreviations() or _INITIALS_RE.fullmatch(word):
            continue
        bounds.append((start, boundary))
        start = m.end()
    if start < len(text):
        bounds.append((start, len(text)))
    return tuple(bounds)


def sentence_at(
    text: str, bounds: list[tuple[int, int]], position: int, starts: list[int] | None = None
) -> str:
    """The sentence holding ``position`` (bounds from sentence_bounds(text)); ``starts``,
    the bounds' starts, spares listing them again for every position in one text."""
    if not bounds:
        return text
    if starts is None:
        starts = [s for s, _ in bounds]
    index = max(0, bisect_right(starts, position) - 1)
    start, end = bounds[index]
    return text[start:end]
