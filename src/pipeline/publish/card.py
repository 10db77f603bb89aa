"""The dataset card (README.md of a release), derived from the table declarations.

It says what each table holds, every column with its description (from
``pipeline.schemas``, the one declaration), row counts, the sources with their
publishers, dates and URLs, the licence, known limitations and how to cite.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from pipeline.publish.datapackage import arrow_type
from pipeline.schemas import TABLES, Field

TITLE = "Source-traceable facts from public diplomatic documents"

# The other files of a release, in the order a reader needs them.
FILES = (
    (
        "report.html",
        "overview: counts, amounts by year and by topic, duplicates, quarantine, "
        "validation (opens offline)",
    ),
    (
        "manifest.json",
        "version, parent, inputs with sha256, tables with rows and sha256, validation summary",
    ),
    ("CHANGELOG.md", "rows added, removed and changed per table against the parent release"),
    ("datapackage.json", "Frictionless Data Package descriptor of the tables"),
    ("validation/index.html", "every suite's result, failures, warnings and notes"),
)

_LIMITATIONS = (
    "Facts are extracted by rules, not by people: check the quote in its sentence before "
    "relying on a value.",
    "Periods and 'what' phrases come only from the sentence that states the amount.",
    "Dates without a year are resolved from the document's own date when it is known "
    "(basis `document_context`), otherwise left unresolved.",
    "Duplicates are marked, never removed: sum amounts over rows whose document has no "
    "`duplicate_of` to count each fact once per source, or count each `claim_id` once.",
    "Amounts of different kinds (aid, investment, trade volumes) sit in one table: "
    "filter on `flow_stage` before adding them up.",
    "Topics come from a keyword taxonomy (`passages.topics`), not from reading the "
    "passage; a passage may have several topics or none.",
    "Funders and recipients are filled only when the sentence names them.",
)


def render(version: str, manifest: dict[str, Any], documents: pa.Table) -> str:
    lines = [
        f"# Dataset card: release {version}",
        "",
        f"{TITLE}: money, quantities, dates and entities extracted from public documents "
        "on bilateral relations, each with the exact quote and its character offsets in the "
        "source text (`documents.source_text[char_start:char_end] == quote`).",
        "",
        f"Created {manifest['created_at']} by pipeline {manifest['pipeline_version']} "
        f"(contract {manifest['contract_version']}) from {len(manifest.get('inputs', []))} "
        f"input file(s); parent release: {manifest.get('parent_version') or 'none'}.",
        "",
        "## Files",
        "",
        "| file | holds |",
        "|---|---|",
        *(f"| `{name}` | {text} |" for name, text in FILES),
        "| `<table>.parquet` | one file per table below |",
        "",
        "## Tables",
        "",
    ]
    for name, table in TABLES.items():
        rows = manifest["tables"][name]["rows"]
        lines += [
            f"### {name} ({rows} rows)",
            "",
            table.description,
            "",
            "| column | type | required | description |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| `{f.name}` | {arrow_type(f.type)} | {'yes' if not f.nullable else ''} "
            f"| {_cell(_description(f))} |"
            for f in table.fields
        ]
        lines.append("")
    lines += _sources(documents)
    lines += [
        "",
        "## Licence",
        "",
        "The source documents are works of the US government "
        "(public domain in the United States) unless a source says otherwise; the "
        "derived tables carry the same terms. Check a source's URL for its own terms "
        "before reusing text from a publisher that is not a US government body.",
        "",
        "## Known limitations",
        "",
    ]
    lines += [f"- {text}" for text in _LIMITATIONS]
    lines += [
        "",
        "## How to cite",
        "",
        f"> {TITLE}, release {version} ({manifest['created_at'][:10]}), "
        f"input fingerprint sha256:{manifest['input_fingerprint'][:12]}.",
        "",
        "Name the release version: releases are immutable, so a version names exactly "
        "these rows. When citing a single fact, cite its source document too (title, "
        "publisher, date and URL above) with the quote.",
        "",
    ]
    return "\n".join(lines)


# What the card shows of each document.
SOURCE_COLUMNS = (
    "doc_id",
    "source_path",
    "title",
    "publisher",
    "published_date",
    "source_url",
    "duplicate_of",
)


def _sources(documents: pa.Table) -> list[str]:
    """One row per document: path, title, publisher, date, URL, and which it copies."""
    frame = documents.select(list(SOURCE_COLUMNS)).to_pandas()
    paths = dict(zip(frame["doc_id"], frame["source_path"], strict=True))
    lines = [
        "## Sources",
        "",
        f"{len(frame)} document(s); inputs that could not be used are in `quarantine`.",
        "",
        "| document | title | publisher | published | URL | copy of |",
        "|---|---|---|---|---|---|",
    ]
    for row in frame.to_dict("records"):
        original = _cell(row["duplicate_of"])
        copy_of = paths.get(original, original) if original else ""
        lines.append(
            "| "
            + " | ".join(
                _cell(row[c])
                for c in ("source_path", "title", "publisher", "published_date", "source_url")
            )
            + f" | {_cell(copy_of)} |"
        )
    return lines


def _description(field: Field) -> str:
    if not field.values:
        return field.description
    return field.description + " Values: " + ", ".join(f"`{v}`" for v in field.values) + "."


def _cell(value: object) -> str:
    """Text safe in a markdown table cell: no pipe or line break ends the cell early."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return " ".join(str(value).split()).replace("|", "\\|")
