"""Validation stage: Great Expectations suites derived from the schemas gate every release."""

from pipeline.validate.report import FailedExpectation, SuiteOutcome, ValidationReport
from pipeline.validate.run import validate_release
from pipeline.validate.suites import build_suites, load_suites, write_suites

__all__ = [
    "FailedExpectation",
    "SuiteOutcome",
    "ValidationReport",
    "build_suites",
    "load_suites",
    "validate_release",
    "write_suites",
]
