"""The record a document is carried in between stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Document:
    """A decoded input file with its provenance and metadata.

    ``text`` is the source text: the file decoded, BOM removed, before any
    cleaning. Every offset in the release points into it.
    """

    doc_id: str
    source_path: str
    content_sha256: str
    bytes: int
    encoding: str
    format: str  # text | markdown | html
    text: str
    front_matter: dict[str, Any] | None = None
    front_matter_error: str | None = None
    # [start, end) of the body in ``text``: after front matter
    body_start: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rejection:
    """An input that could not be used, and why (lands in ``quarantine``)."""

    source_path: str
    stage: str
    reason: str
    message: str
    bytes: int | None = None
    content_sha256: str | None = None
