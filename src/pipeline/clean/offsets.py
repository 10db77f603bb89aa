"""Cleaned text with a segment-level map back to the source text.

The cleaned text is a sequence of segments, each either copied from the source
(one cleaned character per source character) or a replacement of a source
span (any character inside maps to the whole span). Deleted source spans have
no segment. Lookups are a binary search over segment starts.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace source[start:end] by ``text`` ('' deletes)."""

    start: int
    end: int
    text: str
    priority: int = 0  # lower wins when two edits start at the same place


@dataclass(frozen=True, slots=True)
class OffsetMap:
    dst_starts: tuple[int, ...]
    src_starts: tuple[int, ...]
    src_ends: tuple[int, ...]
    copied: tuple[bool, ...]
    length: int  # length of the cleaned text

    def to_source(self, start: int, end: int) -> tuple[int, int]:
        """Map a non-empty cleaned span [start, end) to its source span."""
        if not 0 <= start < end <= self.length:
            raise ValueError(f"span [{start}, {end}) outside cleaned text of {self.length}")
        first = bisect_right(self.dst_starts, start) - 1
        last = bisect_right(self.dst_starts, end - 1) - 1
        src_start = (
            self.src_starts[first] + start - self.dst_starts[first]
            if self.copied[first]
            else self.src_starts[first]
        )
        src_end = (
            self.src_starts[last] + end - self.dst_starts[last]
            if self.copied[last]
            else self.src_ends[last]
        )
        return src_start, src_end


def apply_edits(source: str, start: int, end: int, edits: list[Edit]) -> tuple[str, OffsetMap]:
    """Apply non-overlapping ``edits`` to source[start:end]; overlaps: first, longest wins.

    Runs of spaces produced by adjacent edits collapse to one space, so the
    cleaned text never holds two spaces in a row from markup removal.
    """
    parts: list[str] = []
    dst: list[int] = []
    srcs: list[int] = []
    srce: list[int] = []
    copied: list[bool] = []
    length = 0
    cursor = start

    def emit(text: str, s_start: int, s_end: int, is_copy: bool) -> None:
        nonlocal length
        if text.startswith(" ") and (length == 0 or parts[-1].endswith(" ")):
            text = text[1:]
            if is_copy:
                s_start += 1
        if not text:
            return
        parts.append(text)
        dst.append(length)
        srcs.append(s_start)
        srce.append(s_end)
        copied.append(is_copy)
        length += len(text)

    for edit in sorted(edits, key=lambda e: (e.start, e.priority, e.start - e.end)):
        if edit.start < cursor or edit.end > end:
            continue
        if edit.start > cursor:
            emit(source[cursor : edit.start], cursor, edit.start, True)
        emit(edit.text, edit.start, edit.end, False)
        cursor = edit.end
    if cursor < end:
        emit(source[cursor:end], cursor, end, True)
    text = "".join(parts)
    if text.endswith(" "):  # a trailing space maps to nothing worth keeping
        text, length = text[:-1], length - 1
        if parts[-1] == " ":
            for column in (dst, srcs, srce, copied):
                column.pop()
    return text, OffsetMap(tuple(dst), tuple(srcs), tuple(srce), tuple(copied), length)
