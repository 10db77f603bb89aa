"""A document to cleaned passages, each with its map back to the source text."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from pipeline.clean.boilerplate import normal_key
from pipeline.clean.markup import MARKDOWN_RULES, PROSE_RULES, Rule, block_edits, link_urls
from pipeline.clean.offsets import OffsetMap, apply_edits
from pipeline.clean.structure import group_blocks, is_hard_wrapped, split_lines
from pipeline.document import Document
from pipeline.ids import passage_id
from pipeline.ingest.html import html_to_mask

_BOLD_BLOCK_RE = re.compile(r"(\*\*|__)[^*_]+\1[\s\x00]*")
_BOLD_LEAD_RE = re.compile(r"(\*\*|__)([^*_\n]{3,150}?)[.:]?(\*\*|__)\**[.:]")


@dataclass(frozen=True, slots=True)
class Passage:
    passage_id: str
    doc_id: str
    ordinal: int
    heading: str | None
    kind: str
    text: str
    char_start: int
    char_end: int
    links: tuple[str, ...]
    offsets: OffsetMap

    @property
    def text_sha256(self) -> str:
        return normalised_hash(self.text)


def normalised_hash(text: str) -> str:
    """Hash of text with case, punctuation, quote style and spacing ignored."""
    return hashlib.sha256(normal_key(text).encode("utf-8")).hexdigest()


def base_text(doc: Document) -> str:
    """The text the cleaner reads: the source, or for HTML its same-length mask."""
    return html_to_mask(doc.text).mask if doc.format == "html" else doc.text


def clean_document(doc: Document, repeated: frozenset[str] = frozenset()) -> list[Passage]:
    """Cleaned passages of ``doc`` in reading order."""
    base = base_text(doc)
    markdown = doc.format == "markdown"
    # HTML's mask writes headings and list items with markdown markers (see ingest.html)
    lines = split_lines(base, doc.body_start, markdown or doc.format == "html", repeated)
    wrapped = doc.format == "html" or is_hard_wrapped(lines)
    rules = MARKDOWN_RULES if markdown else PROSE_RULES
    passages: list[Passage] = []
    heading: str | None = None
    for block in group_blocks(lines, wrapped):
        edits = block_edits(base, block.start, block.end, rules)
        text, offsets = apply_edits(base, block.start, block.end, edits)
        if not text.strip() or not any(c.isalnum() for c in text):
            continue
        kind = block.kind
        if markdown and kind == "paragraph":
            kind, lead = _bold_structure(base, block.start, block.end)
            heading = _clean_inline(lead, rules) if lead else heading
        if kind == "heading":
            heading = text
        start, end = offsets.to_source(0, len(text))
        links = tuple(link_urls(base, block.start, block.end)) if markdown else ()
        passages.append(
            Passage(
                passage_id(doc.doc_id, start, end),
                doc.doc_id,
                len(passages),
                heading,
                kind,
                text,
                start,
                end,
                links,
                offsets,
            )
        )
    return passages


def _bold_structure(base: str, start: int, end: int) -> tuple[str, str | None]:
    """A wholly bold block is a heading; a bold lead-in ('**Topic.** text') names one."""
    if _BOLD_BLOCK_RE.fullmatch(base, start, end):
        return "heading", None
    lead = _BOLD_LEAD_RE.match(base, start, end)
    return "paragraph", lead.group(2) if lead else None


def _clean_inline(text: str, rules: tuple[Rule, ...]) -> str:
    return apply_edits(text, 0, len(text), block_edits(text, 0, len(text), rules))[0]
