"""Page chrome: genre patterns plus short lines that repeat across the corpus."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import cache

from pipeline.resources import load_yaml

_KEY_STRIP_RE = re.compile(r"[\W_]+")


@cache
def _line_pattern() -> re.Pattern[str]:
    patterns = load_yaml("boilerplate.yaml")["line_patterns"]
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)


def line_key(line: str) -> str:
    """Normalised form used to compare lines across documents."""
    return _KEY_STRIP_RE.sub(" ", line.casefold()).strip()


def is_chrome_line(line: str, repeated: frozenset[str] = frozenset()) -> bool:
    """True when the (stripped) line is page chrome rather than content."""
    stripped = line.strip().strip("\x00").strip()
    if not stripped:
        return False
    if _line_pattern().fullmatch(stripped):
        return True
    return bool(repeated) and line_key(stripped) in repeated


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
