"""Stable identifiers: hashes of source identity or content, never row numbers or times."""

from __future__ import annotations

import hashlib


def short_hash(*parts: object, length: int = 16) -> str:
    """Hex digest of the parts joined unambiguously (unit separator between parts)."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:length]


def doc_id(source_path: str) -> str:
    return "doc_" + short_hash("document", source_path)


def passage_id(doc: str, char_start: int, char_end: int) -> str:
    return "psg_" + short_hash("passage", doc, char_start, char_end)


_FACT_PREFIX = {"money": "mny", "quantities": "qty", "dates": "dat", "entities": "ent"}


def fact_id(content_sha256: str, kind: str, char_start: int, char_end: int, value: str) -> str:
    """``short_hash`` of the parts (length 20) behind the kind's prefix, joined by one
    f-string: this runs for every fact of the corpus."""
    joined = f"{content_sha256 or ''}\x1f{kind}\x1f{char_start}\x1f{char_end}\x1f{value}"
    digest = hashlib.sha256(joined.encode("utf-8")).hexdigest()[:20]
    return f"{_FACT_PREFIX[kind]}_{digest}"


def entity_id(entity_type: str, name: str) -> str:
    return "ety_" + short_hash("entity", entity_type, name.casefold())


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
