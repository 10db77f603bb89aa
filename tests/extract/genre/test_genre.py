"""Money and quantity extractors on hand-annotated documents of other countries and styles.

Each ``<name>.txt``/``<name>.md`` here (plain text: markup is the cleaner's job) has a
``<name>.yaml`` of expected facts, written by hand as an annotator would (quote, value,
qualifier, period, and funder / recipient / flow stage where the sentence is clear). The
extractors run over the passages the project's cleaner makes of the document; per file,
precision and recall must be at least 0.9, and every expected item must come out with
exactly the annotated values (an item marked ``xfail`` documents a known weakness instead).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.clean.passages import clean_document
from pipeline.document import Document
from pipeline.extract.base import DocContext, MoneyFact, QuantityFact
from pipeline.extract.money import extract_money
from pipeline.extract.quantities import extract_quantities
from pipeline.ingest.readers import parse_document

HERE = Path(__file__).parent
DOCS = sorted(p for p in HERE.iterdir() if p.suffix in (".txt", ".md"))
CTX = DocContext()
_MIN_SCORE = 0.9


@dataclass(frozen=True)
class Found:
    quote: str
    value: float | None
    fact: MoneyFact | QuantityFact


def _facts(doc: Path, kind: str) -> list[Found]:
    """Facts of every passage the project's cleaner makes of ``doc`` (as in a real run)."""
    parsed = parse_document(doc.name, doc.read_bytes())
    assert isinstance(parsed, Document), parsed
    out: list[Found] = []
    for passage in clean_document(parsed):
        para = passage.text
        if kind == "money":
            out += [Found(para[f.start : f.end], f.amount, f) for f in extract_money(para, CTX)]
        else:
            facts = extract_quantities(para, CTX)
            out += [Found(para[f.start : f.end], f.value, f) for f in facts]
    return out


def _expected(doc: Path, kind: str) -> list[dict[str, Any]]:
    data = yaml.safe_load(doc.with_suffix(".yaml").read_text(encoding="utf-8"))
    items: list[dict[str, Any]] = data[kind]
    return items


def _same_value(a: float | None, b: float) -> bool:
    if a is None:
        return False
    return math.isclose(a, b, rel_tol=0.005)


def _value_key(kind: str) -> str:
    return "amount" if kind == "money" else "value"


def _match(found: list[Found], expected: list[dict[str, Any]], kind: str) -> list[Found | None]:
    """For each expected item, the first unused prediction with its quote and value."""
    used: set[int] = set()
    out: list[Found | None] = []
    for item in expected:
        hit = next(
            (
                i
                for i, f in enumerate(found)
                if i not in used
                and f.quote == item["quote"]
                and _same_value(f.value, float(item[_value_key(kind)]))
            ),
            None,
        )
        if hit is not None:
            used.add(hit)
        out.append(found[hit] if hit is not None else None)
    return out


@pytest.mark.parametrize("kind", ["money", "quantities"])
@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_precision_and_recall(doc: Path, kind: str) -> None:
    found, expected = _facts(doc, kind), _expected(doc, kind)
    matched = sum(m is not None for m in _match(found, expected, kind))
    precision = matched / len(found) if found else 1.0
    recall = matched / len(expected) if expected else 1.0
    matches = _match(found, expected, kind)
    missed = [e["quote"] for e, m in zip(expected, matches, strict=True) if m is None]
    extra = sorted({f.quote for f in found} - {e["quote"] for e in expected})
    assert precision >= _MIN_SCORE, f"P={precision:.2f}, unexpected: {extra}"
    assert recall >= _MIN_SCORE, f"R={recall:.2f}, missed: {missed}"


_FIELDS = ("currency", "qualifier", "period", "funder", "recipient", "flow_stage", "unit")


def _items() -> list[Any]:
    params = []
    for doc in DOCS:
        for kind in ("money", "quantities"):
            for i, item in enumerate(_expected(doc, kind)):
                reason = item.get("xfail")
                marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
                ident = f"{doc.stem}-{kind}-{i}-{item['quote']}"
                params.append(pytest.param(doc, kind, i, marks=marks, id=ident))
    return params


@pytest.mark.parametrize(("doc", "kind", "index"), _items())
def test_expected_item_values(doc: Path, kind: str, index: int) -> None:
    expected = _expected(doc, kind)
    item = expected[index]
    found = _match(_facts(doc, kind), expected, kind)[index]
    assert found is not None, f"{item['quote']!r} not found"
    for field in _FIELDS:
        if field in item:
            assert getattr(found.fact, field) == item[field], field
    if kind == "money":
        fact = found.fact
        assert isinstance(fact, MoneyFact)
        assert fact.amount_usd == (fact.amount if fact.currency == "USD" else None)
