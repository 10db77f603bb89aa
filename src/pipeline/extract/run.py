"""Run every extractor over a document's passages and attach provenance."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import operator
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
    values, value_key = _values(fact)
    return {
        "fact_id": fact_id(doc.content_sha256, kind, start, end, value_key),
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


@dataclasses.dataclass(frozen=True, slots=True)
class _ValueFields:
    """How to read the values of one fact type and the key of its values (see ``_values``)."""

    names: tuple[str, ...]  # in field order: the row's column order
    get: Callable[[Any], tuple[Any, ...]]  # the values in field order
    key_format: str  # "name={!r}|..." over the names sorted
    get_sorted: Callable[[Any], tuple[Any, ...]]  # the values in sorted name order


def _value_fields(kind: type) -> _ValueFields:
    names = tuple(f.name for f in dataclasses.fields(kind) if f.name not in _NOT_VALUES)
    ordered = sorted(names)
    return _ValueFields(
        names=names,
        get=operator.attrgetter(*names),
        key_format="|".join(f"{name}={{!r}}" for name in ordered),
        get_sorted=operator.attrgetter(*ordered),
    )


_VALUE_FIELDS: dict[type, _ValueFields] = {
    kind: _value_fields(kind) for kind in (MoneyFact, QuantityFact, DateFact)
}


def _values(fact: Fact) -> tuple[Row, str]:
    """A fact's value columns and their key for its fact_id: ``name=repr(value)`` joined
    by "|" in name order, from a format made once per fact type (this runs for every fact
    of the corpus)."""
    if isinstance(fact, EntityFact):
        eid = _entity_id(fact.type, fact.name)
        key = f"entity_id={eid!r}|name={fact.name!r}|type={fact.type!r}"
        return {"entity_id": eid, "name": fact.name, "type": fact.type}, key
    # attrgetter, not dataclasses.asdict: asdict deep-copies every value (slow, and the
    # values are immutable scalars anyway)
    fields = _VALUE_FIELDS[type(fact)]
    values = dict(zip(fields.names, fields.get(fact), strict=True))
    return values, fields.key_format.format(*fields.get_sorted(fact))


# The same names recur across a corpus (the gazetteer's, the people in the news).
_entity_id = functools.lru_cache(maxsize=8192)(entity_id)
