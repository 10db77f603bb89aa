"""A minimal, consistent release directory built from pipeline.schemas."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.schemas import TABLES

Rows = dict[str, list[dict[str, Any]]]

SOURCE_TEXT = (
    "Funding\n\nOn 9 May 2024 the ministry pledged $5 million to the Green Fund, "
    "creating 120 jobs.\n"
)
SOURCE_PATH = "a.txt"
DOC_ID = "doc_a"
PASSAGE_ID = "pas_a"


def fact(kind: str, quote: str, **values: Any) -> dict[str, Any]:
    """A fact row whose quote is exactly its slice of SOURCE_TEXT."""
    start = SOURCE_TEXT.index(quote)
    return {
        "fact_id": f"{kind}_1",
        "doc_id": DOC_ID,
        "source_path": SOURCE_PATH,
        "char_start": start,
        "char_end": start + len(quote),
        "quote": quote,
        "passage_id": PASSAGE_ID,
        "sentence": SOURCE_TEXT.strip().split("\n")[-1],
        "extractor": f"{kind}@1",
        "claim_id": f"clm_{kind}",
        **values,
    }


def claim(kind: str, fact_row: dict[str, Any], value: str) -> dict[str, Any]:
    """The singleton claim of one fact row."""
    return {
        "claim_id": fact_row["claim_id"],
        "kind": kind,
        "value": value,
        "quote": fact_row["quote"],
        "sentence": fact_row["sentence"],
        "n_facts": 1,
        "n_documents": 1,
        "n_independent_sources": 1,
        "doc_ids": [DOC_ID],
        "fact_ids": [fact_row["fact_id"]],
    }


def valid_rows() -> Rows:
    """One document, one passage, one fact of each kind; no duplicates or quarantine."""
    raw = SOURCE_TEXT.encode()
    passage_start = SOURCE_TEXT.index("On 9 May")
    rows: Rows = {
        "documents": [
            {
                "doc_id": DOC_ID,
                "source_path": SOURCE_PATH,
                "content_sha256": hashlib.sha256(raw).hexdigest(),
                "bytes": len(raw),
                "encoding": "utf-8",
                "format": "text",
                "published_date_basis": "unknown",
                "n_chars": len(SOURCE_TEXT),
                "n_passages": 1,
                "source_text": SOURCE_TEXT,
            }
        ],
        "passages": [
            {
                "passage_id": PASSAGE_ID,
                "doc_id": DOC_ID,
                "ordinal": 0,
                "heading": "Funding",
                "kind": "paragraph",
                "text": SOURCE_TEXT[passage_start:].strip(),
                "char_start": passage_start,
                "char_end": len(SOURCE_TEXT) - 1,
                "text_sha256": "0" * 64,
            }
        ],
        "duplicates": [],
        "money": [
            fact(
                "money",
                "$5 million",
                amount=5e6,
                currency="USD",
                amount_usd=5e6,
                amount_low_usd=5e6,
                amount_high_usd=5e6,
                what="the Green Fund",
            )
        ],
        "quantities": [fact("quantities", "120 jobs", value=120.0, unit="jobs")],
        "dates": [
            fact(
                "dates",
                "9 May 2024",
                iso="2024-05-09",
                precision="day",
                date_start=dt.date(2024, 5, 9),
                date_end=dt.date(2024, 5, 9),
                basis="explicit",
            )
        ],
        "entities": [
            fact(
                "entities",
                "Green Fund",
                entity_id="ent_1",
                name="Green Fund",
                type="organization",
                n_documents=1,
            )
        ],
        "quarantine": [],
    }
    values = {"money": "USD 5000000", "quantities": "120 jobs", "dates": "2024-05-09"}
    rows["claims"] = [claim(kind, rows[kind][0], value) for kind, value in values.items()]
    return rows


def valid_inputs() -> list[dict[str, Any]]:
    """The manifest's inputs for valid_rows()."""
    raw = SOURCE_TEXT.encode()
    return [{"path": SOURCE_PATH, "sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}]


def arrow_table(name: str, rows: list[dict[str, Any]], *, relaxed: bool = False) -> pa.Table:
    """Rows with the declared schema; ``relaxed`` lets nulls into non-nullable columns."""
    schema = TABLES[name].schema
    if relaxed:
        schema = pa.schema([f.with_nullable(True) for f in schema])
    columns = {f.name: [row.get(f.name) for row in rows] for f in schema}
    return pa.Table.from_pydict(columns, schema=schema)


def write_release(
    directory: Path, rows: Rows, inputs: list[dict[str, Any]], *, relaxed: bool = False
) -> Path:
    """Write every table as Parquet with its declared schema, plus manifest.json."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        table = arrow_table(name, rows[name], relaxed=relaxed)
        pq.write_table(table, directory / f"{name}.parquet")
    manifest = {"version": "test", "inputs": inputs}
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return directory


@pytest.fixture
def rows() -> Rows:
    return valid_rows()


@pytest.fixture
def inputs() -> list[dict[str, Any]]:
    return valid_inputs()
