"""``pipeline diff`` and CHANGELOG.md end to end: seeds, then one document edited, one added
and one removed. One extra run: the parent is the session's seeds release, copied."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SEEDS, PrefectEnv
from tests.e2e.conftest import latest_release, run_cli

pytestmark = pytest.mark.e2e

EDITED, REMOVED, ADDED = "000_215ea90616700d2a.txt", "003_90ea0a079a44efbe.txt", "new_statement.txt"
NEW_TEXT = (
    "Joint Statement on Cooperation\n\n"
    "On March 3, 2022, the United States announced $40 million in new assistance to Peru for "
    "clean water projects, and the Government of Peru committed $12 million to the same "
    "programme.\n"
)


@pytest.fixture(scope="module")
def two_releases(
    seeds_release: Path, tmp_path_factory: pytest.TempPathFactory, prefect: PrefectEnv
) -> tuple[Path, str, str]:
    """(output folder, parent version, new version)."""
    root = tmp_path_factory.mktemp("diff")
    parent = latest_release(seeds_release)
    output = root / "out"
    shutil.copytree(parent, output / "releases" / parent.name)
    (output / "LATEST").write_text(parent.name + "\n")
    inputs = root / "in"
    shutil.copytree(SEEDS, inputs)
    edited = inputs / EDITED
    text = edited.read_text(encoding="utf-8")
    assert "by more than $20 million" in text
    edited.write_text(text.replace("by more than $20 million", "by more than $25 million"))
    (inputs / REMOVED).unlink()
    (inputs / ADDED).write_text(NEW_TEXT)
    result = run_cli("run", "--input", str(inputs), "--output", str(output), prefect=prefect)
    assert result.returncode == 0, result.stderr[-3000:]
    return output, parent.name, latest_release(output).name


def _diff_json(output: Path, old: str, new: str, prefect: PrefectEnv) -> dict[str, Any]:
    result = run_cli("diff", old, new, "--output", str(output), "--format", "json", prefect=prefect)
    assert result.returncode == 0, result.stderr[-3000:]
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_diff_names_each_document_cause(
    two_releases: tuple[Path, str, str], prefect: PrefectEnv
) -> None:
    output, parent, version = two_releases
    data = _diff_json(output, parent, "latest", prefect)
    assert (data["old"]["version"], data["new"]["version"]) == (parent, version)
    assert data["inputs"] == {"added": 1, "changed": 1, "removed": 1, "unchanged": 3}
    expected = {EDITED: "document_changed", ADDED: "document_added", REMOVED: "document_removed"}
    own = [r for r in data["rows"] if r["source_path"] in expected]
    assert {r["table"] for r in own} >= {"inputs", "documents", "passages", "money", "dates"}
    assert all(r["cause"] == expected[r["source_path"]] for r in own)
    money = {
        (r["change"], r["quote"], r["source_path"]): r
        for r in data["rows"]
        if r["table"] == "money"
    }
    assert money["removed", "$20 million", EDITED]["same_as"] is None
    assert money["added", "$25 million", EDITED]["cause"] == "document_changed"
    assert money["added", "$40 million", ADDED]["cause"] == "document_added"
    assert any(change == "removed" and path == REMOVED for change, _, path in money)
    # rows of the three unchanged seeds moved only through corpus-wide steps (or code)
    others = [r for r in data["rows"] if r["source_path"] not in expected]
    assert all(r["cause"] in ("other_documents", "code_or_config") for r in others)
    counts = data["tables"]["money"]["counts"]
    assert counts["added"]["document_added"] == 2 and counts["removed"]["document_changed"] >= 1


def test_text_diff_and_changelog_put_counts_first(
    two_releases: tuple[Path, str, str], prefect: PrefectEnv
) -> None:
    output, parent, version = two_releases
    result = run_cli("diff", parent, version, "--output", str(output), prefect=prefect)
    assert result.returncode == 0, result.stderr[-3000:]
    for text in (result.stdout, (output / "releases" / version / "CHANGELOG.md").read_text()):
        assert text.index("| table | change | rows |") < text.index("### money")
        for cause in ("document_changed", "document_added", "document_removed"):
            assert f"| {cause} |" in text
        assert "`$25 million`" in text and "`$40 million`" in text
    changelog = (output / "releases" / version / "CHANGELOG.md").read_text()
    assert changelog.startswith(f"# Changelog: {version}\n\nParent release: {parent}\n")
    assert f"`pipeline diff {parent} {version} --format json`" in changelog


def test_unknown_release_exits_2_naming_what_exists(
    two_releases: tuple[Path, str, str], prefect: PrefectEnv
) -> None:
    output, parent, _ = two_releases
    result = run_cli("diff", "nope", "latest", "--output", str(output), prefect=prefect)
    assert result.returncode == 2
    assert "OLD 'nope' is not a release" in result.stderr and parent in result.stderr
