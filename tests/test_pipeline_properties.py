"""Property: any bytes through ingest -> clean -> extract (the whole batch builder) raise
nothing and every fact's quote is exactly its source slice.

The per-stage properties (decoding, cleaning offsets, each extractor on any text) live next
to their stages; this one chains them on random Unicode, markup, money-like text and long
lines, in every supported format and in UTF-8, UTF-8 with BOM and UTF-16.
"""

from __future__ import annotations

import codecs

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.build import build_tables
from pipeline.document import Document
from pipeline.ingest.readers import parse_document
from pipeline.schemas import FACT_TABLES

_MARKUP = [
    "**",
    "__",
    "# ",
    "\n## ",
    "\n- ",
    "\n* ",
    "\n1. ",
    "[link](https://example.org/a_b)",
    "![img](x.png)",
    "<b>",
    "</b>",
    "<p>",
    "</p>",
    "<br>",
    "<script>var x='$1 billion';</script>",
    "<!-- $2 million -->",
    "&nbsp;",
    "&amp;",
    "&#36;",
    "|a|b|\n|---|---|\n",
    "```\n",
    "> ",
    "---\n",
    "title: x\n",
]
_FACTS = [
    "$5 million",
    "US$ 1.2bn",
    "€3,5 millones",
    "more than 40 helicopters",
    "nearly 2,000 jobs",
    "50%",
    "May 9, 2024",
    "9 May 2024",
    "FY2015",
    "since 2001",
    "nine",
    "1,000,000",
    "$",
    "million",
    "U.S.",
    "the United States and Peru",
]
_SPACE = [" ", "\n", "\n\n", "\r\n", "\t", "\u00a0", "\u2028", "\u200b", "\ufeff", "\x00", "\x0c"]
_PIECE = st.one_of(
    st.text(max_size=30),
    st.sampled_from(_MARKUP),
    st.sampled_from(_FACTS),
    st.sampled_from(_SPACE),
    st.integers(200, 6000).map(lambda n: ("word " * n)[:n]),  # one long line
)
_ENCODINGS = {
    "utf-8": lambda t: t.encode("utf-8"),
    "utf-8-sig": lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    "utf-16": lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),
}


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=False
)
@given(
    st.lists(_PIECE, max_size=40).map("".join),
    st.sampled_from(["doc.txt", "doc.md", "doc.html"]),
    st.sampled_from(sorted(_ENCODINGS)),
)
def test_any_document_goes_through_every_stage(text: str, name: str, encoding: str) -> None:
    item = parse_document(name, _ENCODINGS[encoding]("Intro.\n\n" + text))
    tables = {k: v.to_pylist() for k, v in build_tables([item]).items()}
    problems = [q["message"] for q in tables["quarantine"] if q["reason"] == "processing_error"]
    assert not problems  # a stage raised: build_tables turns that into this reason
    if not isinstance(item, Document):
        assert [q["source_path"] for q in tables["quarantine"]] == [name]
        return
    source = item.text
    for passage in tables["passages"]:
        assert 0 <= passage["char_start"] < passage["char_end"] <= len(source)
    for kind in FACT_TABLES:
        for fact in tables[kind]:
            start, end = fact["char_start"], fact["char_end"]
            assert 0 <= start < end <= len(source), (kind, fact)
            assert fact["quote"] == source[start:end]
            assert fact["quote"].strip(), (kind, fact)
