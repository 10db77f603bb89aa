"""Validation stage: Great Expectations suites derived from the schemas gate every release.

Names are re-exported lazily so that ``python -m pipeline.validate.suites`` and light
imports (the report types) do not load the runner.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.validate.report import FailedExpectation, SuiteOutcome, ValidationReport
    from pipeline.validate.run import validate_release
    from pipeline.validate.suites import build_suites, load_suites, write_suites

_EXPORTS = {
    "FailedExpectation": "pipeline.validate.report",
    "SuiteOutcome": "pipeline.validate.report",
    "ValidationReport": "pipeline.validate.report",
    "validate_release": "pipeline.validate.run",
    "build_suites": "pipeline.validate.suites",
    "load_suites": "pipeline.validate.suites",
    "write_suites": "pipeline.validate.suites",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)


__all__ = [
    "FailedExpectation",
    "SuiteOutcome",
    "ValidationReport",
    "build_suites",
    "load_suites",
    "validate_release",
    "write_suites",
]
