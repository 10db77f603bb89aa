"""Document metadata: title, publisher, published date (with precision and basis), URL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlparse

from pipeline.clean.passages import Passage
from pipeline.document import Document
from pipeline.resources import load_yaml

_FRONT_MATTER_DATE_KEYS = (
    "date",
    "published",
    "published_time",
    "published_date",
    "pubdate",
    "created",
)
_TITLE_SEPARATORS_RE = re.compile(r"\s+[\u2013\u2014|-]\s+")
_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_ISSUED_ON_RE = re.compile(
    r"\b(?:issued|released|published|signed|dated)\b[^.]{0,200}?\bon\s+"
    r"(January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+(\d{1,2})\b(?:,?\s+(\d{4}))?"
)
_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
# Passages near the top that may hold a dateline or the issuing office.
_HEADER_PASSAGES = 6

FullDates = Callable[[str], list[tuple[int, int, dt.date]]]


@dataclass(frozen=True, slots=True)
class DocumentMetadata:
    title: str | None
    publisher: str | None
    published_date: str | None
    published_date_precision: str | None
    published_date_basis: str
    source_url: str | None


def describe(doc: Document, passages: Sequence[Passage], full_dates: FullDates) -> DocumentMetadata:
    """Metadata from front matter / HTML head first, then from the text itself."""
    meta: dict[str, Any] = {**doc.metadata, **(doc.front_matter or {})}
    title, title_publisher = _title(meta, passages)
    source_url = _str(meta.get("source_url") or meta.get("url") or meta.get("canonical_url"))
    publisher = (
        _str(meta.get("publisher") or meta.get("site_name"))
        or title_publisher
        or _publisher_from_text(passages)
        or _publisher_from_url(source_url)
    )
    date, precision, basis = _published(meta, passages, full_dates)
    return DocumentMetadata(title, publisher, date, precision, basis, source_url)


def _str(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _title(meta: dict[str, Any], passages: Sequence[Passage]) -> tuple[str | None, str | None]:
    raw = _str(meta.get("title") or meta.get("html_title") or meta.get("h1"))
    if raw is None:
        heading = next((p.text for p in passages[:_HEADER_PASSAGES] if p.kind == "heading"), None)
        raw = heading or next((p.text for p in passages if len(p.text.split()) <= 20), None)
    if raw is None:
        return None, None
    parts = _TITLE_SEPARATORS_RE.split(raw)
    if len(parts) > 1 and _known_publisher(parts[-1]):
        return " - ".join(parts[:-1]), _known_publisher(parts[-1])
    return raw, None


@cache
def _publisher_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    config = load_yaml("boilerplate.yaml")["publishers"]
    return tuple((re.compile(p["pattern"], re.I), p["name"]) for p in config)


def _known_publisher(text: str) -> str | None:
    stripped = text.strip(" .")
    return next(
        (name for pattern, name in _publisher_patterns() if pattern.fullmatch(stripped)), None
    )


def _publisher_from_text(passages: Sequence[Passage]) -> str | None:
    return next(
        (name for p in passages[:_HEADER_PASSAGES] if (name := _known_publisher(p.text))), None
    )


def _publisher_from_url(url: str | None) -> str | None:
    if not url:
        return None
    host = (urlparse(url).hostname or "").lower()
    mapping: dict[str, str] = load_yaml("boilerplate.yaml")["url_publishers"]
    return next(
        (name for domain, name in mapping.items() if host == domain or host.endswith("." + domain)),
        None,
    )


def _published(
    meta: dict[str, Any], passages: Sequence[Passage], full_dates: FullDates
) -> tuple[str | None, str | None, str]:
    for key in _FRONT_MATTER_DATE_KEYS:
        match = _ISO_DATE_RE.match(str(meta.get(key) or ""))
        if match and _valid(*match.groups()):
            return match.group(0), "day", "front_matter"
    stated = _stated_in_text(passages, full_dates)
    if stated is not None:
        return stated.isoformat(), "day", "text"
    dates = [d for p in passages for _, _, d in full_dates(p.text)]
    if dates:
        return max(dates).strftime("%Y-%m"), "month", "inferred"
    return None, None, "unknown"


def _valid(year: str, month: str, day: str) -> bool:
    try:
        dt.date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def _stated_in_text(passages: Sequence[Passage], full_dates: FullDates) -> dt.date | None:
    """A dateline, or 'issued ... on <date>' near the top (year from the text if omitted)."""
    header = passages[:_HEADER_PASSAGES]
    for p in header:
        found = full_dates(p.text)
        if found and found[0][0] == 0 and found[0][1] >= len(p.text) - 2:
            return found[0][2]  # the passage is a dateline
    for p in header:
        issued = _ISSUED_ON_RE.search(p.text)
        if issued is None:
            continue
        month, day = _MONTHS.index(issued.group(1).lower()) + 1, int(issued.group(2))
        if issued.group(3):
            return _safe_date(int(issued.group(3)), month, day)
        same_day = [
            d
            for q in passages
            for _, _, d in full_dates(q.text)
            if (d.month, d.day) == (month, day)
        ]
        if same_day:
            return same_day[0]
    return None


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
