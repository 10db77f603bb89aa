"""Edits that turn a block of markdown/HTML-masked text into clean prose.

Each rule is a regex whose matches become Edits (offsets into the source);
`apply_edits` resolves overlaps, so a URL protected by an earlier rule is
never touched by the emphasis rule.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator

from pipeline.clean.offsets import Edit

_CHAR_MAP = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u00ad": "",
    "\u200b": "",
    "\u200c": "",
    "\u200d": "",
    "\u2060": "",
    "\ufeff": "",
}
_SPACE_CHARS = "\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"

_LINK_RE = re.compile(r"(!?\[)([^\[\]]*)(\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\))")
_AUTOLINK_RE = re.compile(r"<(https?://[^>\s]+)>")
_BARE_URL_RE = re.compile(r"https?://[^\s<>()\[\]]+")
_HTML_TAG_RE = re.compile(r"<!--.*?-->|</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>", re.S)
_EMPHASIS_RE = re.compile(r"\*+|(?<!\w)_{1,3}(?=\w)|(?<=\w)_{1,3}(?!\w)")
_ESCAPE_RE = re.compile(r"\\([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")
_SPACE = rf"[\s{_SPACE_CHARS}\x00]"
# A marker takes the whole run of spaces after it (a line break, a no-break space): the
# space-run rule would otherwise propose an edit overlapping the marker's, be dropped,
# and leave that break or space raw in the passage ("- \nTrade" gave "\nTrade").
_LINE_MARKER = (
    r"[ \t]*(?:#{1,6}[ \t]+|(?:[-*+\u2022\u25aa\u25e6\u2023]|\d{1,3}[.)])[ \t]+|>[ \t]?)"
    + _SPACE
    + "*"
)
_LINE_MARKER_RE = re.compile(_LINE_MARKER)
# The marker is group 1, after the line break: opening with the break (not a lookbehind
# for it) lets the engine skip ahead to the next one, ten times as fast.
_LATER_LINE_MARKER_RE = re.compile(r"\n(" + _LINE_MARKER + ")")
_HYPHEN_WRAP_RE = re.compile(r"(?<=[a-z]-)[ \t]*\r?\n[ \t]*(?=[a-z])")
# A run of spaces that needs an edit: two or more, or one that is not a plain space. The
# same runs as r"[\s...]+" without its many one-space matches (one between every two
# words), which cost more than all the other rules together: a run of two or more is
# taken whole; a lone plain space matches nothing. Patterns open with a character class
# (not a repeat of one) here and below: the engine then skips ahead to the next character
# of the class instead of trying the whole pattern at every position.
_SPACE_RUN_RE = re.compile(rf"{_SPACE}(?:{_SPACE}+|(?<! ))")
_ENTITY_RE = re.compile(r"([^\x01])\x01+")
_SPECIAL_CHAR_RE = re.compile("[" + "".join(_CHAR_MAP) + "]")
_COMBINING_RE = re.compile(r".[\u0300-\u036f]+")
_CONTROL = r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]"
_CONTROL_RE = re.compile(rf"{_CONTROL}{_CONTROL}*")

Rule = Callable[[str, int, int], Iterator[Edit]]


def _normalise_char(char: str) -> str:
    if char in _CHAR_MAP:
        return _CHAR_MAP[char]
    if char.isspace() or char == "\x00":
        return " "
    return unicodedata.normalize("NFC", char)


def _links(text: str, start: int, end: int) -> Iterator[Edit]:
    for m in _LINK_RE.finditer(text, start, end):
        yield Edit(m.start(1), m.end(1), "", priority=0)
        yield Edit(m.start(3), m.end(3), "", priority=0)
    for m in _AUTOLINK_RE.finditer(text, start, end):
        yield Edit(m.start(), m.start() + 1, "", priority=0)
        yield Edit(m.end() - 1, m.end(), "", priority=0)
    for m in _BARE_URL_RE.finditer(text, start, end):  # protect: copy unchanged
        yield Edit(m.start(), m.end(), m.group(), priority=1)


def _markup(text: str, start: int, end: int) -> Iterator[Edit]:
    for m in _HTML_TAG_RE.finditer(text, start, end):
        yield Edit(m.start(), m.end(), "", priority=2)
    for m in _EMPHASIS_RE.finditer(text, start, end):
        yield Edit(m.start(), m.end(), "", priority=3)
    for m in _ESCAPE_RE.finditer(text, start, end):
        yield Edit(m.start(), m.end(), m.group(1), priority=3)


def _line_markers(text: str, start: int, end: int) -> Iterator[Edit]:
    first = _LINE_MARKER_RE.match(text, start, end)  # '^' does not anchor at a pos > 0
    if first:
        yield Edit(first.start(), first.end(), "", priority=2)
    # From the character before the block: a break there starts a marker at ``start``
    for m in _LATER_LINE_MARKER_RE.finditer(text, max(0, start - 1), end):
        yield Edit(m.start(1), m.end(1), "", priority=2)


def _characters(text: str, start: int, end: int) -> Iterator[Edit]:
    # The hyphen and entity rules need a line break and a \x01 in the block: most blocks
    # have neither, and a find is much cheaper than a scan with a lookbehind.
    if text.find("\n", start, end) >= 0:
        for m in _HYPHEN_WRAP_RE.finditer(text, start, end):
            yield Edit(m.start(), m.end(), "", priority=4)
    for m in _SPACE_RUN_RE.finditer(text, start, end):
        only_deleted = not m.group().strip("\x00")
        yield Edit(m.start(), m.end(), "" if only_deleted else " ", priority=5)
    if text.find("\x01", start, end) >= 0:
        for m in _ENTITY_RE.finditer(text, start, end):
            yield Edit(m.start(), m.end(), _normalise_char(m.group(1)), priority=4)
    for m in _SPECIAL_CHAR_RE.finditer(text, start, end):
        yield Edit(m.start(), m.end(), _CHAR_MAP[m.group()], priority=5)
    for m in _CONTROL_RE.finditer(text, start, end):
        yield Edit(m.start(), m.end(), "", priority=6)
    if not unicodedata.is_normalized("NFC", text[start:end]):
        for m in _COMBINING_RE.finditer(text, start, end):
            yield Edit(m.start(), m.end(), unicodedata.normalize("NFC", m.group()), priority=5)


PROSE_RULES: tuple[Rule, ...] = (_line_markers, _characters)
MARKDOWN_RULES: tuple[Rule, ...] = (_links, _line_markers, _markup, _characters)


def block_edits(text: str, start: int, end: int, rules: tuple[Rule, ...]) -> list[Edit]:
    """All edits the rules propose for text[start:end]."""
    return [edit for rule in rules for edit in rule(text, start, end)]


def link_urls(text: str, start: int, end: int) -> list[str]:
    """URLs of markdown links, autolinks and bare URLs in text[start:end], in order."""
    found = [(m.start(), m.group(4)) for m in _LINK_RE.finditer(text, start, end)]
    found += [(m.start(), m.group(1)) for m in _AUTOLINK_RE.finditer(text, start, end)]
    spans = [(m.start(), m.group()) for m in _BARE_URL_RE.finditer(text, start, end)]
    found += [(s, url) for s, url in spans if not any(url in f for _, f in found)]
    return [url for _, url in sorted(found)]
