"""datapackage.json: a valid Data Package for frictionless 5, metadata and data alike.

The seeds release's descriptor is checked in tests/e2e/test_release_docs.py (where the
session's seeds release lives); here a small release of real Parquet files is enough.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import frictionless
import pyarrow as pa

from pipeline.publish.datapackage import arrow_type, datapackage
from pipeline.publish.release import write_json, write_table
from pipeline.schemas import TABLES, to_arrow

FACT = {
    "fact_id": "f1",
    "doc_id": "d1",
    "source_path": "a.txt",
    "char_start": 0,
    "char_end": 11,
    "quote": "$65 million",
    "passage_id": "p1",
    "sentence": "$65 million in aid.",
    "extractor": "money@1",
    "claim_id": "c1",
}
ROWS: dict[str, list[dict[str, Any]]] = {
    "documents": [
        {
            "doc_id": "d1",
            "source_path": "a.txt",
            "content_sha256": "0" * 64,
            "bytes": 19,
            "encoding": "utf-8",
            "format": "text",
            "published_date_basis": "unknown",
            "tags": ["peru", "aid"],
            "n_chars": 19,
            "n_passages": 1,
            "source_text": "$65 million in aid.",
        }
    ],
    "money": [{**FACT, "amount": 65e6, "currency": "USD", "amount_usd": 65e6}],
    "dates": [],
    "claims": [
        {
            "claim_id": "c1",
            "kind": "money",
            "value": "USD 65000000",
            "quote": "$65 million",
            "sentence": "$65 million in aid.",
            "n_facts": 1,
            "n_documents": 1,
            "n_independent_sources": 1,
            "doc_ids": ["d1"],
            "fact_ids": ["f1"],
        }
    ],
}


def _release(folder: Path, rows: dict[str, list[dict[str, Any]]]) -> Path:
    """Parquet files of every table and their datapackage.json, as a release has them."""
    tables = {
        name: write_table(to_arrow(name, rows.get(name, [])), folder / f"{name}.parquet")
        for name in TABLES
    }
    path = folder / "datapackage.json"
    write_json(path, datapackage("v1", tables, created="2026-01-01T00:00:00Z"))
    return path


def _errors(report: frictionless.Report) -> list[str]:
    return [
        f"{task.name}: {error.type}: {error.note}" for task in report.tasks for error in task.errors
    ] + [f"{error.type}: {error.note}" for error in report.errors]


def test_descriptor_metadata_is_a_valid_data_package() -> None:
    manifest_tables = {
        name: {"path": f"{name}.parquet", "rows": 0, "bytes": 1, "sha256": "a" * 64}
        for name in TABLES
    }
    descriptor = datapackage("v1", manifest_tables, created="2026-01-01T00:00:00Z")
    assert [e.note for e in frictionless.Package.metadata_validate(descriptor)] == []
    assert {r["name"] for r in descriptor["resources"]} == set(TABLES)
    money = next(r for r in descriptor["resources"] if r["name"] == "money")
    assert money["hash"] == "sha256:" + "a" * 64 and money["format"] == "parquet"
    fields = {f["name"]: f for f in money["schema"]["fields"]}
    assert fields["qualifier"]["constraints"]["enum"] == ["approx", "min", "max"]
    assert fields["fact_id"]["constraints"] == {"required": True, "unique": True}
    assert fields["fact_id"]["description"] == TABLES["money"].field("fact_id").description


def test_list_columns_keep_their_arrow_type() -> None:
    assert arrow_type(pa.list_(pa.string())) == "list<string>"
    assert arrow_type(pa.date32()) == "date32[day]"


def test_frictionless_reads_every_table_and_finds_it_valid(tmp_path: Path) -> None:
    report = frictionless.validate(_release(tmp_path, ROWS))
    assert report.valid, _errors(report)
    assert {task.name for task in report.tasks} == set(TABLES)
    assert {task.name: task.stats["rows"] for task in report.tasks if task.stats.get("rows")} == {
        "documents": 1,
        "money": 1,
        "claims": 1,
    }


def test_frictionless_catches_rows_that_break_the_schema(tmp_path: Path) -> None:
    bad = {**ROWS, "money": [{**FACT, "qualifier": "roughly"}, FACT]}
    report = frictionless.validate(_release(tmp_path, bad))
    assert not report.valid
    found = {(task.name, error.type) for task in report.tasks for error in task.errors}
    # an enum broken, and fact_id (unique, the primary key) repeated
    assert found == {
        ("money", "constraint-error"),
        ("money", "unique-error"),
        ("money", "primary-key"),
    }, _errors(report)


def test_the_written_descriptor_is_plain_json(tmp_path: Path) -> None:
    data = json.loads(_release(tmp_path, ROWS).read_text(encoding="utf-8"))
    assert data["created"] == "2026-01-01T00:00:00Z" and data["version"] == "v1"
    assert all("bytes" not in r for r in data["resources"])  # see the module doc of datapackage
