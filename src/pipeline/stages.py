"""The release's stages over batches of files: what each Prefect task calls.

Tasks receive paths and hashes, read their inputs themselves and write Parquet
into content-addressed work folders, so a batch whose inputs, code and corpus
context are unchanged is never rebuilt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import pipeline
from pipeline.build import BATCH_TABLES, build_tables
from pipeline.claims import build_claims
from pipeline.clean.boilerplate import line_key
from pipeline.clean.passages import base_text
from pipeline.dedup.near import mark_duplicates
from pipeline.document import Document
from pipeline.ingest.readers import InputFile, discover, input_file, read_inputs
from pipeline.publish import card, changelog
from pipeline.publish.datapackage import datapackage
from pipeline.publish.fingerprint import InputRecord, hash_input
from pipeline.publish.release import (
    MANIFEST,
    RELEASES,
    STAGING,
    latest_version,
    publish,
    write_json,
    write_table,
)
from pipeline.resources import load_yaml
from pipeline.schemas import CONTRACT_VERSION, FACT_TABLES, TABLES, batch_schema
from pipeline.validate import ValidationReport, validate_release

_SUCCESS = "_SUCCESS"
_SORT_KEYS: dict[str, list[str]] = {
    "documents": ["source_path"],
    "passages": ["doc_id", "ordinal"],
    "quarantine": ["source_path"],
    "duplicates": ["level", "id"],
    "claims": ["kind", "value", "claim_id"],
    **{name: ["source_path", "char_start", "char_end", "fact_id"] for name in FACT_TABLES},
}


@dataclass(frozen=True, slots=True)
class RunPlan:
    """Everything a run needs to know before it starts."""

    input_dir: Path
    output_dir: Path
    expectations_dir: Path
    inputs: tuple[InputRecord, ...]
    input_fingerprint: str
    code_version: str
    run_fingerprint: str
    max_document_bytes: int
    batch_size: int

    @property
    def work_dir(self) -> Path:
        return self.output_dir / ".work"

    def batches(self) -> list[list[str]]:
        paths = [r.path for r in self.inputs]
        return [paths[i : i + self.batch_size] for i in range(0, len(paths), self.batch_size)]

    def batch_key(self, paths: Sequence[str], *context: str) -> str:
        by_path = {r.path: r.sha256 for r in self.inputs}
        lines = [f"{p}\t{by_path[p]}" for p in paths]
        payload = "\n".join([self.code_version, str(self.max_document_bytes), *context, *lines])
        return hashlib.sha256(payload.encode()).hexdigest()[:24]


def scan_inputs(input_dir: Path) -> tuple[InputRecord, ...]:
    """Every input file with its sha256 (cheap: hashing runs at GB/s)."""
    return tuple(hash_input(item) for item in discover(input_dir))


def _items(input_dir: Path, paths: Sequence[str]) -> list[InputFile]:
    return [input_file(input_dir, path) for path in paths]


def count_short_lines(plan: RunPlan, paths: Sequence[str]) -> dict[str, int]:
    """For a batch: in how many documents each short line occurs (for chrome detection)."""
    max_words = int(load_yaml("boilerplate.yaml")["repeated_line_max_words"])
    counts: Counter[str] = Counter()
    for doc in read_inputs(_items(plan.input_dir, paths), plan.max_document_bytes):
        if isinstance(doc, Document):
            body = base_text(doc)[doc.body_start :]
            keys = {line_key(line) for line in body.splitlines()}
            counts.update(k for k in keys if k and len(k.split()) <= max_words)
    return dict(counts)


def repeated_from_counts(batch_counts: Sequence[dict[str, int]]) -> list[str]:
    threshold = int(load_yaml("boilerplate.yaml")["repeated_line_min_documents"])
    total: Counter[str] = Counter()
    for counts in batch_counts:
        total.update(counts)
    return sorted(k for k, n in total.items() if n >= threshold)


def batch_dir(plan: RunPlan, paths: Sequence[str], repeated: Sequence[str]) -> Path:
    context = hashlib.sha256("\n".join(repeated).encode()).hexdigest()
    return plan.work_dir / "batches" / plan.batch_key(paths, context)


def batch_cache_key(out_dir: Path) -> str | None:
    """Prefect cache key for a batch: only while its output is still on disk."""
    return f"batch-{out_dir.name}" if (out_dir / _SUCCESS).exists() else None


def process_batch(plan: RunPlan, paths: Sequence[str], repeated: Sequence[str]) -> Path:
    """Read, clean and extract one batch into its work folder (reused when complete)."""
    out_dir = batch_dir(plan, paths, repeated)
    if (out_dir / _SUCCESS).exists():
        return out_dir
    items = read_inputs(_items(plan.input_dir, paths), plan.max_document_bytes)
    tables = build_tables(items, frozenset(repeated))
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, table in tables.items():
        pq.write_table(table, tmp / f"{name}.parquet")
    (tmp / _SUCCESS).touch()
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return out_dir


def _sorted(name: str, table: pa.Table) -> pa.Table:
    return table.sort_by([(key, "ascending") for key in _SORT_KEYS[name]])


def assemble(batch_dirs: Sequence[Path]) -> dict[str, pa.Table]:
    """Concatenate batches, mark duplicates, group facts into claims, order rows."""
    tables = {
        name: pa.concat_tables(
            [batch_schema(name).empty_table()]
            + [pq.read_table(d / f"{name}.parquet", schema=batch_schema(name)) for d in batch_dirs]
        )
        for name in BATCH_TABLES
    }
    documents, passages, duplicates = mark_duplicates(tables["documents"], tables["passages"])
    tables.update(documents=documents, passages=passages, duplicates=duplicates)
    # Claims count a copy as its original, so they need duplicate_of set first.
    tables.update(build_claims(tables))
    return {name: _sorted(name, tables[name]) for name in TABLES}


def stage_release(plan: RunPlan, version: str, tables: dict[str, pa.Table]) -> Path:
    """Write tables and a provisional manifest into a fresh staging folder."""
    staged = plan.output_dir / STAGING / version
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    described = {name: write_table(tables[name], staged / f"{name}.parquet") for name in TABLES}
    write_json(staged / MANIFEST, manifest(plan, version, described, validation=None))
    return staged


def manifest(
    plan: RunPlan, version: str, tables: dict[str, Any], validation: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "version": version,
        "parent_version": latest_version(plan.output_dir),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "contract_version": CONTRACT_VERSION,
        "pipeline_version": pipeline.__version__,
        "code_version": plan.code_version,
        "input_fingerprint": plan.input_fingerprint,
        "run_fingerprint": plan.run_fingerprint,
        "inputs": [r.as_dict() for r in plan.inputs],
        "tables": tables,
        "validation": validation,
    }


def validate_staged(plan: RunPlan, staged: Path) -> ValidationReport:
    return validate_release(staged, plan.expectations_dir, staged / "validation")


def finish_release(plan: RunPlan, staged: Path, report: ValidationReport) -> Path:
    """Complete a validated staging folder (manifest, changelog, card) and publish it."""
    data = json.loads((staged / MANIFEST).read_text(encoding="utf-8"))
    data["validation"] = report.to_json()
    version = data["version"]
    parent = data["parent_version"]
    parent_dir = plan.output_dir / RELEASES / parent if parent else None
    tables = {name: pq.read_table(staged / f"{name}.parquet") for name in TABLES}
    write_json(staged / MANIFEST, data)
    (staged / "CHANGELOG.md").write_text(
        changelog.render(version, parent, changelog.changes(parent_dir, tables)), "utf-8"
    )
    (staged / "README.md").write_text(card.render(version, data, tables["documents"]), "utf-8")
    write_json(staged / "datapackage.json", datapackage(version, data["tables"]))
    return publish(plan.output_dir, staged, version)
