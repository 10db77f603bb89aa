"""The optional accuracy gate: score a release against a gold file before publishing it.

When a gold file is configured (``PIPELINE_GOLD``), the staged release is scored with
``pipeline.evaluate`` (the rule of ``pipeline eval``) and every scored kind (money,
quantities, dates) must reach ``min_f1`` (``PIPELINE_GOLD_MIN_F1``, default 0.9). A kind
below it, or a gold file that cannot be read, fails validation like a failed expectation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.evaluate import GoldError, Item, KindScore, evaluate, load_gold
from pipeline.validate.assertions import AssertionOutcome, AssertionResult
from pipeline.validate.report import SuiteOutcome

ACCURACY_SUITE = "accuracy"
SAMPLE_ITEMS = 5  # misses and false hits shown per failing kind (all are in suites/accuracy.json)


@dataclass(frozen=True, slots=True)
class GoldGate:
    """A gold annotation file and the F1 every scored kind must reach."""

    path: Path
    min_f1: float


def _item(what: str, item: Item) -> dict[str, Any]:
    return {
        "type": what,
        "doc": item.doc,
        "char_start": item.char_start,
        "quote": item.quote,
        "value": item.value,
        "note": item.note,
    }


def kind_result(score: KindScore, min_f1: float) -> AssertionResult:
    """``min_f1`` on one kind: passed or failed, with its scores and the first misses."""
    message = (
        f"F1 {score.f1:.3f} (precision {score.precision:.3f}, recall {score.recall:.3f}; "
        f"{score.matched} matched of {score.gold} gold and {score.predicted} predicted)"
    )
    shown = [_item("miss", m) for m in score.misses] + [
        _item("false_hit", f) for f in score.false_hits
    ]
    return AssertionResult(
        name="min_f1",
        check="accuracy",
        severity="failure",
        status="failed" if score.f1 < min_f1 else "passed",
        table=score.kind,
        message=message,
        measured=score.f1,
        threshold=min_f1,
        count=len(score.misses) + len(score.false_hits),
        sample=tuple(shown[:SAMPLE_ITEMS]),
    )


def accuracy_outcome(
    tables: Mapping[str, pa.Table], gate: GoldGate
) -> tuple[SuiteOutcome, dict[str, Any]]:
    """The gate as a suite, and the full evaluation (every miss and false hit) as JSON."""
    try:
        result = evaluate(tables, load_gold(gate.path), gold_file=str(gate.path))
    except GoldError as err:
        return SuiteOutcome.not_run(ACCURACY_SUITE, "gold_readable", str(err)), {}
    except (ValueError, TypeError, KeyError, pa.ArrowException) as err:  # malformed tables
        return SuiteOutcome.not_run(ACCURACY_SUITE, "gold_scored", str(err)), {}
    outcome = AssertionOutcome([kind_result(s, gate.min_f1) for s in result.kinds.values()])
    return outcome.suite(), {**result.to_json(), "min_f1": gate.min_f1}
