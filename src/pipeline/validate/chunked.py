"""A suite over a table too large for one frame, as if it ran on the whole table.

Row-wise expectations (each row passes or fails on its own values: types, nulls, sets,
ranges, patterns, column pairs, the column list) run on chunks of rows, one chunk in
memory at a time; every other expectation (uniqueness, and any table-wide one a user
adds) runs once on a frame of only the columns it names. The chunks' results are merged
into one result per expectation, in GX's result format: counts summed, percentages
recomputed, the first failing rows kept with their row numbers in the whole table.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from pipeline.validate.suites import Suite

CHUNK_BYTES = 128 * 1024 * 1024  # of a table's uncompressed data per chunk
ROW_WISE = frozenset(
    {
        "expect_table_columns_to_match_ordered_list",
        "expect_table_columns_to_match_set",
        "expect_column_to_exist",
        "expect_column_values_to_be_of_type",
        "expect_column_values_to_be_in_type_list",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_value_lengths_to_be_between",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_equal",
    }
)
_COUNTS = ("element_count", "unexpected_count", "missing_count")


def chunk_rows(rows: int, uncompressed_bytes: int, chunk_bytes: int | None = None) -> int:
    """Rows per chunk so that a chunk holds about ``chunk_bytes`` (default ``CHUNK_BYTES``)
    of data; all the rows when the table is smaller."""
    chunk_bytes = CHUNK_BYTES if chunk_bytes is None else chunk_bytes
    if rows == 0 or uncompressed_bytes <= chunk_bytes:
        return max(rows, 1)
    return max(1, rows * chunk_bytes // uncompressed_bytes)


def split_suite(suite: Suite) -> tuple[Suite, Suite]:
    """The suite's row-wise expectations and its other ones, as two suites."""
    rows = [e for e in suite["expectations"] if e["type"] in ROW_WISE]
    whole = [e for e in suite["expectations"] if e["type"] not in ROW_WISE]
    return {**suite, "expectations": rows}, {**suite, "expectations": whole}


def _key(result: dict[str, Any]) -> str:
    """An expectation's identity in a result: its type and arguments (not its batch)."""
    config = result.get("expectation_config", {})
    kwargs = {k: v for k, v in config.get("kwargs", {}).items() if k != "batch_id"}
    return json.dumps([config.get("type"), kwargs], sort_keys=True, default=str)


def merge_results(
    name: str,
    chunks: Sequence[tuple[int, dict[str, Any]]],
    whole: dict[str, Any] | None,
    sample_rows: int,
) -> dict[str, Any]:
    """One GX suite result from the results of the row-wise suite on each chunk (with the
    chunk's first row number in the table) and of the other expectations on the table."""
    first = chunks[0][1] if chunks else (whole or {})
    by_key: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    order: list[str] = []
    for offset, result in chunks:
        for item in _items(result):
            key = _key(item)
            if key not in by_key:
                by_key[key] = []
                order.append(key)
            by_key[key].append((offset, item))
    results = [_merge_items(by_key[key], sample_rows) for key in order]
    results += list(_items(whole)) if whole is not None else []
    passed = sum(bool(r.get("success")) for r in results)
    meta = dict(first.get("meta", {}))
    meta["pipeline_chunks"] = {
        "row_wise_chunks": len(chunks),
        "first_rows": [offset for offset, _ in chunks],
    }
    return {
        **first,
        "success": passed == len(results),
        "results": results,
        "suite_name": name,
        "statistics": {
            "evaluated_expectations": len(results),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(results) - passed,
            "success_percent": 100.0 * passed / len(results) if results else None,
        },
        "meta": meta,
    }


def _items(result: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from result.get("results", [])


def _merge_items(items: Sequence[tuple[int, dict[str, Any]]], sample_rows: int) -> dict[str, Any]:
    """One expectation's results on every chunk as one result."""
    failing = [item for _, item in items if not item.get("success")]
    raised = [
        item for _, item in items if (item.get("exception_info") or {}).get("raised_exception")
    ]
    base = dict((raised or failing or [items[0][1]])[0])
    result = dict(base.get("result") or {})
    parts = [(offset, item.get("result") or {}) for offset, item in items]
    if all(c in part for _, part in parts for c in ("element_count", "unexpected_count")):
        result.update(_merged_counts(parts, sample_rows))
    base["result"] = result
    base["success"] = _success(base, items, result)
    return base


def _merged_counts(parts: Sequence[tuple[int, dict[str, Any]]], sample_rows: int) -> dict[str, Any]:
    merged: dict[str, Any] = {
        c: sum(int(part.get(c) or 0) for _, part in parts) for c in _COUNTS if c in parts[0][1]
    }
    elements = merged["element_count"]
    unexpected = merged["unexpected_count"]
    nonmissing = elements - int(merged.get("missing_count", 0))
    merged["unexpected_percent"] = _percent(unexpected, nonmissing)
    if "missing_count" in merged:
        merged["missing_percent"] = _percent(merged["missing_count"], elements)
        merged["unexpected_percent_total"] = _percent(unexpected, elements)
        merged["unexpected_percent_nonmissing"] = _percent(unexpected, nonmissing)
    values = [v for _, part in parts for v in part.get("partial_unexpected_list", [])]
    merged["partial_unexpected_list"] = values[:sample_rows]
    merged["partial_unexpected_index_list"] = [
        offset + index
        for offset, part in parts
        for index in part.get("partial_unexpected_index_list", [])
        if isinstance(index, int)
    ][:sample_rows]
    counts: Counter[str] = Counter()
    shown: dict[str, Any] = {}
    for value in values:
        key = json.dumps(value, sort_keys=True, default=str)
        counts[key] += 1
        shown.setdefault(key, value)
    merged["partial_unexpected_counts"] = [
        {"value": shown[k], "count": n} for k, n in counts.most_common(sample_rows)
    ]
    return merged


def _percent(part: int, total: int) -> float:
    return 100.0 * part / total if total else 0.0


def _success(
    base: dict[str, Any], items: Sequence[tuple[int, dict[str, Any]]], result: dict[str, Any]
) -> bool:
    """All chunks passed; with ``mostly``, the share of passing rows over the table."""
    mostly = (base.get("expectation_config", {}).get("kwargs") or {}).get("mostly")
    if mostly is None or "unexpected_count" not in result:
        return all(bool(item.get("success")) for _, item in items)
    nonmissing = int(result["element_count"]) - int(result.get("missing_count") or 0)
    if nonmissing == 0:
        return True
    return 1 - int(result["unexpected_count"]) / nonmissing >= float(mostly)
