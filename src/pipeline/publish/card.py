"""The dataset card (README.md of a release), derived from the table declarations."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from pipeline.schemas import TABLES

_LIMITATIONS = (
    "Facts are extracted by rules, not by people: check the quote in its sentence before "
    "relying on a value.",
    "Periods and 'what' phrases come only from the sentence that states the amount.",
    "Dates without a year are resolved from the document's own date when it is known "
    "(basis `document_context`), otherwise left unresolved.",
    "Duplicates are marked, never removed: sum amounts over rows whose document has no "
    "`duplicate_of` to count each fact once per source.",
)


def render(version: str, manifest: dict[str, Any], documents: pa.Table) -> str:
    lines = [
        f"# Dataset card: release {version}",
        "",
        "Facts (money, quantities, dates, entities) extracted from public documents on "
        "bilateral relations, each with the exact quote and its character offsets in the "
        "source text (`documents.source_text[char_start:char_end] == quote`).",
        "",
        f"Created {manifest['created_at']} by pipeline {manifest['pipeline_version']} "
        f"(contract {manifest['contract_version']}).",
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
            f"| `{f.name}` | {f.type} | {'yes' if not f.nullable else ''} | {f.description} |"
            for f in table.fields
        ]
        lines.append("")
    lines += ["## Sources", "", "| document | title | published | URL |", "|---|---|---|---|"]
    frame = documents.select(["source_path", "title", "published_date", "source_url"]).to_pandas()
    for row in frame.itertuples(index=False):
        lines.append(
            f"| {row.source_path} | {_cell(row.title)} | {_cell(row.published_date)} "
            f"| {_cell(row.source_url)} |"
        )
    lines += [
        "",
        "## Licence",
        "",
        "The source documents are works of the US government "
        "(public domain in the United States) unless a source says otherwise; the "
        "derived tables carry the same terms.",
        "",
        "## Known limitations",
        "",
    ]
    lines += [f"- {text}" for text in _LIMITATIONS]
    lines += [
        "",
        "## How to cite",
        "",
        f"Bilateral relations facts, release {version} ({manifest['created_at'][:10]}), "
        f"input fingerprint {manifest['input_fingerprint'][:12]}.",
        "",
    ]
    return "\n".join(lines)


def _cell(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
