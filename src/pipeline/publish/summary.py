"""The run summary shown as a Prefect artifact."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.publish.release import MANIFEST
from pipeline.validate import ValidationReport


def run_summary(version: str, path: Path, report: ValidationReport) -> str:
    status = "published" if report.success else "NOT published (validation failed)"
    lines = [f"# Release {version}: {status}", "", f"Path: `{path}`", ""]
    manifest_path = path / MANIFEST
    if manifest_path.exists():
        tables = json.loads(manifest_path.read_text(encoding="utf-8"))["tables"]
        lines += ["| table | rows |", "|---|---:|"]
        lines += [f"| {name} | {info['rows']} |" for name, info in tables.items()]
    failed = [name for name, outcome in report.to_json().items() if not outcome["success"]]
    lines += ["", f"Failed suites: {', '.join(failed)}" if failed else "Every suite passed."]
    lines += [f"- warning: {w.describe()}" for w in report.warnings]
    return "\n".join(lines) + "\n"
