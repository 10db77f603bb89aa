"""Result types of a validation run: per-suite outcomes and the failures to show a user.

A suite's ``failures`` block a release; its ``warnings`` (corpus assertions of severity
``warning``) and ``notes`` (checks skipped, and why) are reported but never block.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

SAMPLE_TEXT_CHARS = 80


@dataclass(frozen=True, slots=True)
class FailedExpectation:
    """One expectation (or corpus assertion) that failed or errored, with sample rows.

    Corpus assertions and the accuracy gate also give their ``measured`` value, the
    ``threshold`` it was held to and a ``message`` saying what was measured.
    """

    expectation: str
    table: str
    column: str | None
    sample: list[Any]
    unexpected_count: int | None = None
    error: str | None = None
    measured: float | None = None
    threshold: float | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "expectation": self.expectation,
            "table": self.table,
            "column": self.column,
            "unexpected_count": self.unexpected_count,
            "error": self.error,
            "measured": json_safe(self.measured),
            "threshold": json_safe(self.threshold),
            "message": self.message,
            "sample": self.sample,
        }

    def describe(self) -> str:
        """One line: expectation, table.column, what failed (rows or measure), a sample."""
        where = self.table if self.column is None else f"{self.table}.{self.column}"
        line = f"{self.expectation} on {where}"
        if self.message is not None:
            line += f": {self.message}"
        elif self.unexpected_count is not None:
            line += f": {self.unexpected_count} failing row(s)"
        if self.measured is not None or self.threshold is not None:
            line += f" (measured {_number(self.measured)}, threshold {_number(self.threshold)})"
        if self.error is not None:
            line += f": error: {self.error}"
        if self.sample:
            line += f"; sample: {json.dumps(self.sample, ensure_ascii=False, default=str)}"
        return line


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


@dataclass(frozen=True, slots=True)
class SuiteOutcome:
    """The outcome of one suite: how many expectations ran, which failed, what to note."""

    success: bool
    evaluated: int
    failed: int
    failures: list[FailedExpectation] = field(default_factory=list)
    warnings: list[FailedExpectation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def not_run(cls, name: str, kind: str, error: str) -> SuiteOutcome:
        """A suite that could not run at all: one failure named ``kind``."""
        return cls(False, 1, 1, [FailedExpectation(kind, name, None, [], error=error)])

    def summary(self) -> dict[str, Any]:
        return {"success": self.success, "evaluated": self.evaluated, "failed": self.failed}


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Every suite's outcome; ``success`` only when all suites pass (warnings do not count)."""

    success: bool
    suites: dict[str, SuiteOutcome]

    @classmethod
    def from_outcomes(cls, suites: dict[str, SuiteOutcome]) -> ValidationReport:
        return cls(success=bool(suites) and all(s.success for s in suites.values()), suites=suites)

    @property
    def failures(self) -> list[FailedExpectation]:
        return [f for outcome in self.suites.values() for f in outcome.failures]

    @property
    def warnings(self) -> list[FailedExpectation]:
        return [w for outcome in self.suites.values() for w in outcome.warnings]

    def to_json(self) -> dict[str, dict[str, Any]]:
        """``{suite: {success, evaluated, failed}}`` for the manifest."""
        return {name: outcome.summary() for name, outcome in self.suites.items()}

    def to_full_json(self) -> dict[str, Any]:
        """The summary plus every failure, warning and note, for ``results.json``."""
        return {
            "success": self.success,
            "suites": {
                name: {
                    **o.summary(),
                    "failures": [f.to_dict() for f in o.failures],
                    "warnings": [w.to_dict() for w in o.warnings],
                    "notes": list(o.notes),
                }
                for name, o in self.suites.items()
            },
        }

    def describe_failures(self) -> str:
        """Lines naming each failed expectation, table, column and sample rows; then warnings."""
        lines = ["All suites passed."] if self.success else []
        for name, outcome in self.suites.items():
            if outcome.success:
                continue
            lines.append(f"{name}: {outcome.failed} of {outcome.evaluated} expectations failed")
            lines += [f"  - {failure.describe()}" for failure in outcome.failures]
        if others := self.describe_warnings():
            lines.append(others)
        return "\n".join(lines)

    def describe_warnings(self) -> str:
        """Lines naming each warning (non-blocking assertion) and each note; '' when none."""
        lines = []
        for name, outcome in self.suites.items():
            lines += [f"warning: {name}: {w.describe()}" for w in outcome.warnings]
            lines += [f"note: {name}: {note}" for note in outcome.notes]
        return "\n".join(lines)


def json_safe(value: Any) -> Any:
    """A sample value as JSON: long strings cut, dates and other scalars as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN and infinities are not JSON
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if len(value) > SAMPLE_TEXT_CHARS:
            return value[:SAMPLE_TEXT_CHARS] + "…"
        return value
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    return str(value)
