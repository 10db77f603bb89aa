"""Suites over tables validated a chunk of rows at a time give the whole-table report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from pipeline.publish.release import TableWriter
from pipeline.validate import ValidationReport, chunked, run, validate_release
from pipeline.validate.chunked import chunk_rows, merge_results, split_suite
from pipeline.validate.suites import DEFAULT_EXPECTATIONS_DIR, build_suites
from tests.validate.conftest import valid_inputs, write_release
from tests.validate.test_suites import broken_rows


def _failures(report: ValidationReport) -> list[str]:
    return sorted(json.dumps(f.to_dict(), sort_keys=True, default=str) for f in report.failures)


@pytest.fixture(scope="module")
def broken_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("broken-chunked")
    inputs = [*valid_inputs(), {"path": "b.txt", "sha256": "0" * 64, "bytes": 3}]
    return write_release(tmp / "release", broken_rows(), inputs, relaxed=True)


def test_a_release_validated_in_chunks_reports_as_validated_whole(
    broken_release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = validate_release(broken_release, DEFAULT_EXPECTATIONS_DIR, tmp_path / "whole")
    monkeypatch.setattr(chunked, "CHUNK_BYTES", 1)  # every table of 2+ rows: a row a chunk
    parts = validate_release(broken_release, DEFAULT_EXPECTATIONS_DIR, tmp_path / "parts")
    assert not whole.success and not parts.success
    assert parts.to_json() == whole.to_json()  # per suite: success, evaluated, failed
    assert _failures(parts) == _failures(whole)  # with their counts and sample rows
    money = json.loads((tmp_path / "parts" / "suites" / "money.json").read_text())
    assert money["meta"]["pipeline_chunks"]["row_wise_chunks"] == 9


def test_chunk_rows_hold_about_the_chunk_bytes() -> None:
    assert chunk_rows(1000, 10_000, chunk_bytes=20_000) == 1000  # small: one chunk
    assert chunk_rows(1000, 10_000, chunk_bytes=2_500) == 250
    assert chunk_rows(1000, 10_000, chunk_bytes=1) == 1
    assert chunk_rows(0, 0, chunk_bytes=1) == 1


def test_a_chunk_of_quote_checked_rows_counts_its_documents_texts(
    broken_release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = run.ReleaseTables(broken_release)
    money_rows, money_bytes = release.size("money") or (0, 0)
    _docs, docs_bytes = release.size("documents") or (0, 0)
    assert run.reads_source_texts("money") and not run.reads_source_texts("claims")
    # a budget that holds the money rows alone, not with their documents' texts
    monkeypatch.setattr(chunked, "CHUNK_BYTES", money_bytes + docs_bytes // 2)
    assert 1 <= run.rows_per_chunk("money", release) < money_rows
    claims_rows, _claims_bytes = release.size("claims") or (0, 0)
    assert run.rows_per_chunk("claims", release) == claims_rows
    assert run.rows_per_chunk("inputs", release) == 0


def test_uniqueness_is_never_judged_a_chunk_at_a_time() -> None:
    rows, whole = split_suite(build_suites()["money"])
    assert "expect_column_values_to_be_unique" in {e["type"] for e in whole["expectations"]}
    assert all(e["type"] in chunked.ROW_WISE for e in rows["expectations"])
    assert len(rows["expectations"]) + len(whole["expectations"]) == len(
        build_suites()["money"]["expectations"]
    )


def _result(unexpected: list[int], elements: int, mostly: float | None = None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"column": "x", "batch_id": "b"}
    if mostly is not None:
        kwargs["mostly"] = mostly
    return {
        "results": [
            {
                "success": not unexpected,
                "expectation_config": {
                    "type": "expect_column_values_to_not_be_null",
                    "kwargs": kwargs,
                },
                "result": {
                    "element_count": elements,
                    "unexpected_count": len(unexpected),
                    "missing_count": 0,
                    "partial_unexpected_list": [None] * len(unexpected),
                    "partial_unexpected_index_list": unexpected,
                },
                "exception_info": {"raised_exception": False},
            }
        ]
    }


def test_merged_counts_and_row_numbers_are_those_of_the_whole_table() -> None:
    merged = merge_results("t", [(0, _result([1], 4)), (4, _result([0, 2], 4))], None, 5)
    item = merged["results"][0]
    assert not merged["success"] and not item["success"]
    assert item["result"]["unexpected_count"] == 3
    assert item["result"]["element_count"] == 8
    assert item["result"]["partial_unexpected_index_list"] == [1, 4, 6]
    assert item["result"]["unexpected_percent"] == pytest.approx(37.5)
    assert merged["statistics"]["unsuccessful_expectations"] == 1


def test_mostly_is_judged_over_the_whole_table() -> None:
    # 1 failing row of 10 passes mostly=0.9 over the table, though its chunk alone fails
    merged = merge_results(
        "t", [(0, _result([0], 2, mostly=0.9)), (2, _result([], 8, mostly=0.9))], None, 5
    )
    assert merged["success"]


def _documents_file(folder: Path, n: int) -> Path:
    """A documents.parquet of ``n`` documents, ordered by source path, 10 rows a group."""
    rows = [
        {
            "doc_id": f"d{i:03d}",
            "n_chars": 5,
            "source_text": f"t{i:03d}.",
            "source_path": f"p{i:03d}",
        }
        for i in range(n)
    ]
    table = pa.Table.from_pylist(rows).select(run.DOCUMENT_TEXT_COLUMNS)
    writer = TableWriter(folder / "documents.parquet", table.schema, group_rows=10)
    writer.write(table)
    writer.close()
    return folder


def test_a_chunk_reads_the_source_texts_of_its_own_documents(tmp_path: Path) -> None:
    folder = _documents_file(tmp_path, 100)
    facts = pa.table(
        {
            "doc_id": [f"d{i:03d}" for i in range(20, 30)] + ["d077"],
            "source_path": [f"p{i:03d}" for i in range(20, 30)] + ["p025"],  # d077 misfiled
        }
    )
    documents = run.with_document_texts("money", facts, folder, {})["documents"]
    assert sorted(documents.column("doc_id").to_pylist()) == [
        *(f"d{i:03d}" for i in range(20, 30)),
        "d077",  # found by its doc_id: its quotes are still checked against its own text
    ]
    assert "t077." in documents.column("source_text").to_pylist()


def test_tables_without_quote_checks_get_the_references_unchanged(tmp_path: Path) -> None:
    references = {"documents": pa.table({"doc_id": ["d000"]})}
    folder = _documents_file(tmp_path, 3)
    assert (
        run.with_document_texts("passages", pa.table({"x": [1]}), folder, references) is references
    )
