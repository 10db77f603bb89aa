"""HTML to text with offsets kept: a same-length mask of the source.

Tags, comments, scripts and styles become NUL characters (deleted by the
cleaner); block-level tags start with a paragraph break; a character reference
becomes its character followed by \\x01 padding (one replacement for the
cleaner). Because the mask has the length of the source, every offset into it
is an offset into the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.entities import name2codepoint
from html.parser import HTMLParser
from itertools import accumulate

DELETED = "\x00"
ENTITY_PAD = "\x01"

_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
        "title",
    ]
)
# Never text: code, and page furniture that is chrome on every site of the genre.
_HIDDEN_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "nav",
        "footer",
        "aside",
        "form",
        "button",
        "select",
        "iframe",
    }
)
# Start tags that open structure the cleaner reads as markdown would: '# ' heading, '• ' item.
_STRUCTURE_MARKERS = {
    **{f"h{level}": "\n\n# " for level in range(1, 7)},
    "li": "\n\n\u2022 ",
}
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_META_KEYS = {
    "og:title": "title",
    "twitter:title": "title",
    "og:site_name": "publisher",
    "article:published_time": "published_time",
    "date": "published_time",
    "dc.date": "published_time",
    "og:url": "source_url",
    "article:tag": "tags",
}


@dataclass(slots=True)
class HtmlText:
    """The mask plus metadata read from the head."""

    mask: str
    metadata: dict[str, object] = field(default_factory=dict)


class _Masker(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.chunks: list[str] = []
        self.cursor = 0
        self.hidden_depth = 0
        self.in_head = False
        self.line_starts = [0, *accumulate(len(line) for line in source.splitlines(True))]
        self.metadata: dict[str, object] = {}
        self._capture: str | None = None
        self._captured: list[str] = []

    def _pos(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def _emit_until(self, end: int, text: str | None) -> None:
        """Cover source[cursor:end] with ``text`` (padded/truncated to that length)."""
        length = end - self.cursor
        if length <= 0:
            return
        chunk = text if text is not None else self.source[self.cursor : end]
        self.chunks.append(chunk[:length].ljust(length, DELETED))
        self.cursor = end

    @property
    def hidden(self) -> bool:
        return self.hidden_depth > 0 or self.in_head

    def _cover(self, start: int, end: int, replacement: str) -> None:
        """Emit pending data up to ``start``, then cover [start, end) with ``replacement``."""
        self._emit_data_until(start)
        self._emit_until(end, replacement)

    def _emit_data_until(self, end: int) -> None:
        text = self.source[self.cursor : end]
        self._emit_until(end, DELETED * len(text) if self.hidden else text)

    def _tag(self, tag: str, end: int, start_tag: bool = False) -> None:
        start = self._pos()
        marker = _STRUCTURE_MARKERS.get(tag, "") if start_tag and not self.hidden else ""
        if marker and len(marker) <= end - start:
            # break first, marker last: the line then starts right at the marker
            self._cover(
                start, end, marker[:2].ljust(end - start - len(marker) + 2, DELETED) + marker[2:]
            )
        else:
            self._cover(start, end, "\n\n" if tag in _BLOCK_TAGS else "")

    def _find_end(self, start: int, terminator: str) -> int:
        end = self.source.find(terminator, start)
        return len(self.source) if end < 0 else end + len(terminator)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        start = self._pos()
        self._tag(tag, start + len(self.get_starttag_text() or "<>"), start_tag=True)
        attributes = dict(attrs)
        if tag == "head":
            self.in_head = True
        elif tag == "body":
            self.in_head = False
        elif tag in _HIDDEN_TAGS:
            self.hidden_depth += 1
        if tag == "meta":
            self._meta(attributes)
        elif tag == "link" and (attributes.get("rel") or "").lower() == "canonical":
            self.metadata.setdefault("source_url", attributes.get("href"))
        elif tag == "title" or (tag == "h1" and "h1" not in self.metadata):
            self._capture, self._captured = tag, []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        start = self._pos()
        self._tag(tag, start + len(self.get_starttag_text() or "<>"))
        if tag == "meta":
            self._meta(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        self._tag(tag, self._find_end(self._pos(), ">"))
        if tag == "head":
            self.in_head = False
        elif tag in _HIDDEN_TAGS and self.hidden_depth:
            self.hidden_depth -= 1
        if self._capture == tag:
            key = "html_title" if tag == "title" else "h1"
            self.metadata.setdefault(key, " ".join("".join(self._captured).split()))
            self._capture = None

    def handle_data(self, data: str) -> None:
        start = self._pos()
        self._emit_data_until(start)
        self._emit_data_until(start + len(data))
        if self._capture:
            self._captured.append(data)

    def _reference(self, char: str, length: int) -> None:
        start = self._pos()
        if self.source.startswith(";", start + length):
            length += 1
        if self.hidden:
            self._cover(start, start + length, "")
        else:
            self._cover(start, start + length, char.ljust(length, ENTITY_PAD))
        if self._capture:
            self._captured.append(char)

    def handle_entityref(self, name: str) -> None:
        char = chr(name2codepoint[name]) if name in name2codepoint else "\ufffd"
        self._reference(char, 1 + len(name))

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in "xX" else int(name)
            char = chr(code) if 0 < code < 0x110000 else "\ufffd"
        except ValueError:
            char = "\ufffd"
        self._reference(char, 2 + len(name))

    def handle_comment(self, data: str) -> None:
        start = self._pos()
        self._cover(start, self._find_end(start, "-->"), "")

    def handle_decl(self, decl: str) -> None:
        start = self._pos()
        self._cover(start, self._find_end(start, ">"), "")

    def handle_pi(self, data: str) -> None:
        self.handle_decl(data)

    def unknown_decl(self, data: str) -> None:
        start = self._pos()
        self._cover(start, self._find_end(start, "]>"), "")

    def _meta(self, attrs: dict[str, str | None]) -> None:
        key = (attrs.get("property") or attrs.get("name") or "").lower()
        content = attrs.get("content")
        if key in _META_KEYS and content:
            target = _META_KEYS[key]
            if target == "tags":
                tags = self.metadata.setdefault("tags", [])
                assert isinstance(tags, list)
                tags.append(content)
            else:
                self.metadata.setdefault(target, content)


def html_to_mask(source: str) -> HtmlText:
    """Mask markup in ``source``; the result has exactly ``len(source)`` characters."""
    masker = _Masker(source)
    masker.feed(source)
    masker.close()
    masker._emit_data_until(len(source))
    mask = "".join(masker.chunks)
    if len(mask) != len(source):  # defensive: never hand out offsets that do not match
        mask = mask[: len(source)].ljust(len(source), DELETED)
    return HtmlText(mask, masker.metadata)
