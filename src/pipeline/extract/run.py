"""Run every extractor over a document's passages and attach provenance."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from pipeline.clean.passages import Passage
from pipeline.clean.sentences import sentence_at, sentence_bounds
from pipeline.document import Document
from pipeline.extract.base import DateFact, DocContext, EntityFact, MoneyFact, QuantityFact
from pipeline.extract.dates import extract_dates
from pipeline.extract.entities import extract_entities
from pipeline.extract.money import extract_money
from pipeline.extract.quantities import extract_quantities
from pipeline.ids import entity_id, fact_id

Fact = MoneyFact | QuantityFact | DateFact | EntityFact
Row = dict[str, Any]

EXTRACTORS: dict[str, Callable[[str, DocContext], Sequence[Fact]]] = {
    "money": extract_money,
    "quantities": extract_quantities,
    "dates": extract_dates,
    "entities": extract_entities,
}


def document_context(published_date: str | None, precision: str | None) -> DocContext:
    """What extractors may assume about the document's own date."""
    if not published_date:
        return DocContext()
    parts = [int(p) for p in published_date.split("-")]
    year, month, day = [*parts, 1, 1][:3]
    return DocContext(dt.date(year, month, day), precision)


def extract_document(
    doc: Document, passages: Sequence[Passage], ctx: DocContext
) -> dict[str, list[Row]]:
    """Fact rows per table for one document, in reading order, unique by fact_id."""
    rows: dict[str, list[Row]] = {kind: [] for kind in EXTRACTORS}
    seen: set[str] = set()
    for passage in passages:
        bounds = sentence_bounds(passage.text)
        starts = [s for s, _ in bounds]
        for kind, extractor in EXTRACTORS.items():
            for fact in extractor(passage.text, ctx):
                row = _row(doc, passage, bounds, starts, kind, fact)
                if row["fact_id"] not in seen:
                    seen.add(row["fact_id"])
                    rows[kind].append(row)
    return rows


def _row(
    doc: Document,
    passage: Passage,
    bounds: list[tuple[int, int]],
    starts: list[int],
    kind: str,
    fact: Fact,
) -> Row:
    start, end = passage.offsets.to_source(fact.start, fact.end)
    values = _values(fact)
    return {
        "fact_id": fact_id(doc.content_sha256, kind, start, end, _value_key(values)),
        "doc_id": doc.doc_id,
        "source_path": doc.source_path,
        "char_start": start,
        "char_end": end,
        "quote": doc.text[start:end],
        "passage_id": passage.passage_id,
        "sentence": sentence_at(passage.text, bounds, fact.start, starts),
        "extractor": fact.extractor,
        **values,
    }


# Fact fields that are provenance, not values: the rest map 1:1 onto table columns.
_NOT_VALUES = frozenset({"start", "end", "extractor"})


_VALUE_FIELDS: dict[type, tuple[str, ...]] = {
    kind: tuple(f.name for f in dataclasses.fields(kind) if f.name not in _NOT_VALUES)
    for kind in (MoneyFact, QuantityFact, DateFact)
}


def _values(fact: Fact) -> Row:
    if isinstance(fact, EntityFact):
        return {"entity_id": entity_id(fact.type, fact.name), "name": fact.name, "type": fact.type}
    # getattr per field, not dataclasses.asdict: asdict deep-copies every value (slow, and
    # the values are immutable scalars anyway)
    return {name: getattr(fact, name) for name in _VALUE_FIELDS[type(fact)]}


def _value_key(values: Row) -> str:
    return "|".join(f"{k}={values[k]!r}" for k in sorted(values))
