"""The command line end to end, as a user runs it: real subprocesses, real Prefect flow."""

from __future__ import annotations

import codecs
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.schemas import FACT_TABLES, TABLES
from tests.conftest import PROJECT_ROOT, SEEDS, PrefectEnv
from tests.e2e.conftest import latest_release, run_cli

pytestmark = pytest.mark.e2e
GOLDEN = Path(__file__).with_name("golden_counts.json")


def test_seeds_release_has_every_table_and_checksums_match(seeds_release: Path) -> None:
    release = latest_release(seeds_release)
    manifest = json.loads((release / "manifest.json").read_text())
    assert set(manifest["tables"]) == set(TABLES)
    for name, info in manifest["tables"].items():
        frame = pd.read_parquet(release / info["path"])
        assert list(frame.columns) == TABLES[name].column_names
        assert len(frame) == info["rows"]
    assert {i["path"] for i in manifest["inputs"]} == {p.name for p in SEEDS.iterdir()}
    assert all(v["success"] for v in manifest["validation"].values())
    assert "corpus_assertions" in manifest["validation"]
    results = json.loads((release / "validation" / "results.json").read_text())
    assert results["suites"]["corpus_assertions"]["warnings"] == []


def test_every_quote_is_its_source_slice(seeds_release: Path) -> None:
    release = latest_release(seeds_release)
    texts = pd.read_parquet(release / "documents.parquet").set_index("doc_id")["source_text"]
    for name in FACT_TABLES:
        facts = pd.read_parquet(release / f"{name}.parquet")
        for row in facts.itertuples():
            assert texts[row.doc_id][row.char_start : row.char_end] == row.quote


def test_fact_counts_per_document_match_golden(seeds_release: Path) -> None:
    release = latest_release(seeds_release)
    counts = {
        name: pd.read_parquet(release / f"{name}.parquet")["source_path"]
        .value_counts()
        .sort_index()
        .to_dict()
        for name in ("money", "quantities", "dates")
    }
    assert counts == json.loads(GOLDEN.read_text())


def test_second_run_is_up_to_date_and_creates_nothing(
    seeds_release: Path, prefect: PrefectEnv
) -> None:
    before = sorted(p.name for p in (seeds_release / "releases").iterdir())
    result = run_cli("run", "--input", str(SEEDS), "--output", str(seeds_release), prefect=prefect)
    assert result.returncode == 0
    assert "up to date" in result.stdout
    assert sorted(p.name for p in (seeds_release / "releases").iterdir()) == before


def test_the_run_records_the_batches_it_used(seeds_release: Path) -> None:
    from pipeline.workcache import read_live

    live = read_live(seeds_release / ".work")
    assert live is not None
    batches, anchors = live
    on_disk = {p.name for p in (seeds_release / ".work" / "batches").iterdir()}
    assert batches and batches <= on_disk
    assert anchors == {p.name for p in (seeds_release / ".work" / "slots").iterdir()}


def test_validate_and_releases_commands(
    seeds_release: Path, prefect: PrefectEnv, tmp_path: Path
) -> None:
    report = tmp_path / "report"  # else a folder of its own under the system temp folder
    valid = run_cli(
        "validate", str(latest_release(seeds_release)), "--report", str(report), prefect=prefect
    )
    assert valid.returncode == 0, valid.stdout
    assert (report / "results.json").is_file()
    listed = run_cli("releases", "--output", str(seeds_release), prefect=prefect)
    assert listed.returncode == 0 and listed.stdout.startswith("* ")


def test_bad_inputs_are_quarantined_and_the_run_goes_on(
    tmp_path: Path, prefect: PrefectEnv
) -> None:
    inputs = tmp_path / "in"
    (inputs / "more").mkdir(parents=True)
    (inputs / "page.html").write_text(
        "<html><head><title>Embassy news</title><script>x='$1 billion'</script></head><body>"
        "<p>On June 3, 2021, the embassy donated <b>$2.5&nbsp;million</b> and 40 "
        "ambulances.</p></body></html>"
    )
    (inputs / "more" / "u16.txt").write_bytes(
        codecs.BOM_UTF16_LE + "The agency invested $3 million in 2019.".encode("utf-16-le")
    )
    (inputs / "blob.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x01\x02")
    (inputs / "empty.md").write_bytes(b"")
    outside = tmp_path / "secret.txt"
    outside.write_text("outside")
    (inputs / "link.txt").symlink_to(outside)
    output = tmp_path / "out"
    result = run_cli("run", "--input", str(inputs), "--output", str(output), prefect=prefect)
    assert result.returncode == 0, result.stderr[-3000:]
    release = latest_release(output)
    quarantine = pd.read_parquet(release / "quarantine.parquet")
    assert dict(zip(quarantine["source_path"], quarantine["reason"], strict=True)) == {
        "blob.txt": "binary",
        "empty.md": "empty",
        "link.txt": "symlink_outside_input",
    }
    money = pd.read_parquet(release / "money.parquet")
    assert sorted(money["quote"]) == ["$2.5&nbsp;million", "$3 million"]
    documents = pd.read_parquet(release / "documents.parquet").set_index("source_path")
    assert documents.loc["more/u16.txt", "encoding"] == "utf-16-le-bom"
    assert documents.loc["page.html", "title"] == "Embassy news"


def test_failing_validation_publishes_nothing(tmp_path: Path, prefect: PrefectEnv) -> None:
    expectations = tmp_path / "expectations"
    shutil.copytree(PROJECT_ROOT / "expectations", expectations)
    suite = json.loads((expectations / "money.json").read_text())
    suite["expectations"].append(
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "amount", "max_value": 1.0},
        }
    )
    (expectations / "money.json").write_text(json.dumps(suite))
    output = tmp_path / "out"
    result = run_cli(
        "run",
        "--input",
        str(SEEDS),
        "--output",
        str(output),
        prefect=prefect,
        PIPELINE_EXPECTATIONS=str(expectations),
    )
    assert result.returncode == 1
    assert "expect_column_values_to_be_between" in result.stderr
    assert not (output / "LATEST").exists()
    assert not (output / "releases").exists() or not any((output / "releases").iterdir())
    failed = list((output / "failed").iterdir())
    assert len(failed) == 1 and (failed[0] / "validation" / "results.json").is_file()


def test_failing_assertion_and_accuracy_gate_publish_nothing(
    tmp_path: Path, prefect: PrefectEnv
) -> None:
    text = (
        "Joint Statement\n\nOn May 9, 2024, the United States announced $65 million in "
        "assistance and the transfer of nine helicopters to Peru.\n"
    )
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(text)
    expectations = tmp_path / "expectations"
    shutil.copytree(PROJECT_ROOT / "expectations", expectations)
    (expectations / "assertions.yaml").write_text(
        "assertions:\n"
        "  - {name: too_few_facts, check: min_facts_per_document, severity: failure,\n"
        "     min_chars: 10, min_facts: 1000}\n"
    )
    # "nine" as a gold money record: a miss, so money F1 is 2/3
    records = [("$65 million", 65e6), ("nine", None)]
    gold = {
        "money": [
            {"doc": "a.txt", "quote": q, "char_start": text.index(q), "amount_usd": v}
            for q, v in records
        ],
        "quantity": [],
        "date": [],
    }
    (tmp_path / "gold.json").write_text(json.dumps(gold))
    output = tmp_path / "out"
    result = run_cli(
        "run",
        "--input",
        str(tmp_path / "in"),
        "--output",
        str(output),
        prefect=prefect,
        PIPELINE_EXPECTATIONS=str(expectations),
        PIPELINE_GOLD=str(tmp_path / "gold.json"),
    )
    assert result.returncode == 1, result.stderr[-3000:]
    assert "too_few_facts on documents" in result.stderr
    assert "min_f1 on money: F1 0.667" in result.stderr
    assert not (output / "LATEST").exists() and not (output / "releases").exists()
    [failed] = list((output / "failed").iterdir())
    results = json.loads((failed / "validation" / "results.json").read_text())
    assert not results["suites"]["corpus_assertions"]["success"]
    assert not results["suites"]["accuracy"]["success"]


def test_missing_input_folder_is_a_usage_error(tmp_path: Path, prefect: PrefectEnv) -> None:
    result = run_cli(
        "run",
        "--input",
        str(tmp_path / "nope"),
        "--output",
        str(tmp_path),
        prefect=prefect,
    )
    assert result.returncode == 2
    assert "does not exist" in result.stderr
