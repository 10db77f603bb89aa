"""Result types of a validation run: per-suite outcomes and the failures to show a user."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

SAMPLE_TEXT_CHARS = 80


@dataclass(frozen=True, slots=True)
class FailedExpectation:
    """One expectation that failed or errored, with a sample of the failing rows."""

    expectation: str
    table: str
    column: str | None
    sample: list[Any]
    unexpected_count: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "expectation": self.expectation,
            "table": self.table,
            "column": self.column,
            "unexpected_count": self.unexpected_count,
            "error": self.error,
            "sample": self.sample,
        }

    def describe(self) -> str:
        """One line: expectation, table.column, how many rows, a sample."""
        where = self.table if self.column is None else f"{self.table}.{self.column}"
        line = f"{self.expectation} on {where}"
        if self.unexpected_count is not None:
            line += f": {self.unexpected_count} failing row(s)"
        if self.error is not None:
            line += f": error: {self.error}"
        if self.sample:
            line += f"; sample: {json.dumps(self.sample, ensure_ascii=False, default=str)}"
        return line


@dataclass(frozen=True, slots=True)
class SuiteOutcome:
    """The outcome of one suite: how many expectations ran and which failed."""

    success: bool
    evaluated: int
    failed: int
    failures: list[FailedExpectation] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"success": self.success, "evaluated": self.evaluated, "failed": self.failed}


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Every suite's outcome; ``success`` only when all suites pass."""

    success: bool
    suites: dict[str, SuiteOutcome]

    @classmethod
    def from_outcomes(cls, suites: dict[str, SuiteOutcome]) -> ValidationReport:
        return cls(success=bool(suites) and all(s.success for s in suites.values()), suites=suites)

    @property
    def failures(self) -> list[FailedExpectation]:
        return [f for outcome in self.suites.values() for f in outcome.failures]

    def to_json(self) -> dict[str, dict[str, Any]]:
        """``{suite: {success, evaluated, failed}}`` for the manifest."""
        return {name: outcome.summary() for name, outcome in self.suites.items()}

    def to_full_json(self) -> dict[str, Any]:
        """The summary plus every failure, for ``results.json``."""
        return {
            "success": self.success,
            "suites": {
                name: {**o.summary(), "failures": [f.to_dict() for f in o.failures]}
                for name, o in self.suites.items()
            },
        }

    def describe_failures(self) -> str:
        """Human-readable lines naming each failed expectation, table, column and sample rows."""
        if self.success:
            return "All suites passed."
        lines = []
        for name, outcome in self.suites.items():
            if outcome.success:
                continue
            lines.append(f"{name}: {outcome.failed} of {outcome.evaluated} expectations failed")
            lines += [f"  - {failure.describe()}" for failure in outcome.failures]
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
