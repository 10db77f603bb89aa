"""The validation stage: suites derived from the schemas gate a release."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.schemas import TABLES
from pipeline.validate import ValidationReport, validate_release
from pipeline.validate.derived import is_calendar_date, quote_matches
from pipeline.validate.suites import (
    DEFAULT_EXPECTATIONS_DIR,
    build_suites,
    load_suites,
    suite_json,
    write_suites,
)
from tests.validate.conftest import Rows, valid_inputs, valid_rows, write_release

EXPECTATIONS = DEFAULT_EXPECTATIONS_DIR


def run(tmp_path: Path, rows: Rows, inputs: list[dict[str, Any]]) -> ValidationReport:
    release = write_release(tmp_path / "release", rows, inputs)
    return validate_release(release, EXPECTATIONS, tmp_path / "report")


def failed_suites(report: ValidationReport) -> set[str]:
    return {name for name, outcome in report.suites.items() if not outcome.success}


def assert_fails(report: ValidationReport, table: str, expectation: str, column: str) -> None:
    """Only ``table``'s suite fails, and it names ``expectation`` on ``column``."""
    assert not report.success
    assert failed_suites(report) == {table}
    named = {(f.expectation, f.column) for f in report.suites[table].failures}
    assert (expectation, column) in named, report.describe_failures()
    text = report.describe_failures()
    assert expectation in text and f"{table}.{column}" in text


# --- the stored suites -------------------------------------------------------------------


def test_committed_suites_equal_the_generated_ones() -> None:
    generated = build_suites()
    stored = {p.stem: p.read_text(encoding="utf-8") for p in EXPECTATIONS.glob("*.json")}
    assert set(stored) == set(generated)
    for name, suite in generated.items():
        assert stored[name] == suite_json(suite), "regenerate: python -m pipeline.validate.suites"


def test_write_then_load_round_trips_and_removes_stale_files(tmp_path: Path) -> None:
    (tmp_path / "old_table.json").write_text("{}", encoding="utf-8")
    paths = write_suites(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.json")) == sorted(p.name for p in paths)
    assert load_suites(tmp_path) == build_suites()


def test_every_table_has_a_suite_with_declared_columns_in_order() -> None:
    suites = build_suites()
    assert set(TABLES) | {"inputs"} == set(suites)
    for name, table in TABLES.items():
        first = suites[name]["expectations"][0]
        assert first["type"] == "expect_table_columns_to_match_ordered_list"
        columns = first["kwargs"]["column_list"]
        assert columns[: len(table.column_names)] == table.column_names
        assert all(c.startswith("_") for c in columns[len(table.column_names) :])


# --- the pure helpers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iso", "ok"),
    [
        (None, True),
        ("2024", True),
        ("2024-02", True),
        ("2024-02-29", True),
        ("FY2015", True),
        ("2023-02-29", False),
        ("2024-13-45", False),
        ("2024-13", False),
        ("24-01-01", False),
        ("FY15", False),
    ],
)
def test_is_calendar_date(iso: str | None, ok: bool) -> None:
    assert is_calendar_date(iso) is ok


@given(st.text(), st.integers(0, 50), st.integers(0, 50))
def test_a_slice_always_matches_its_source(text: str, a: int, b: int) -> None:
    start, end = sorted((min(a, len(text)), min(b, len(text))))
    assert quote_matches(text[start:end], text, start, end)
    assert not quote_matches(text[start:end] + "x", text, start, end)


def test_quote_with_offsets_outside_the_text_does_not_match() -> None:
    assert not quote_matches("", "abc", 4, 4)
    assert not quote_matches("c", "abc", 2, 1)
    assert not quote_matches("a", None, 0, 1)


# --- validate_release ----------------------------------------------------------------------


def test_valid_release_passes_and_writes_reports(
    tmp_path: Path, rows: Rows, inputs: list[dict[str, Any]]
) -> None:
    report = run(tmp_path, rows, inputs)
    assert report.success, report.describe_failures()
    assert set(report.suites) == set(TABLES) | {"inputs", "corpus_assertions"}
    assert report.suites["corpus_assertions"].success
    assert not report.warnings
    summary = report.to_json()
    assert summary["money"]["success"] is True
    assert summary["money"]["failed"] == 0
    assert summary["money"]["evaluated"] == len(build_suites()["money"]["expectations"])
    out = tmp_path / "report"
    assert json.loads((out / "results.json").read_text())["success"] is True
    assert {p.stem for p in (out / "suites").glob("*.json")} == set(report.suites)
    assert (out / "data_docs" / "index.html").is_file()
    assert not (Path.cwd() / "gx").exists()


def test_negative_amount_fails(tmp_path: Path, rows: Rows, inputs: list[dict[str, Any]]) -> None:
    rows["money"][0]["amount"] = -5.0
    report = run(tmp_path, rows, inputs)
    assert_fails(report, "money", "expect_column_values_to_be_between", "amount")
    failure = next(f for f in report.suites["money"].failures if f.column == "amount")
    assert failure.sample == [{"fact_id": "money_1", "amount": -5.0}]
    assert failure.unexpected_count == 1


def with_id(row: dict[str, Any], ident: str, **changes: Any) -> dict[str, Any]:
    """A copy of a valid fact row under a new fact_id, with ``changes`` applied."""
    return {**row, "fact_id": ident, **changes}


def shifted(row: dict[str, Any], ident: str, by: int) -> dict[str, Any]:
    return with_id(row, ident, char_start=row["char_start"] + by, char_end=row["char_end"] + by)


def broken_rows() -> Rows:
    """The valid release plus one crafted violating row per rule, each under its own id."""
    rows = valid_rows()
    money, quantity = rows["money"][0], rows["quantities"][0]
    date, entity = rows["dates"][0], rows["entities"][0]
    rows["money"] += [
        with_id(money, "money_negative", amount=-5.0),
        with_id(money, "money_usd_zero", amount_usd=0.0),
        with_id(money, "money_bounds", amount_low_usd=6e6, amount_high_usd=5e6),
        with_id(money, "money_quote", quote="$7 million"),
        with_id(money, "money_doc", doc_id="doc_missing"),
        with_id(money, "money_null", extractor=None),
        with_id(money, "money_qualifier", qualifier="roughly"),
        dict(money),  # a second money_1: duplicated fact_id
    ]
    rows["quantities"] += [
        with_id(quantity, "quantities_past_end", char_end=10_000),
        with_id(quantity, "quantities_passage", passage_id="pas_missing"),
        with_id(quantity, "quantities_empty_span", char_end=quantity["char_start"]),
    ]
    rows["dates"] += [
        with_id(date, "dates_impossible", iso="2024-13-45"),
        with_id(date, "dates_format", iso="May 2024"),
        with_id(date, "dates_reversed", date_start=dt.date(2024, 5, 10)),
    ]
    rows["entities"] += [
        shifted(entity, "entities_shifted", 3),
        with_id(entity, "entities_type", type="company"),
    ]
    rows["passages"].append(
        {**rows["passages"][0], "passage_id": "pas_orphan", "doc_id": "doc_missing"}
    )
    return rows


# (table, expectation, column, id of the crafted row that must be in the failure's sample)
VIOLATIONS = [
    ("money", "expect_column_values_to_be_between", "amount", "money_negative"),
    ("money", "expect_column_values_to_be_between", "amount_usd", "money_usd_zero"),
    (
        "money",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "amount_high_usd,amount_low_usd",
        "money_bounds",
    ),
    ("money", "expect_column_values_to_be_in_set", "_quote_matches_source", "money_quote"),
    ("money", "expect_column_values_to_be_in_set", "_doc_id_known", "money_doc"),
    ("money", "expect_column_values_to_not_be_null", "extractor", "money_null"),
    ("money", "expect_column_values_to_be_in_set", "qualifier", "money_qualifier"),
    ("money", "expect_column_values_to_be_unique", "fact_id", "money_1"),
    (
        "quantities",
        "expect_column_values_to_be_in_set",
        "_span_within_document",
        "quantities_past_end",
    ),
    ("quantities", "expect_column_values_to_be_in_set", "_passage_id_known", "quantities_passage"),
    (
        "quantities",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "char_end,char_start",
        "quantities_empty_span",
    ),
    ("dates", "expect_column_values_to_be_in_set", "_iso_is_calendar_date", "dates_impossible"),
    ("dates", "expect_column_values_to_match_regex", "iso", "dates_format"),
    (
        "dates",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "date_end,date_start",
        "dates_reversed",
    ),
    ("entities", "expect_column_values_to_be_in_set", "_quote_matches_source", "entities_shifted"),
    ("entities", "expect_column_values_to_be_in_set", "type", "entities_type"),
    ("passages", "expect_column_values_to_be_in_set", "_doc_id_known", "pas_orphan"),
    ("inputs", "expect_column_values_to_be_in_set", "_input_accounted_for", "b.txt"),
]


@pytest.fixture(scope="module")
def broken_report(tmp_path_factory: pytest.TempPathFactory) -> ValidationReport:
    """One validation of a release holding every crafted violation (GX runs cost seconds)."""
    tmp = tmp_path_factory.mktemp("broken")
    inputs = [*valid_inputs(), {"path": "b.txt", "sha256": "0" * 64, "bytes": 3}]
    release = write_release(tmp / "release", broken_rows(), inputs, relaxed=True)
    return validate_release(release, EXPECTATIONS, tmp / "report")


@pytest.mark.parametrize(("table", "expectation", "column", "ident"), VIOLATIONS)
def test_each_crafted_violation_is_named_with_its_row(
    broken_report: ValidationReport, table: str, expectation: str, column: str, ident: str
) -> None:
    assert not broken_report.success
    matches = [
        f
        for f in broken_report.suites[table].failures
        if (f.expectation, f.column) == (expectation, column)
    ]
    assert matches, broken_report.describe_failures()
    key = "path" if table == "inputs" else "passage_id" if table == "passages" else "fact_id"
    assert ident in [row[key] for row in matches[0].sample]
    assert f"{expectation} on {table}.{column}" in broken_report.describe_failures()


def test_broken_release_fails_nothing_else(broken_report: ValidationReport) -> None:
    """The valid rows of the broken release trip no expectation that no violation explains."""
    named = {(f.table, f.expectation, f.column) for f in broken_report.failures}
    side_effects = {
        # an unknown document also makes the span and quote unverifiable
        ("money", "expect_column_values_to_be_in_set", "_span_within_document"),
        ("passages", "expect_column_values_to_be_in_set", "_span_within_document"),
        ("quantities", "expect_column_values_to_be_in_set", "_quote_matches_source"),
    }
    assert named - side_effects == {(t, e, c) for t, e, c, _ in VIOLATIONS}
    evaluated = len(build_suites()["documents"]["expectations"])
    assert broken_report.to_json()["documents"] == {
        "success": True,
        "evaluated": evaluated,
        "failed": 0,
    }


def test_input_in_neither_documents_nor_quarantine_fails(
    tmp_path: Path, rows: Rows, inputs: list[dict[str, Any]]
) -> None:
    inputs.append({"path": "b.txt", "sha256": "0" * 64, "bytes": 3})
    report = run(tmp_path, rows, inputs)
    assert_fails(report, "inputs", "expect_column_values_to_be_in_set", "_input_accounted_for")
    failure = next(f for f in report.suites["inputs"].failures)
    assert failure.sample == [{"path": "b.txt"}]


def test_quarantined_input_is_accounted_for(
    tmp_path: Path, rows: Rows, inputs: list[dict[str, Any]]
) -> None:
    inputs.append({"path": "b.bin", "sha256": "0" * 64, "bytes": 3})
    rows["quarantine"].append(
        {"source_path": "b.bin", "stage": "ingest", "reason": "binary", "message": "binary file"}
    )
    report = run(tmp_path, rows, inputs)
    assert report.success, report.describe_failures()


def test_unreadable_files_and_wrong_types_are_failures_not_errors(
    tmp_path: Path, rows: Rows, inputs: list[dict[str, Any]]
) -> None:
    release = write_release(tmp_path / "release", rows, inputs)
    (release / "duplicates.parquet").unlink()
    (release / "manifest.json").write_text("{not json", encoding="utf-8")
    money = pq.read_table(release / "money.parquet")
    position = money.schema.get_field_index("amount")
    money = money.set_column(position, "amount", money.column("amount").cast(pa.string()))
    pq.write_table(money, release / "money.parquet")
    report = validate_release(release, EXPECTATIONS, tmp_path / "report")
    assert failed_suites(report) == {"duplicates", "inputs", "money"}
    assert report.suites["duplicates"].failures[0].expectation == "table_readable"
    assert report.suites["inputs"].failures[0].expectation == "table_readable"
    failures = {(f.expectation, f.column): f for f in report.suites["money"].failures}
    assert set(failures) == {
        ("expect_column_values_to_be_of_type", "amount"),
        ("expect_column_values_to_be_between", "amount"),
    }
    assert failures["expect_column_values_to_be_of_type", "amount"].sample == ["str"]
    # GX raises inside the between check on strings: an error is a failure, with its message
    assert failures["expect_column_values_to_be_between", "amount"].error
    assert "duplicates.parquet" in report.describe_failures()
