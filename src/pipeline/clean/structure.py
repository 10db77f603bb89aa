"""Lines to blocks: chrome dropped, headings and bullets kept as structure, wraps undone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.clean.boilerplate import is_chrome_line

_LINE_RE = re.compile(r"[^\n]*\n?")
_INVISIBLE = " \t\r\f\v\x00\x01\u00a0\ufeff"
_BULLET_RE = re.compile(r"[ \t]*(?:[-*+\u2022\u25aa\u25e6\u2023]|\d{1,3}[.)])[ \t]+\S")
_MD_HEADING_RE = re.compile(r"[ \t]{0,3}#{1,6}[ \t]+\S")
_BOLD_LINE_RE = re.compile(r"(\*\*|__)[^*_]+\1")
_TERMINAL_PUNCT = tuple(".!?:;,")
# A dateline ("March 14, 2023", "14 March 2023") stands alone like a heading but is not one.
_DATELINE_RE = re.compile(
    r"(?:[A-Z][a-z]{2,8}\.? \d{1,2},? \d{4}|\d{1,2} [A-Z][a-z]{2,8}\.? \d{4})"
)
_HEADING_MAX_WORDS = 15
# A document whose lines are mostly this short was hard-wrapped by its producer.
_WRAP_WIDTH = 100


@dataclass(frozen=True, slots=True)
class Line:
    start: int  # first visible character
    end: int  # after the last visible character
    text: str  # stripped
    kind: str  # blank | chrome | heading | bullet | text
    indent: int = 0  # leading blanks before the first visible character


@dataclass(frozen=True, slots=True)
class Block:
    start: int
    end: int
    kind: str  # heading | bullet | paragraph


def split_lines(base: str, start: int, markdown: bool, repeated: frozenset[str]) -> list[Line]:
    """Classify every line of base[start:] (a heading needs its neighbours, so two passes)."""
    raw = list(_raw_lines(base, start, markdown, repeated))
    lines = []
    for i, line in enumerate(raw):
        if line.kind == "text" and _is_heading(
            line.text, markdown, _gap(raw, i - 1), _gap(raw, i + 1)
        ):
            line = Line(line.start, line.end, line.text, "heading", line.indent)
        lines.append(line)
    return lines


def _raw_lines(base: str, start: int, markdown: bool, repeated: frozenset[str]) -> Iterator[Line]:
    for m in _LINE_RE.finditer(base, start):
        line = m.group().rstrip("\n")
        text = line.strip(_INVISIBLE)
        if not m.group():
            break
        if not text:
            yield Line(m.start(), m.start(), "", "blank")
            continue
        lead = len(line) - len(line.lstrip(_INVISIBLE))
        s, e = m.start() + lead, m.start() + lead + len(text)
        if is_chrome_line(text, repeated):
            kind = "chrome"
        elif _BULLET_RE.match(line) and (markdown or not line.lstrip().startswith("*")):
            kind = "bullet"
        else:
            kind = "text"
        yield Line(s, e, text, kind, lead)


def _gap(raw: list[Line], i: int) -> bool:
    """True when position i is outside the document or a blank/chrome line."""
    return not 0 <= i < len(raw) or raw[i].kind in ("blank", "chrome")


def _is_heading(text: str, markdown: bool, gap_before: bool, gap_after: bool) -> bool:
    if markdown and (_MD_HEADING_RE.match(text) or _BOLD_LINE_RE.fullmatch(text)):
        return True
    words = text.split()
    if _DATELINE_RE.fullmatch(text):
        return False
    if len(words) > _HEADING_MAX_WORDS or not any(c.isalpha() for c in text):
        return False
    if text.upper() == text and sum(c.isalpha() for c in text) >= 4:
        return True
    plain = text.rstrip("*_\"') ")
    return (
        gap_before
        and gap_after
        and len(words) <= 12
        and not plain.endswith(_TERMINAL_PUNCT)
        and (text[0].isupper() or text[0].isdigit())
    )


def is_hard_wrapped(lines: list[Line]) -> bool:
    """Most content lines short and often followed by another content line."""
    content = [ln for ln in lines if ln.kind in ("text", "bullet")]
    if len(content) < 3:
        return False
    lengths = sorted(ln.end - ln.start for ln in content)
    return lengths[int(0.9 * (len(lengths) - 1))] <= _WRAP_WIDTH


def group_blocks(lines: list[Line], wrapped: bool) -> list[Block]:
    """Consecutive lines that belong together become one block."""
    blocks: list[Block] = []
    current: list[Line] = []

    def flush() -> None:
        if current:
            kind = {"heading": "heading", "bullet": "bullet"}.get(current[0].kind, "paragraph")
            blocks.append(Block(current[0].start, current[-1].end, kind))
            current.clear()

    for line in lines:
        if line.kind in ("blank", "chrome"):
            flush()
        elif line.kind in ("heading", "bullet") or not current:
            flush()
            current.append(line)
            if line.kind == "heading":
                flush()
        elif wrapped or (current[0].kind == "bullet" and _indented(line, current[0])):
            current.append(line)
        else:
            flush()
            current.append(line)
    flush()
    return blocks


def _indented(line: Line, bullet: Line) -> bool:
    return line.indent > bullet.indent
