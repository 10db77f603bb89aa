"""The markdown sniffing, searched pattern by pattern, agrees with the one alternation it
replaced (written out here as the reference)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.ingest.readers import _has_markdown_hint

_OLD_HINT_RE = re.compile(r"\]\([^)\s]+\)|\*\*\S|^#{1,6} \S|^ {0,3}[-*+] {1,4}\S", re.M)
_CHARS = st.sampled_from([*"ab #-*+]()\n\r\t", "](x)", "**", "## ", "   - ", "\n- "])


@settings(max_examples=500, deadline=None)
@given(st.lists(_CHARS, max_size=40).map("".join))
def test_markdown_hint_is_the_old_alternation(text: str) -> None:
    assert _has_markdown_hint(text) == bool(_OLD_HINT_RE.search(text))
