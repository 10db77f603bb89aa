"""CHANGELOG.md of a release: what changed against its parent, per table, and why.

The rows and their causes come from ``publish.diff``, the engine of ``pipeline diff``, so a
release's changelog and ``pipeline diff PARENT VERSION`` always agree; the changelog keeps
the first ``MAX_ROWS`` rows of each table and names the command that lists them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.publish import diff
from pipeline.publish.kept_hashes import RowHashStore
from pipeline.publish.release import MANIFEST, table_columns
from pipeline.schemas import TABLES

MAX_ROWS = 50  # rows shown per table; `pipeline diff ... --format json` has every row


@dataclass(frozen=True, slots=True)
class TableChange:
    table: str
    added: int
    removed: int
    changed: int
    rows: int


def compare(name: str, old: pa.Table | None, new: pa.Table) -> TableChange:
    """Rows added, removed and changed by primary key (no causes: see ``publish.diff``)."""
    if old is None:
        return TableChange(name, new.num_rows, 0, 0, new.num_rows)
    key = TABLES[name].primary_key
    columns = [c for c in new.column_names if c in old.column_names and c not in key]
    change = diff.match_rows(old, new, key, columns).change
    added, removed, changed = (int((change == i).sum()) for i in range(len(diff.CHANGES)))
    return TableChange(name, added, removed, changed, new.num_rows)


def changes(parent_dir: Path | None, tables: dict[str, pa.Table]) -> list[TableChange]:
    """Counts per table against the parent's Parquet files (none: every row is added)."""
    result = []
    for name in TABLES:
        old_path = parent_dir / f"{name}.parquet" if parent_dir else None
        old = pq.read_table(old_path) if old_path and old_path.exists() else None
        result.append(compare(name, old, tables[name]))
    return result


def render(
    version: str, parent: str | None, table_changes: list[TableChange], intro: str | None = None
) -> str:
    """The heading and the row counts per table (``intro``: the line naming the parent)."""
    lines = [f"# Changelog: {version}", ""]
    if intro is None:
        intro = f"Parent release: {parent}" if parent else "First release: every row is new."
    lines.append(intro)
    lines += ["", "| table | rows | added | removed | changed |", "|---|---:|---:|---:|---:|"]
    lines += [
        f"| {c.table} | {c.rows} | {c.added} | {c.removed} | {c.changed} |" for c in table_changes
    ]
    return "\n".join(lines) + "\n"


def _all_added(tables: Mapping[str, pa.Table]) -> list[TableChange]:
    """Every table's rows counted as added; only the row counts are read."""
    counted = [(name, table_columns(tables, name, ())) for name in TABLES]
    return [compare(name, None, _present(name, table)) for name, table in counted]


def _present(name: str, table: pa.Table | None) -> pa.Table:
    if table is None:
        raise KeyError(name)
    return table


def release_changelog(
    manifest: Mapping[str, Any],
    parent_dir: Path | None,
    tables: Mapping[str, pa.Table],
    max_rows: int = MAX_ROWS,
    folder: Path | None = None,
    row_hashes: RowHashStore | None = None,
) -> str:
    """CHANGELOG.md of a staged release against its parent folder (None: first release).

    Counts per table, change and cause first, then up to ``max_rows`` rows per table. A
    first release only counts its rows: every one is new (``document_added``). ``folder``:
    the staged folder ``tables`` are read from, if they are; the diff then reads its
    Parquet files a few columns and rows at a time instead of table by table.
    ``row_hashes``: where the parent's row hashes may be kept from the run that published
    it, and where this release's are kept for the next (``kept_hashes``; with ``folder``).
    """
    version, parent = str(manifest["version"]), manifest.get("parent_version")
    if parent_dir is None or not parent:  # what the engine would say: all added, no need
        return render(version, None, _all_added(tables))
    if not (parent_dir / MANIFEST).is_file():  # never expected (gc keeps it): say so, go on
        gone = f"Parent release: {parent}, but {parent_dir} is gone: every row counted as new."
        return render(version, parent, _all_added(tables), intro=gone)
    if folder is not None:
        new = diff.side_from_dir(folder, manifest, hashes=row_hashes, remember=True)
    else:
        new = diff.side_from_tables(manifest, tables)
    old = diff.side_from_dir(parent_dir, hashes=row_hashes)
    result = diff.diff_releases(old, new, limit=max_rows)
    full = f"pipeline diff {parent} {version} --format json"
    body = diff.render_markdown(result, max_rows, full)
    return f"# Changelog: {version}\n\nParent release: {parent}\n\n{body}"
