"""The human-facing files of a release: changelog, dataset card, datapackage, report.html."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.publish import card, changelog, report_html
from pipeline.publish.datapackage import datapackage
from pipeline.publish.release import table_columns, write_json


def write_release_docs(
    staged: Path,
    manifest: dict[str, Any],
    parent_dir: Path | None,
    tables: Mapping[str, pa.Table],
) -> None:
    """Write every descriptive file of a validated release into its staging folder."""
    version, parent = manifest["version"], manifest["parent_version"]
    (staged / "CHANGELOG.md").write_text(
        changelog.release_changelog(manifest, parent_dir if parent else None, tables), "utf-8"
    )
    documents = table_columns(tables, "documents", card.SOURCE_COLUMNS)
    if documents is None:
        raise KeyError("documents")
    (staged / "README.md").write_text(card.render(version, manifest, documents), "utf-8")
    write_json(
        staged / "datapackage.json",
        datapackage(version, manifest["tables"], created=manifest.get("created_at")),
    )
    (staged / "report.html").write_text(report_html.render(manifest, tables), "utf-8")
