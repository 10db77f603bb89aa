"""YAML front matter: parsed with the safe loader; a bad block keeps the document."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import yaml

_FRONT_MATTER_RE = re.compile(r"\A[ \t]*---[ \t]*\r?\n(.*?)(?:\r?\n)---[ \t]*(?:\r?\n|\Z)", re.S)
# A block this large is not front matter worth parsing (and could be hostile).
_MAX_FRONT_MATTER_CHARS = 64_000


@dataclass(frozen=True, slots=True)
class FrontMatter:
    data: dict[str, Any] | None
    error: str | None
    body_start: int  # offset of the body in the text (0 when there is no block)


def split_front_matter(text: str) -> FrontMatter:
    """Find a leading ``---`` block and parse it; never raises."""
    match = _FRONT_MATTER_RE.match(text)
    if match is None:
        return FrontMatter(None, None, 0)
    block = match.group(1)
    if len(block) > _MAX_FRONT_MATTER_CHARS:
        return FrontMatter(None, f"front matter longer than {_MAX_FRONT_MATTER_CHARS}", match.end())
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError as err:
        return FrontMatter(None, f"malformed YAML front matter: {_one_line(err)}", match.end())
    if data is None:
        return FrontMatter({}, None, match.end())
    if not isinstance(data, dict):
        kind = type(data).__name__
        return FrontMatter(None, f"front matter is a {kind}, not a mapping", match.end())
    return FrontMatter({str(k): _plain(v) for k, v in data.items()}, None, match.end())


def _plain(value: Any) -> Any:
    """YAML scalars to JSON-friendly values (timestamps become ISO strings)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())
