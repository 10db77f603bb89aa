"""Page chrome: genre patterns plus short lines that repeat across the corpus."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import cache

from pipeline.resources import load_yaml


class _NonWordToSpace(dict[int, str]):
    """``str.translate`` table: every character outside ``[^\\W_]`` (letters, digits) to a
    space, filled in as characters are first seen (the alphabet is open-ended)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        value = char if char.isalnum() else " "  # re's \w is isalnum() or '_'; '_' is no alnum
        self[code] = value
        return value


_NON_WORD_TO_SPACE = _NonWordToSpace()
_WORD_RE = re.compile(r"[^\W_]+")


@cache
def _line_pattern() -> re.Pattern[str]:
    patterns = load_yaml("boilerplate.yaml")["line_patterns"]
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)


@cache
def _line_phrases() -> tuple[str, ...]:
    return tuple(str(p).casefold() for p in load_yaml("boilerplate.yaml")["line_phrases"])


# The last set ``_most_words`` measured, by identity (see there).
_measured: tuple[frozenset[str], int] | None = None


def _most_words(keys: frozenset[str]) -> int:
    """The most words a key of ``keys`` has, remembered for the last set asked about.

    Remembered by identity, not equality: a cache keyed by the set itself (``lru_cache``)
    compares every later batch's set, equal but another object, with the one it keeps,
    element by element, on every line. At 100,000 bench documents (thousands of repeated
    lines) that made the batch stage take 389-406 s instead of 323 s."""
    global _measured
    last = _measured
    if last is not None and last[0] is keys:
        return last[1]
    most = max((len(k.split()) for k in keys), default=0)
    _measured = (keys, most)
    return most


def normal_words(text: str) -> list[str]:
    """The casefolded runs of letters and digits of ``text`` (``[^\\W_]+``), in order.

    Not one regex match per word, which costs more on prose, and this runs on every line,
    passage and document. No whitespace character is alphanumeric, so splitting at
    whitespace first keeps every run whole. ASCII text: translate (one table lookup per
    character, in C) and split. Other text, where translate looks every character up in
    the mapping one by one: split, and take most words whole (all alphanumeric).
    """
    folded = text.casefold()
    if folded.isascii():
        return folded.translate(_NON_WORD_TO_SPACE).split()
    words: list[str] = []
    for token in folded.split():
        if token.isalnum():
            words.append(token)
        else:
            words += _WORD_RE.findall(token)
    return words


def normal_key(text: str) -> str:
    """``text`` with case, punctuation and spacing ignored: its words joined by one space
    (as ``re.sub(r"[\\W_]+", " ", text.casefold()).strip()``)."""
    return " ".join(normal_words(text))


def line_key(line: str) -> str:
    """Normalised form used to compare lines across documents."""
    return normal_key(line)


_HAS_WORD = re.compile(r"[^\W_]")


def short_line_key(line: str, max_words: int) -> str | None:
    """``line_key(line)`` when it has at most ``max_words`` words, else None.

    Most lines of prose are known long without being normalised: every whitespace-separated
    piece holding a letter or digit gives at least one word (casefolding keeps letters and
    digits, and turns no character into or out of whitespace: checked over all of Unicode).
    """
    pieces = line.split(None, max_words + 1)  # the first max_words + 1 are whole pieces
    if len(pieces) > max_words and all(_HAS_WORD.search(p) for p in pieces[: max_words + 1]):
        return None
    key = line_key(line)
    return key if len(key.split()) <= max_words else None


def is_chrome_line(line: str, repeated: frozenset[str] = frozenset()) -> bool:
    """True when the (stripped) line is page chrome rather than content."""
    stripped = line.strip().strip("\x00").strip()
    if not stripped:
        return False
    if _line_pattern().fullmatch(stripped):
        return True
    folded = stripped.casefold()
    if any(phrase in folded for phrase in _line_phrases()):
        return True
    # A line with more words than every repeated key is none of them: most lines of prose
    # are known to be so without being normalised (``short_line_key``).
    return bool(repeated) and short_line_key(stripped, _most_words(repeated)) in repeated


def repeated_lines(texts: Iterable[str], min_documents: int | None = None) -> frozenset[str]:
    """Keys of short lines found in at least ``min_documents`` of the texts."""
    config = load_yaml("boilerplate.yaml")
    threshold = min_documents or int(config["repeated_line_min_documents"])
    max_words = int(config["repeated_line_max_words"])
    counts: Counter[str] = Counter()
    for text in texts:
        keys = {line_key(line) for line in text.splitlines()}
        counts.update(k for k in keys if k and len(k.split()) <= max_words)
    return frozenset(k for k, n in counts.items() if n >= threshold)
