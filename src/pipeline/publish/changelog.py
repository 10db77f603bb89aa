"""What changed against the parent release, per table, by primary key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.schemas import TABLES


@dataclass(frozen=True, slots=True)
class TableChange:
    table: str
    added: int
    removed: int
    changed: int
    rows: int


def _keyed(table: pa.Table, name: str) -> pd.DataFrame:
    key = list(TABLES[name].primary_key)
    frame: pd.DataFrame = table.to_pandas().astype(str)
    if len(frame):
        frame = frame.set_index(key, drop=False)
    return frame


def compare(name: str, old: pa.Table | None, new: pa.Table) -> TableChange:
    if old is None:
        return TableChange(name, new.num_rows, 0, 0, new.num_rows)
    before, after = _keyed(old, name), _keyed(new, name)
    added = after.index.difference(before.index)
    removed = before.index.difference(after.index)
    common = after.index.intersection(before.index)
    columns = [c for c in after.columns if c in before.columns]
    changed = 0
    if len(common):
        left = before.loc[common, columns].sort_index()
        right = after.loc[common, columns].sort_index()
        changed = int((left != right).any(axis=1).sum())
    return TableChange(name, len(added), len(removed), changed, new.num_rows)


def changes(parent_dir: Path | None, tables: dict[str, pa.Table]) -> list[TableChange]:
    result = []
    for name in TABLES:
        old_path = parent_dir / f"{name}.parquet" if parent_dir else None
        old = pq.read_table(old_path) if old_path and old_path.exists() else None
        result.append(compare(name, old, tables[name]))
    return result


def render(version: str, parent: str | None, table_changes: list[TableChange]) -> str:
    lines = [f"# Changelog: {version}", ""]
    lines.append(f"Parent release: {parent}" if parent else "First release: every row is new.")
    lines += ["", "| table | rows | added | removed | changed |", "|---|---:|---:|---:|---:|"]
    lines += [
        f"| {c.table} | {c.rows} | {c.added} | {c.removed} | {c.changed} |" for c in table_changes
    ]
    return "\n".join(lines) + "\n"
