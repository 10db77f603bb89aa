"""Expectation suites derived from ``pipeline.schemas``, stored as JSON under ``expectations/``.

One suite per table (plus ``inputs`` for the manifest's input list). Suites are plain
dicts in GX's configuration shape (``type``, ``kwargs``, ``description``), so building and
writing them needs no GX import; ``python -m pipeline.validate.suites`` regenerates them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.schemas import CONTRACT_VERSION, FACT_TABLES, Field, Table
from pipeline.validate.derived import ISO_DATE_PATTERN, SUITE_TABLES, helpers_for

Expectation = dict[str, Any]
Suite = dict[str, Any]

DEFAULT_EXPECTATIONS_DIR = Path(__file__).resolve().parents[3] / "expectations"


def expect(kind: str, description: str, /, **kwargs: Any) -> Expectation:
    """One expectation configuration in the shape GX's ExpectationConfiguration takes."""
    return {"type": kind, "kwargs": kwargs, "description": description}


def gx_type(type_: pa.DataType) -> str | None:
    """The type name GX's pandas type check accepts for an Arrow type read as ArrowDtype."""
    checks = (
        (pa.types.is_integer, "int"),
        (pa.types.is_floating, "float"),
        (pa.types.is_string, "str"),
        (pa.types.is_large_string, "str"),
        (pa.types.is_date, "date"),
        (pa.types.is_list, "list"),
        (pa.types.is_boolean, "bool"),
    )
    return next((name for check, name in checks if check(type_)), None)


def field_expectations(field: Field, primary_key: tuple[str, ...]) -> list[Expectation]:
    """Type, not-null, unique and value-set expectations for one declared column."""
    out: list[Expectation] = []
    column = field.name
    type_name = gx_type(field.type)
    if type_name is not None:
        out.append(
            expect(
                "expect_column_values_to_be_of_type",
                f"{column} is {field.type}.",
                column=column,
                type_=type_name,
            )
        )
    if not field.nullable:
        out.append(
            expect("expect_column_values_to_not_be_null", f"{column} is never null.", column=column)
        )
    if field.unique or primary_key == (column,):
        out.append(
            expect("expect_column_values_to_be_unique", f"{column} is unique.", column=column)
        )
    if field.values is not None:
        out.append(
            expect(
                "expect_column_values_to_be_in_set",
                f"{column} is one of its declared values"
                + (" (or null)." if field.nullable else "."),
                column=column,
                value_set=list(field.values),
            )
        )
    return out


def table_expectations(table: Table) -> list[Expectation]:
    """Column order and set (declared columns, then helper columns) and a compound key."""
    columns = table.column_names + [h.name for h in helpers_for(table.name)]
    out = [
        expect(
            "expect_table_columns_to_match_ordered_list",
            "Exactly the declared columns, in declared order (then computed helper columns).",
            column_list=columns,
        )
    ]
    if len(table.primary_key) > 1:
        out.append(
            expect(
                "expect_compound_columns_to_be_unique",
                f"The primary key ({', '.join(table.primary_key)}) is unique.",
                column_list=list(table.primary_key),
            )
        )
    return out


def positive(column: str) -> Expectation:
    """``column`` > 0 where not null."""
    return expect(
        "expect_column_values_to_be_between",
        f"{column} > 0 where not null.",
        column=column,
        min_value=0,
        strict_min=True,
    )


def non_negative(column: str) -> Expectation:
    """``column`` >= 0 where not null."""
    return expect(
        "expect_column_values_to_be_between", f"{column} >= 0.", column=column, min_value=0
    )


def ordered(low: str, high: str, *, strict: bool) -> Expectation:
    """``low`` < ``high`` (or <=) on rows where both are present."""
    op = "<" if strict else "<="
    return expect(
        "expect_column_pair_values_a_to_be_greater_than_b",
        f"{low} {op} {high} where both are present.",
        column_A=high,
        column_B=low,
        or_equal=not strict,
        ignore_row_if="either_value_is_missing",
    )


def span_rules() -> list[Expectation]:
    """char_start >= 0 and char_start < char_end."""
    return [non_negative("char_start"), ordered("char_start", "char_end", strict=True)]


def rule_expectations(name: str) -> list[Expectation]:
    """Table-specific rules that a field declaration cannot express."""
    rules: dict[str, list[Expectation]] = {
        "documents": [non_negative("bytes"), non_negative("n_chars"), non_negative("n_passages")],
        "passages": [non_negative("ordinal"), *span_rules()],
        "duplicates": [
            expect(
                "expect_column_values_to_be_between",
                "similarity is in [0, 1].",
                column="similarity",
                min_value=0,
                max_value=1,
            )
        ],
        "money": [
            positive("amount"),
            positive("amount_usd"),
            ordered("amount_low_usd", "amount_high_usd", strict=False),
        ],
        "dates": [
            expect(
                "expect_column_values_to_match_regex",
                "iso is YYYY, YYYY-MM, YYYY-MM-DD or FYYYYY where not null.",
                column="iso",
                regex=ISO_DATE_PATTERN,
            ),
            ordered("date_start", "date_end", strict=False),
        ],
        "entities": [positive("n_documents")],
        "claims": [
            positive("n_independent_sources"),
            ordered("n_independent_sources", "n_documents", strict=False),
            ordered("n_documents", "n_facts", strict=False),
            ordered("first_published", "latest_published", strict=False),
        ],
        "quarantine": [non_negative("bytes")],
        "inputs": [non_negative("bytes")],
    }
    fact_rules = span_rules() if name in FACT_TABLES else []
    return fact_rules + rules.get(name, [])


def helper_expectations(name: str) -> list[Expectation]:
    """Every computed helper column is all True."""
    return [
        expect(
            "expect_column_values_to_be_in_set",
            helper.description,
            column=helper.name,
            value_set=[True],
        )
        for helper in helpers_for(name)
    ]


def build_suite(table: Table) -> Suite:
    """The whole suite of one table, derived from its declaration."""
    expectations = table_expectations(table)
    for field in table.fields:
        expectations += field_expectations(field, table.primary_key)
    expectations += rule_expectations(table.name) + helper_expectations(table.name)
    return {
        "name": table.name,
        "meta": {"generated_from": "pipeline.schemas", "contract_version": CONTRACT_VERSION},
        "expectations": expectations,
    }


def build_suites() -> dict[str, Suite]:
    """Every suite, by name."""
    return {name: build_suite(table) for name, table in SUITE_TABLES.items()}


def suite_json(suite: Suite) -> str:
    """The stored text of a suite: stable key order, trailing newline."""
    return json.dumps(suite, indent=2, ensure_ascii=False) + "\n"


def write_suites(directory: Path) -> list[Path]:
    """Write every suite as ``<name>.json`` under ``directory``; remove stale suite files."""
    directory.mkdir(parents=True, exist_ok=True)
    suites = build_suites()
    for stale in directory.glob("*.json"):
        if stale.stem not in suites:
            stale.unlink()
    paths = []
    for name, suite in suites.items():
        path = directory / f"{name}.json"
        path.write_text(suite_json(suite), encoding="utf-8")
        paths.append(path)
    return paths


def load_suites(directory: Path) -> dict[str, Suite]:
    """The stored suites under ``directory``, by name (the run-time source of truth)."""
    suites: dict[str, Suite] = {}
    for path in sorted(directory.glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(suite, dict) or not isinstance(suite.get("expectations"), list):
            raise ValueError(f"{path} is not an expectation suite")
        suites[str(suite.get("name", path.stem))] = suite
    return suites


def main(argv: list[str] | None = None) -> int:
    """Regenerate the stored suites (default: the repository's ``expectations/``)."""
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0]) if args else DEFAULT_EXPECTATIONS_DIR
    for path in write_suites(directory):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
