from __future__ import annotations

from pipeline.publish.changelog import compare, render
from pipeline.schemas import to_arrow


def _quarantine(*rows: tuple[str, str]) -> list[dict[str, object]]:
    return [
        {"source_path": p, "stage": "ingest", "reason": r, "message": f"{p}: {r}"} for p, r in rows
    ]


def test_added_removed_and_changed_rows_by_primary_key() -> None:
    old = to_arrow("quarantine", _quarantine(("a.txt", "empty"), ("b.txt", "binary")))
    new = to_arrow("quarantine", _quarantine(("b.txt", "undecodable"), ("c.txt", "empty")))
    change = compare("quarantine", old, new)
    assert (change.added, change.removed, change.changed, change.rows) == (1, 1, 1, 2)
    text = render("v2", "v1", [change])
    assert "Parent release: v1" in text and "| quarantine | 2 | 1 | 1 | 1 |" in text


def test_first_release_counts_every_row_as_added() -> None:
    new = to_arrow("quarantine", _quarantine(("a.txt", "empty")))
    change = compare("quarantine", None, new)
    assert (change.added, change.removed, change.changed) == (1, 0, 0)
    assert "First release" in render("v1", None, [change])
