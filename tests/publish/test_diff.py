"""The release diff engine (``pipeline diff``, CHANGELOG.md) on small inline releases."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import ids
from pipeline.cli import EXIT_OK, EXIT_USAGE, main
from pipeline.publish import changelog, diff
from pipeline.publish.kept_hashes import RowHashStore, kept_for
from pipeline.publish.release import LATEST, MANIFEST, RELEASES
from pipeline.rowhash import hash_term, hashes_of
from pipeline.schemas import TABLES, to_arrow

Rows = Sequence[Mapping[str, object]]


def _doc(path: str, sha: str, text: str | None = None) -> dict[str, object]:
    return {
        "doc_id": ids.doc_id(path),
        "source_path": path,
        "content_sha256": sha,
        "bytes": 10,
        "source_text": text if text is not None else f"text of {path} at {sha}",
        "n_chars": 10,
    }


def _money(path: str, sha: str, start: int, quote: str, **extra: object) -> dict[str, object]:
    """A money fact with the id the pipeline would give it (content hash in it)."""
    return {
        "fact_id": ids.fact_id(sha, "money", start, start + len(quote), quote),
        "doc_id": ids.doc_id(path),
        "source_path": path,
        "char_start": start,
        "char_end": start + len(quote),
        "quote": quote,
        "sentence": f"They gave {quote}.",
        "claim_id": "clm_1",
        **extra,
    }


def _release(
    version: str,
    docs: Mapping[str, str],
    code: str = "code-1",
    config: str = "config-1",
    **tables: Rows,
) -> tuple[dict[str, Any], dict[str, pa.Table]]:
    """A manifest (inputs = ``docs``: path -> sha256) and tables; a document per input that
    is not quarantined."""
    inputs = [{"path": p, "sha256": s, "bytes": 10} for p, s in sorted(docs.items())]
    fingerprint = hashlib.sha256(json.dumps([inputs, code, config]).encode()).hexdigest()
    manifest = {
        "version": version,
        "code_version": code,
        "run_fingerprint": fingerprint,
        "inputs": inputs,
    }
    quarantined = {row["source_path"] for row in tables.get("quarantine", [])}
    documents = [_doc(p, s) for p, s in docs.items() if p not in quarantined]
    rows: dict[str, Rows] = {"documents": documents, **tables}
    return manifest, {name: to_arrow(name, list(rows.get(name, []))) for name in TABLES}


def _diff(
    old: tuple[dict[str, Any], dict[str, pa.Table]],
    new: tuple[dict[str, Any], dict[str, pa.Table]],
    limit: int | None = None,
) -> diff.ReleaseDiff:
    return diff.diff_releases(diff.side_from_tables(*old), diff.side_from_tables(*new), limit)


def _table(result: diff.ReleaseDiff, name: str) -> diff.TableDiff:
    return next(t for t in result.tables if t.table == name)


def _facts(result: diff.ReleaseDiff, name: str = "money") -> dict[tuple[str, str], str]:
    """(change, quote) -> cause of each row of a fact table."""
    return {(r.change, str(r.quote)): r.cause for r in _table(result, name).rows}


OLD_DOCS = {"a.txt": "sha-a1", "b.txt": "sha-b", "c.txt": "sha-c"}
NEW_DOCS = {"a.txt": "sha-a2", "b.txt": "sha-b", "d.txt": "sha-d"}


def _edit_add_remove() -> tuple[diff.ReleaseDiff, diff.TableDiff]:
    """a.txt edited ($20 million -> $25 million), c.txt removed, d.txt added; b.txt kept but
    its fact moved to another claim (claims are corpus-wide)."""
    old = _release(
        "v1",
        OLD_DOCS,
        money=[
            _money("a.txt", "sha-a1", 0, "$1 billion"),
            _money("a.txt", "sha-a1", 30, "$20 million"),
            _money("b.txt", "sha-b", 5, "$3 million"),
            _money("c.txt", "sha-c", 7, "$4 million"),
        ],
    )
    new = _release(
        "v2",
        NEW_DOCS,
        money=[
            _money("a.txt", "sha-a2", 0, "$1 billion"),
            _money("a.txt", "sha-a2", 30, "$25 million"),
            _money("b.txt", "sha-b", 5, "$3 million", claim_id="clm_2"),
            _money("d.txt", "sha-d", 2, "$6 million"),
        ],
    )
    result = _diff(old, new)
    return result, _table(result, "money")


def test_edited_added_and_removed_documents_give_their_causes() -> None:
    result, money = _edit_add_remove()
    assert _facts(result) == {
        ("removed", "$20 million"): diff.DOCUMENT_CHANGED,
        ("added", "$25 million"): diff.DOCUMENT_CHANGED,
        ("removed", "$1 billion"): diff.DOCUMENT_CHANGED,
        ("added", "$1 billion"): diff.DOCUMENT_CHANGED,
        ("changed", "$3 million"): diff.OTHER_DOCUMENTS,  # same code: other files moved it
        ("removed", "$4 million"): diff.DOCUMENT_REMOVED,
        ("added", "$6 million"): diff.DOCUMENT_ADDED,
    }
    assert money.counts["added"] == {
        diff.DOCUMENT_CHANGED: 2,
        diff.DOCUMENT_ADDED: 1,
        diff.DOCUMENT_REMOVED: 0,
        diff.OTHER_DOCUMENTS: 0,
        diff.CODE_OR_CONFIG: 0,
    }
    assert (money.total("added"), money.total("removed"), money.total("changed")) == (3, 3, 1)
    changed = next(r for r in money.rows if r.change == "changed")
    assert changed.changes == {"claim_id": ("clm_1", "clm_2")}
    assert changed.source_path == "b.txt" and changed.doc_id == ids.doc_id("b.txt")
    ctx = result.context
    assert dict(ctx.inputs) == {"changed": 1, "added": 1, "removed": 1, "unchanged": 1}
    assert not ctx.code_changed and ctx.config_changed is None


def test_an_unchanged_fact_of_an_edited_document_is_paired_with_its_new_id() -> None:
    _, money = _edit_add_remove()
    assert money.same_facts == 1
    by_quote = {(r.change, r.quote): r for r in money.rows}
    old, new = by_quote["removed", "$1 billion"], by_quote["added", "$1 billion"]
    assert old.same_as == new.key and new.same_as == old.key
    assert by_quote["removed", "$20 million"].same_as is None  # a real change
    assert list(money.rows[-2:]) == [old, new]  # listed last, removed before added


def test_documents_and_inputs_rows_carry_their_changed_columns() -> None:
    result, _ = _edit_add_remove()
    documents = {r.source_path: r for r in _table(result, "documents").rows}
    assert {p: (r.change, r.cause) for p, r in documents.items()} == {
        "a.txt": ("changed", diff.DOCUMENT_CHANGED),
        "c.txt": ("removed", diff.DOCUMENT_REMOVED),
        "d.txt": ("added", diff.DOCUMENT_ADDED),
    }
    assert documents["a.txt"].changes is not None
    assert documents["a.txt"].changes["content_sha256"] == ("sha-a1", "sha-a2")
    inputs = {r.key["path"]: (r.change, r.cause) for r in _table(result, "inputs").rows}
    assert inputs == {
        "a.txt": ("changed", diff.DOCUMENT_CHANGED),
        "c.txt": ("removed", diff.DOCUMENT_REMOVED),
        "d.txt": ("added", diff.DOCUMENT_ADDED),
    }


def test_same_inputs_with_new_code_is_code_or_config() -> None:
    docs = {"a.txt": "sha-a"}
    old = _release("v1", docs, money=[_money("a.txt", "sha-a", 0, "$1 million", what="aid")])
    new = _release(
        "v2",
        docs,
        code="code-2",
        money=[
            _money("a.txt", "sha-a", 0, "$1 million", what="roads"),
            _money("a.txt", "sha-a", 20, "$2 million"),
        ],
    )
    result = _diff(old, new)
    assert _facts(result) == {
        ("changed", "$1 million"): diff.CODE_OR_CONFIG,
        ("added", "$2 million"): diff.CODE_OR_CONFIG,
    }
    assert result.context.code_changed and not result.context.inputs_changed


def test_a_config_change_is_known_when_inputs_and_code_are_equal() -> None:
    docs = {"a.txt": "sha-a"}
    old = _release("v1", docs, money=[_money("a.txt", "sha-a", 0, "$1 million")])
    new = _release("v2", docs, config="config-2")
    result = _diff(old, new)
    assert result.context.config_changed is True and not result.context.code_changed
    assert _facts(result) == {("removed", "$1 million"): diff.CODE_OR_CONFIG}


def test_with_code_and_inputs_both_changed_only_corpus_columns_point_at_other_documents() -> None:
    old = _release(
        "v1",
        {"a.txt": "sha-a", "b.txt": "sha-b"},
        money=[
            _money("a.txt", "sha-a", 0, "$1 million"),
            _money("a.txt", "sha-a", 20, "$2 million", what="aid"),
        ],
    )
    new = _release(
        "v2",
        {"a.txt": "sha-a", "c.txt": "sha-c"},
        code="code-2",
        money=[
            _money("a.txt", "sha-a", 0, "$1 million", claim_id="clm_9"),  # corpus-wide column
            _money("a.txt", "sha-a", 20, "$2 million", what="roads"),  # an extractor's column
            _money("a.txt", "sha-a", 40, "$3 million"),
        ],
    )
    assert _facts(_diff(old, new)) == {
        ("changed", "$1 million"): diff.OTHER_DOCUMENTS,
        ("changed", "$2 million"): diff.CODE_OR_CONFIG,
        ("added", "$3 million"): diff.CODE_OR_CONFIG,
    }


def _claim(claim_id: str, doc_paths: list[str], n_documents: int) -> dict[str, object]:
    return {
        "claim_id": claim_id,
        "kind": "money",
        "value": "USD 1000000",
        "quote": "$1 million",
        "sentence": "They gave $1 million.",
        "n_facts": n_documents,
        "n_documents": n_documents,
        "n_independent_sources": n_documents,
        "doc_ids": sorted(ids.doc_id(p) for p in doc_paths),
        "fact_ids": [],
    }


def test_a_claim_takes_the_most_telling_status_of_its_documents() -> None:
    docs = {"b.txt": "sha-b", "e.txt": "sha-e"}
    old = _release(
        "v1", docs, claims=[_claim("clm_1", ["b.txt"], 1), _claim("clm_2", ["e.txt"], 1)]
    )
    new = _release(
        "v2",
        {**docs, "d.txt": "sha-d", "e.txt": "sha-e2"},
        claims=[_claim("clm_1", ["b.txt", "d.txt"], 2), _claim("clm_2", ["e.txt", "d.txt"], 2)],
    )
    rows = {r.key["claim_id"]: r for r in _table(_diff(old, new), "claims").rows}
    assert (rows["clm_1"].cause, rows["clm_1"].source_path) == (diff.DOCUMENT_ADDED, "d.txt")
    # an edited document outranks an added one
    assert (rows["clm_2"].cause, rows["clm_2"].source_path) == (diff.DOCUMENT_CHANGED, "e.txt")
    assert rows["clm_1"].changes is not None and rows["clm_1"].changes["n_documents"] == (1, 2)


def test_among_sources_of_one_status_the_first_path_decides() -> None:
    """Paths are compared by their number in sorted order: the same choice as by name."""
    docs = {"m.txt": "sha-m"}
    paths = ["z.txt", "d.txt", "q.txt"]
    old = _release("v1", docs, claims=[_claim("clm_1", ["m.txt"], 1)])
    new = _release(
        "v2",
        {**docs, **{p: f"sha-{p}" for p in paths}},
        claims=[_claim("clm_1", ["m.txt", *paths], 4), _claim("clm_2", ["q.txt", "z.txt"], 2)],
    )
    rows = {r.key["claim_id"]: r for r in _table(_diff(old, new), "claims").rows}
    assert rows["clm_1"].source_path == "d.txt"
    assert rows["clm_2"].source_path == "q.txt"
    assert {r.cause for r in rows.values()} == {diff.DOCUMENT_ADDED}


def test_a_row_whose_document_no_release_lists_counts_as_unchanged() -> None:
    old = _release("v1", {"a.txt": "sha-a1"}, money=[_money("a.txt", "sha-a1", 0, "$4 million")])
    stray = _money("x.txt", "sha-x", 0, "$9 million")  # x.txt is in no documents table
    new = _release("v2", {"a.txt": "sha-a2"}, money=[stray])
    rows = {r.change: r for r in _table(_diff(old, new), "money").rows}
    assert (rows["removed"].cause, rows["removed"].source_path) == (diff.DOCUMENT_CHANGED, "a.txt")
    assert (rows["added"].cause, rows["added"].source_path) == (diff.OTHER_DOCUMENTS, None)


def test_hashes_at_rows_read_a_batch_at_a_time_equal_those_of_the_rows_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = pa.table(
        {
            "n": pa.array([1, 2, None, 4, 5, 6, 7], pa.int64()),
            "s": pa.array(["a", "b", "c", None, "e", "a", ""], pa.string()),
            "l": pa.array([[1], [], None, [2, 3], [1], [], [4]], pa.list_(pa.int64())),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, row_group_size=3)
    monkeypatch.setattr(diff, "_BATCH_BYTES", 1)  # one row per batch
    rows = np.array([6, 0, 3, 0, 5], dtype=np.int64)  # unordered, repeated, groups skipped
    columns = ["n", "s", "l"]
    got = diff.hashes_at(diff.parquet_table(path), rows, columns)
    taken = table.take(pa.array(rows))
    want = hashes_of(taken, [hash_term(taken, c) for c in columns])
    assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))
    assert got[1][1] == got[1][4] and got[0][1] != got[0][4]  # rows 0 and 5: one s, two n
    assert [len(h) for h in diff.hashes_at(diff.parquet_table(path), rows[:0], columns)] == [0] * 3


def test_a_passage_duplicate_is_traced_to_both_documents_through_passages() -> None:
    docs_old, docs_new = (
        {"a.txt": "sha-a1", "b.txt": "sha-b"},
        {"a.txt": "sha-a2", "b.txt": "sha-b"},
    )
    passages = [
        {"passage_id": "psg_a", "doc_id": ids.doc_id("a.txt"), "ordinal": 0, "text": "x"},
        {"passage_id": "psg_b", "doc_id": ids.doc_id("b.txt"), "ordinal": 0, "text": "x"},
    ]
    pair = {"level": "passage", "id": "psg_b", "duplicate_of": "psg_a", "kind": "exact"}
    old = _release("v1", docs_old, passages=passages)
    new = _release("v2", docs_new, passages=passages, duplicates=[pair])
    [row] = _table(_diff(old, new), "duplicates").rows
    assert (row.change, row.cause, row.source_path) == ("added", diff.DOCUMENT_CHANGED, "a.txt")


def test_quarantine_rows_follow_their_source_path() -> None:
    old = _release("v1", {"a.txt": "sha-a"})
    new = _release(
        "v2",
        {"a.txt": "sha-a", "blob.bin": "sha-x"},
        quarantine=[
            {"source_path": "blob.bin", "stage": "ingest", "reason": "binary", "message": "m"}
        ],
    )
    [row] = _table(_diff(old, new), "quarantine").rows
    assert (row.change, row.cause, row.source_path, row.doc_id) == (
        "added",
        diff.DOCUMENT_ADDED,
        "blob.bin",
        None,
    )


def test_a_long_text_change_is_shown_around_the_edit() -> None:
    before = "Intro. " * 100 + "They gave $20 million to the programme." + " More." * 100
    after = before.replace("$20 million", "$25 million")
    old = ({"version": "v1"}, {"documents": to_arrow("documents", [_doc("a.txt", "1", before)])})
    new = ({"version": "v2"}, {"documents": to_arrow("documents", [_doc("a.txt", "2", after)])})
    [row] = _table(_diff(old, new), "documents").rows
    text = row.to_json()["changes"]["source_text"]
    assert "$20 million" in text[0] and "$25 million" in text[1]
    assert text[0].startswith("…") and f"({len(before)} chars)" in text[0]


def test_json_is_one_deterministic_object_whatever_the_row_order() -> None:
    old = _release("v1", OLD_DOCS, money=[_money("c.txt", "sha-c", i, f"${i}") for i in range(5)])
    new_rows = [_money("d.txt", "sha-d", i, f"${i}") for i in range(5)]
    first = diff.dumps(_diff(old, _release("v2", NEW_DOCS, money=new_rows)))
    again = diff.dumps(_diff(old, _release("v2", NEW_DOCS, money=new_rows[::-1])))
    assert first == again
    data = json.loads(first)
    assert set(data) == {
        "old",
        "new",
        "inputs",
        "code_changed",
        "config_changed",
        "causes",
        "tables",
        "rows",
    }
    assert data["causes"] == list(diff.CAUSES)
    assert list(data["tables"]) == sorted(data["tables"])
    money = data["tables"]["money"]
    assert money["counts"]["added"]["document_added"] == 5 and money["total"]["removed"] == 5
    row = next(r for r in data["rows"] if r["table"] == "money")
    assert set(row) == {
        "table",
        "change",
        "cause",
        "key",
        "doc_id",
        "source_path",
        "quote",
        "changes",
        "same_as",
    }
    starts = [r["quote"] for r in data["rows"] if r["table"] == "money" and r["change"] == "added"]
    assert starts == [f"${i}" for i in range(5)]  # by source path, then offset


@pytest.mark.parametrize("at_once", [1, 2, 10_000])
def test_json_written_as_it_is_made_is_the_json_of_the_whole_diff(
    at_once: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``pipeline diff --format json`` streams its rows a slice at a time: the same bytes."""
    monkeypatch.setattr(diff, "_LISTED_AT_ONCE", at_once)
    old = _release(
        "v1",
        OLD_DOCS,
        money=[_money("c.txt", "sha-c", i, f"${i} «x»\n") for i in range(5)],
        claims=[_claim("clm_1", ["b.txt"], 1)],
    )
    new = _release("v2", NEW_DOCS, money=[_money("d.txt", "sha-d", 3, "$3")], claims=[])
    pairs = [(old, new), (old, old), (_release("v1", {}), _release("v2", {}))]
    for before, after in pairs:
        sides = [diff.side_from_tables(*release) for release in (before, after)]
        written = io.StringIO()
        diff.write_json(*sides, written)
        assert written.getvalue() == diff.dumps(_diff(before, after))
    assert len(json.loads(written.getvalue())["tables"]) == len(diff.TABLE_ORDER)


def test_a_limit_keeps_every_count_and_the_text_says_what_was_left_out() -> None:
    old = _release(
        "v1", {"c.txt": "sha-c"}, money=[_money("c.txt", "sha-c", i, f"${i}") for i in range(7)]
    )
    new = _release("v2", {})
    result = _diff(old, new, limit=2)
    money = _table(result, "money")
    assert money.total("removed") == 7 and len(money.rows) == 2
    text = diff.render_markdown(result, 2, "pipeline diff v1 v2 --format json")
    assert text.index("| money | removed | 7 | 0 | 0 | 7 | 0 | 0 |") < text.index("### money")
    assert "5 of 7 rows of money not shown: `pipeline diff v1 v2 --format json`" in text


def test_a_table_one_release_lacks_counts_every_row_of_the_other() -> None:
    old_manifest, old_tables = _release("v1", {"a.txt": "sha-a"})
    del old_tables["claims"]
    new = _release("v2", {"a.txt": "sha-a"}, claims=[_claim("clm_1", ["a.txt"], 1)])
    claims = _table(_diff((old_manifest, old_tables), new), "claims")
    assert (claims.rows_old, claims.rows_new, claims.total("added")) == (None, 1, 1)


def test_row_hashes_tell_null_from_empty() -> None:
    table = pa.table(
        {
            "s": pa.array([None, "", None, None], pa.string()),
            "l": pa.array([None, None, [], [""]], pa.list_(pa.string())),
        }
    )
    assert len(set(diff.row_hashes(table, ["s", "l"]).tolist())) == 4


def test_source_statuses() -> None:
    statuses = diff.source_statuses({"a": "1", "b": "2", "c": None}, {"a": "1", "b": "3", "d": "4"})
    assert statuses == {"a": "unchanged", "b": "changed", "c": "removed", "d": "added"}


def _write_release(
    output: Path, version: str, release: tuple[dict[str, Any], dict[str, pa.Table]]
) -> Path:
    folder = output / RELEASES / version
    folder.mkdir(parents=True)
    manifest, tables = release
    for name, table in tables.items():  # the inline rows leave required columns null
        relaxed = pa.schema([field.with_nullable(True) for field in table.schema])
        pq.write_table(table.cast(relaxed), folder / f"{name}.parquet")
    (folder / MANIFEST).write_text(json.dumps(manifest))
    return folder


def test_release_changelog_counts_first_and_names_the_full_list(tmp_path: Path) -> None:
    old = _release("v1", OLD_DOCS, money=[_money("c.txt", "sha-c", 0, "$4 million")])
    parent = _write_release(tmp_path, "v1", old)
    manifest, tables = _release("v2", NEW_DOCS, money=[_money("d.txt", "sha-d", 0, "$6 million")])
    text = changelog.release_changelog({**manifest, "parent_version": "v1"}, parent, tables)
    assert text.startswith("# Changelog: v2\n\nParent release: v1\n")
    assert text.index("| money | 1 → 1 | 1 | 1 | 0 |") < text.index("| money | added | 1 |")
    assert text.index("| money | added | 1 |") < text.index("### money")
    assert "| removed | document_removed |" in text and "`$6 million`" in text
    first = changelog.release_changelog({**manifest, "parent_version": None}, None, tables)
    assert "First release: every row is new." in first and "| money | 1 | 1 | 0 | 0 |" in first
    gone = changelog.release_changelog(
        {**manifest, "parent_version": "v0"}, tmp_path / "v0", tables
    )
    assert "Parent release: v0, but" in gone and "| money | 1 | 1 | 0 | 0 |" in gone


def test_cli_diff_text_json_and_unknown_release(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out"
    _write_release(output, "v1", _release("v1", OLD_DOCS))
    _write_release(output, "v2", _release("v2", NEW_DOCS))
    (output / LATEST).write_text("v2\n")
    assert main(["diff", "v1", "latest", "--output", str(output)]) == EXIT_OK
    text = capsys.readouterr().out
    assert text.startswith("# Diff: v1 → v2") and "| documents | added | 1 | 0 | 1 |" in text
    folder = str(output / RELEASES / "v1")
    assert main(["diff", folder, "v2", "--output", str(output), "--format", "json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert (data["old"]["version"], data["new"]["version"]) == ("v1", "v2")
    assert main(["diff", "v0", "v2", "--output", str(output)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "OLD 'v0' is not a release" in err and "v1, v2" in err and "pipeline releases" in err
    assert main(["diff", "latest", "v2", "--output", str(tmp_path / "empty")]) == EXIT_USAGE
    assert "pipeline run --output" in capsys.readouterr().err


def _read_back(folder: Path) -> tuple[dict[str, Any], dict[str, pa.Table]]:
    manifest = json.loads((folder / MANIFEST).read_text())
    return manifest, {p.stem: pq.read_table(p) for p in folder.glob("*.parquet")}


def test_a_diff_read_a_row_at_a_time_equals_the_one_of_whole_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Folders are read a batch of rows at a time (here one row per batch); the rows picked
    from the batches must be the ones, in the order, of the tables read whole."""
    kept = [_money("b.txt", "sha-b", 10 * i + 20, f"${i} billion") for i in range(6)]
    money_old = kept + [_money("a.txt", "sha-a1", 10 * i, f"${i} million") for i in range(6)]
    money_new = kept + [_money("a.txt", "sha-a2", 10 * i, f"${i} million") for i in (5, 0, 3, 7)]
    money_new += [_money("b.txt", "sha-b", 4, "$3 million", claim_id="clm_2")]
    claims_old = [_claim("clm_1", ["b.txt"], 1), _claim("clm_2", ["c.txt", "a.txt"], 2)]
    claims_new = [_claim("clm_2", ["d.txt", "a.txt"], 2), _claim("clm_3", ["b.txt"], 1)]
    old = _release("v1", OLD_DOCS, money=money_old, claims=claims_old)
    new = _release("v2", NEW_DOCS, money=money_new, claims=claims_new)
    new[1]["documents"] = to_arrow(
        "documents", [_doc(p, s, "Intro. " * 60 + p) for p, s in NEW_DOCS.items()]
    )
    old_dir, new_dir = _write_release(tmp_path, "v1", old), _write_release(tmp_path, "v2", new)
    for path in [*old_dir.glob("*.parquet"), *new_dir.glob("*.parquet")]:
        pq.write_table(pq.read_table(path), path, row_group_size=2)  # some groups skipped
    whole = diff.dumps(_diff(_read_back(old_dir), _read_back(new_dir)))
    monkeypatch.setattr(diff, "_BATCH_BYTES", 1)
    batched = diff.diff_releases(diff.side_from_dir(old_dir), diff.side_from_dir(new_dir))
    assert diff.dumps(batched) == whole
    assert len(json.loads(whole)["rows"]) > 15
    manifest, tables = _read_back(new_dir)
    manifest["parent_version"] = "v1"
    args = (manifest, old_dir, tables, 3)
    assert changelog.release_changelog(*args, folder=new_dir) == changelog.release_changelog(*args)


def _with_file_hashes(folder: Path) -> tuple[dict[str, Any], dict[str, pa.Table]]:
    """A written release read back, its manifest naming each table file's sha256 (as a
    staged release's does)."""
    manifest, tables = _read_back(folder)
    manifest["tables"] = {
        p.stem: {"sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
        for p in folder.glob("*.parquet")
    }
    (folder / MANIFEST).write_text(json.dumps(manifest))
    return manifest, tables


def _three_releases(tmp_path: Path) -> list[tuple[Path, dict[str, Any], dict[str, pa.Table]]]:
    money = [
        [_money("a.txt", "sha-a1", 0, "$4 million"), _money("b.txt", "sha-b", 0, "$5 million")],
        [_money("a.txt", "sha-a2", 0, "$6 million"), _money("b.txt", "sha-b", 0, "$5 million")],
        [_money("a.txt", "sha-a3", 0, "$7 million"), _money("b.txt", "sha-b", 0, "$5 million")],
    ]
    releases = []
    for i, rows in enumerate(money, start=1):
        docs = {"a.txt": f"sha-a{i}", "b.txt": "sha-b"}
        folder = _write_release(tmp_path, f"v{i}", _release(f"v{i}", docs, money=rows))
        manifest, tables = _with_file_hashes(folder)
        manifest["parent_version"] = f"v{i - 1}" if i > 1 else None
        releases.append((folder, manifest, tables))
    return releases


def _changelog(
    releases: list[tuple[Path, dict[str, Any], dict[str, pa.Table]]],
    i: int,
    store: RowHashStore | None,
) -> str:
    folder, manifest, tables = releases[i]
    parent = releases[i - 1][0]
    return changelog.release_changelog(manifest, parent, tables, folder=folder, row_hashes=store)


def test_the_changelog_reads_the_parents_row_hashes_kept_by_the_run_that_published_it(
    tmp_path: Path,
) -> None:
    releases = _three_releases(tmp_path)
    plain = [_changelog(releases, i, None) for i in (1, 2)]
    store = RowHashStore(tmp_path / "row_hashes")
    assert _changelog(releases, 1, store) == plain[0]  # keeps v2's hashes
    assert _changelog(releases, 2, store) == plain[1]  # reads them for its parent
    assert "| money | 2 → 2 | 1 | 1 | 0 |" in plain[1]  # a's fact has a new id; b's is kept
    # The kept hashes are the ones the parent's side used: altered, b's fact "changed".
    altered_store = RowHashStore(tmp_path / "altered")
    _changelog(releases, 1, altered_store)
    kept = tmp_path / "altered" / "money.parquet"
    table = pq.read_table(kept)
    metadata = table.schema.metadata
    columns = [c for c in TABLES["money"].column_names if c != "fact_id"]
    v2_sha = releases[1][1]["tables"]["money"]["sha256"]
    assert metadata[b"store_key"] == altered_store.key("money", v2_sha, columns).encode()
    flipped = pa.array(table["row_hash"].to_numpy() ^ np.uint64(1), pa.uint64())
    pq.write_table(pa.table({"row_hash": flipped}).replace_schema_metadata(metadata), kept)
    assert "| money | 2 → 2 | 1 | 1 | 1 |" in _changelog(releases, 2, altered_store)


def test_kept_row_hashes_miss_on_another_file_other_columns_or_a_bad_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = RowHashStore(tmp_path / "kept")
    hashes = np.array([3, 1, 2], dtype=np.uint64)
    key = store.key("money", "sha-1", ["a", "b"])
    store.save("money", key, hashes)
    assert store.load("money", key, 3).tolist() == [3, 1, 2]
    assert store.load("money", store.key("money", "sha-2", ["a", "b"]), 3) is None
    assert store.load("money", store.key("money", "sha-1", ["a"]), 3) is None
    assert store.load("money", key, 4) is None
    assert store.load("dates", key, 3) is None
    (tmp_path / "kept" / "money.parquet").write_bytes(b"not parquet")
    assert store.load("money", key, 3) is None
    blocked = RowHashStore(tmp_path / "kept" / "money.parquet" / "below")  # not a folder
    blocked.save("money", key, hashes)  # logged, not raised: the next run hashes again
    assert "row hashes not kept" in caplog.text
    manifest = {"tables": {"money": {"sha256": "sha-1"}}}
    assert kept_for(None, manifest, "money", remember=True) is None
    assert kept_for(store, manifest, "dates", remember=True) is None
    view = kept_for(store, manifest, "money", remember=False)
    assert view is not None
    view.save(["a", "b"], np.array([9], dtype=np.uint64))  # not the remembered side
    assert store.load("money", key, 3) is None  # (still the unreadable file)
