"""Sentence bounds in cleaned text (a rule splitter that knows the genre's abbreviations)."""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import cache

from pipeline.resources import load_yaml

_BOUNDARY_RE = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9$])")
_LAST_TOKEN_RE = re.compile(r"(\S+)$")


@cache
def _abbreviations() -> frozenset[str]:
    return frozenset(a.casefold() for a in load_yaml("abbreviations.yaml")["abbreviations"])


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """[start, end) of each sentence of ``text``, covering it without gaps in content."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY_RE.finditer(text):
        # Look back a short window only: abbreviations are short, passages may be long.
        token = _LAST_TOKEN_RE.search(text, max(0, m.start() - 24), m.start())
        word = token.group(1).casefold() if token else ""
        if word in _abbreviations() or re.fullmatch(r"(?:[a-z]\.)+", word):
            continue
        bounds.append((start, m.start()))
        start = m.end()
    if start < len(text):
        bounds.append((start, len(text)))
    return bounds


def sentence_at(text: str, bounds: list[tuple[int, int]], position: int) -> str:
    """The sentence holding ``position`` (bounds from sentence_bounds(text))."""
    if not bounds:
        return text
    index = max(0, bisect_right([s for s, _ in bounds], position) - 1)
    start, end = bounds[index]
    return text[start:end]
