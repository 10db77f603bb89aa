"""run_suite: a BASIC first run, SUMMARY only for a suite with failing rows, same results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pipeline.validate import run
from pipeline.validate.suites import Suite

SUITE: Suite = {
    "name": "amounts",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "amount"}},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "amount", "min_value": 0, "mostly": 0.5},
        },
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
    ],
}


def results(result: dict[str, Any]) -> list[tuple[str, Any]]:
    """What a suite's result says per expectation (its ids and run times left out)."""
    return [(r["expectation_config"]["type"], r["result"]) for r in result["results"]]


def summary_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make run_suite run SUMMARY from the start: the result the first run must equal."""
    monkeypatch.setattr(run, "FIRST_FORMAT", run.RESULT_FORMAT)


@pytest.mark.parametrize(
    "amounts",
    [[1.0, 2.0, 3.0], [1.0, -2.0, 3.0], [None, -2.0, -3.0]],
    ids=["passing", "failing row under mostly", "failing"],
)
def test_result_equals_a_summary_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, amounts: list[float | None]
) -> None:
    context = run.gx_context(tmp_path / "docs")
    frame = pd.DataFrame({"amount": amounts})
    first = run.run_suite(context, SUITE, frame, part="first")
    summary_only(monkeypatch)
    assert results(first) == results(run.run_suite(context, SUITE, frame, part="summary"))


def test_a_failing_row_is_sampled_by_its_row_number(tmp_path: Path) -> None:
    context = run.gx_context(tmp_path / "docs")
    frame = pd.DataFrame({"amount": [1.0, -2.0, 3.0]}, index=[10, 11, 12])
    between = run.run_suite(context, SUITE, frame)["results"][1]
    assert between["success"]  # under mostly: it passes, and still shows the row
    assert between["result"]["partial_unexpected_index_list"] == [11]


def run_formats(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The result formats GX's validation runs are asked for, from now on."""
    from great_expectations import ValidationDefinition

    formats: list[str] = []
    real = ValidationDefinition.run

    def recording(self: Any, *args: Any, **kwargs: Any) -> Any:
        formats.append(kwargs["result_format"]["result_format"])
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ValidationDefinition, "run", recording)
    return formats


@pytest.mark.parametrize(
    ("amounts", "expected"),
    [([1.0, 2.0], ["BASIC"]), ([1.0, -2.0], ["BASIC", "SUMMARY"])],
    ids=["passing", "with a failing row"],
)
def test_only_a_suite_with_failing_rows_runs_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, amounts: list[float], expected: list[str]
) -> None:
    context = run.gx_context(tmp_path / "docs")
    formats = run_formats(monkeypatch)
    run.run_suite(context, SUITE, pd.DataFrame({"amount": amounts}))
    assert formats == expected


def test_as_summary_leaves_failing_and_aggregate_results_alone() -> None:
    failing = {"unexpected_count": 1, "partial_unexpected_list": [-2.0]}
    aggregate = {"observed_value": 3}
    result = run.as_summary({"results": [{"result": dict(failing)}, {"result": aggregate}]})
    assert [r["result"] for r in result["results"]] == [failing, aggregate]


def test_gx_does_not_hash_the_frame(tmp_path: Path) -> None:
    context = run.gx_context(tmp_path / "docs")
    result = run.run_suite(context, SUITE, pd.DataFrame({"amount": [1.0, 2.0]}))
    assert result["success"]
    assert "pandas_data_fingerprint" not in json.dumps(result["meta"])
