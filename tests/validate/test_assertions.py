"""Corpus assertions (expectations/assertions.yaml) and the optional accuracy gate."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

from pipeline.plan import make_plan
from pipeline.schemas import TABLES
from pipeline.settings import Settings
from pipeline.validate import ValidationReport, validate_release
from pipeline.validate.accuracy import GoldGate, accuracy_outcome
from pipeline.validate.assertions import (
    ASSERTIONS_FILE,
    CORPUS_SUITE,
    AssertionConfigError,
    AssertionOutcome,
    AssertionResult,
    Corpus,
    MaxQuarantineShare,
    MaxRowCountChange,
    MinFactsPerDocument,
    Parent,
    check_assertions,
    load_assertions,
    parse_assertions,
)
from pipeline.validate.run import corpus_outcome, find_parent
from pipeline.validate.suites import DEFAULT_EXPECTATIONS_DIR
from tests.validate.conftest import (
    DOC_ID,
    SOURCE_PATH,
    SOURCE_TEXT,
    Rows,
    arrow_table,
    valid_inputs,
    valid_rows,
    write_release,
)

N_FACTS = 4  # valid_rows(): one money, quantity, date and entity row


def tables_of(rows: Rows) -> dict[str, pa.Table]:
    return {name: arrow_table(name, rows[name]) for name in TABLES}


def corpus(rows: Rows | None = None, parent: Parent | None = None) -> Corpus:
    return Corpus(tables_of(rows or valid_rows()), parent, "no parent in this test")


def quarantined(*paths: str) -> list[dict[str, Any]]:
    return [
        {"source_path": p, "stage": "ingest", "reason": "binary", "message": "binary file"}
        for p in paths
    ]


def more_money(rows: Rows, n: int) -> Rows:
    """``rows`` with ``n`` money rows (copies of the first under new fact_ids)."""
    money = rows["money"][0]
    rows["money"] = [{**money, "fact_id": f"money_{i}"} for i in range(n)]
    return rows


def only(results: list[AssertionResult]) -> AssertionResult:
    [result] = results
    return result


# --- the committed file ----------------------------------------------------------------------


def test_committed_assertions_load_with_documented_names_and_severities() -> None:
    found = load_assertions(DEFAULT_EXPECTATIONS_DIR / ASSERTIONS_FILE)
    assert [(a.name, a.check, a.severity) for a in found] == [
        ("facts_in_long_documents", "min_facts_per_document", "warning"),
        ("facts_in_long_documents_blocking", "min_facts_per_document", "failure"),
        ("quarantine_share", "max_quarantine_share", "warning"),
        ("quarantine_share_blocking", "max_quarantine_share", "failure"),
        ("tables_shrinking", "max_row_count_change", "failure"),
        ("row_counts_moving", "max_row_count_change", "warning"),
    ]


def test_committed_assertions_pass_on_a_small_first_release() -> None:
    found = load_assertions(DEFAULT_EXPECTATIONS_DIR / ASSERTIONS_FILE)
    suite = AssertionOutcome(check_assertions(found, corpus())).suite()
    assert suite.success and not suite.warnings
    assert any("no parent in this test" in note for note in suite.notes)


# --- min_facts_per_document ------------------------------------------------------------------


def test_long_document_with_too_few_facts_fails_and_is_named() -> None:
    check = MinFactsPerDocument("facts", "failure", min_chars=50, min_facts=N_FACTS + 1)
    result = only(check.evaluate(corpus()))
    assert (result.status, result.table, result.count) == ("failed", "documents", 1)
    assert (result.measured, result.threshold) == (N_FACTS, N_FACTS + 1)
    assert result.sample == (
        {"doc_id": DOC_ID, "source_path": SOURCE_PATH, "n_chars": len(SOURCE_TEXT), "n_facts": 4},
    )


def test_enough_facts_passes_and_short_documents_are_not_judged() -> None:
    enough = MinFactsPerDocument("facts", "failure", min_chars=50, min_facts=N_FACTS)
    assert only(enough.evaluate(corpus())).status == "passed"
    long_only = MinFactsPerDocument("facts", "failure", min_chars=len(SOURCE_TEXT) + 1, min_facts=9)
    result = only(long_only.evaluate(corpus()))
    assert result.status == "skipped" and "no document of >=" in result.message


def test_a_share_of_short_documents_is_tolerated_up_to_max_share() -> None:
    one_of_one = MinFactsPerDocument("facts", "failure", 50, N_FACTS + 1, max_share=0.5)
    result = only(one_of_one.evaluate(corpus()))
    assert result.status == "failed" and "at most 50.00% may" in result.message
    everything = MinFactsPerDocument("facts", "failure", 50, N_FACTS + 1, max_share=1.0)
    assert only(everything.evaluate(corpus())).status == "passed"


def test_document_without_any_fact_counts_zero() -> None:
    rows = valid_rows()
    for name in ("money", "quantities", "dates", "entities"):
        rows[name] = []
    result = only(MinFactsPerDocument("facts", "failure", 50, 1).evaluate(corpus(rows)))
    assert result.status == "failed" and result.measured == 0


# --- max_quarantine_share --------------------------------------------------------------------


def test_quarantine_share_above_the_maximum_fails_with_reasons() -> None:
    rows = valid_rows()
    rows["quarantine"] = quarantined("b.bin", "c.bin")
    result = only(MaxQuarantineShare("share", "failure", max_share=0.5).evaluate(corpus(rows)))
    assert result.status == "failed" and result.table == "quarantine"
    assert result.measured == pytest.approx(2 / 3) and result.threshold == 0.5
    assert result.sample == ({"reason": "binary", "rows": 2},)


def test_quarantine_share_is_not_judged_below_min_inputs() -> None:
    rows = valid_rows()
    rows["quarantine"] = quarantined("b.bin", "c.bin")
    check = MaxQuarantineShare("share", "failure", max_share=0.5, min_inputs=4)
    result = only(check.evaluate(corpus(rows)))
    assert result.status == "skipped" and "3 input(s)" in result.message
    assert only(MaxQuarantineShare("s", "failure", 0.0).evaluate(corpus())).status == "passed"


# --- max_row_count_change --------------------------------------------------------------------


def test_table_shrinking_beyond_max_decrease_fails() -> None:
    parent = Parent("v1", {"documents": 1, "money": 4})
    check = MaxRowCountChange("shrink", "failure", ("documents", "money"), max_decrease=0.5)
    documents, money = check.evaluate(corpus(parent=parent))
    assert documents.status == "passed" and documents.measured == 0
    assert (money.status, money.table) == ("failed", "money")
    assert (money.measured, money.threshold) == (-0.75, -0.5)
    assert "1 rows against 4 in parent v1" in money.message


def test_table_growing_beyond_max_increase_fails_and_from_empty_is_infinite() -> None:
    check = MaxRowCountChange("grow", "warning", ("money",), max_increase=1.0)
    assert only(check.evaluate(corpus(parent=Parent("v1", {"money": 1})))).status == "passed"
    grown = only(check.evaluate(corpus(more_money(valid_rows(), 3), Parent("v1", {"money": 1}))))
    assert (grown.status, grown.measured, grown.threshold) == ("failed", 2.0, 1.0)
    from_empty = only(check.evaluate(corpus(parent=Parent("v1", {"money": 0}))))
    assert from_empty.status == "failed" and math.isinf(from_empty.measured or 0)
    assert from_empty.to_dict()["measured"] == "inf"  # results.json stays valid JSON


def test_unchecked_direction_and_missing_parent_are_not_failures() -> None:
    only_drop = MaxRowCountChange("drop", "failure", ("money",), max_decrease=0.1)
    grown = corpus(more_money(valid_rows(), 9), Parent("v1", {"money": 1}))
    assert only(only_drop.evaluate(grown)).status == "passed"
    no_table = only(only_drop.evaluate(corpus(parent=Parent("v1", {}))))
    assert no_table.status == "skipped" and "has no money table" in no_table.message
    no_parent = only(only_drop.evaluate(corpus()))
    assert no_parent.status == "skipped" and "no parent in this test" in no_parent.message


# --- severity ------------------------------------------------------------------------------


@pytest.mark.parametrize("severity", ["failure", "warning"])
def test_severity_decides_whether_a_failed_assertion_blocks(severity: str) -> None:
    config = {
        "assertions": [
            {
                "name": "too_few_facts",
                "check": "min_facts_per_document",
                "severity": severity,
                "min_chars": 10,
                "min_facts": 100,
            }
        ]
    }
    suite = AssertionOutcome(check_assertions(parse_assertions(config), corpus())).suite()
    report = ValidationReport.from_outcomes({CORPUS_SUITE: suite})
    blocked = severity == "failure"
    assert report.success is not blocked
    listed = report.failures if blocked else report.warnings
    assert [(f.expectation, f.table, f.measured, f.threshold) for f in listed] == [
        ("too_few_facts", "documents", 4.0, 100.0)
    ]
    text = report.describe_failures()
    assert "too_few_facts on documents" in text and "measured 4, threshold 100" in text
    assert ("warning: corpus_assertions" in text) is not blocked


# --- the file: loading and its errors --------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        ({"check": "max_quarantine_share", "severity": "failure", "max_share": 1}, "'name'"),
        ({"name": "x", "check": "nope", "severity": "failure"}, "'check' must be one of"),
        ({"name": "x", "check": "max_quarantine_share", "max_share": 1}, "'severity'"),
        ({"name": "x", "check": "max_quarantine_share", "severity": "failure"}, "'max_share'"),
        (
            {"name": "x", "check": "max_quarantine_share", "severity": "warning", "max_share": -1},
            "non-negative",
        ),
        (
            {"name": "x", "check": "max_quarantine_share", "severity": "failure", "max": 1},
            "unknown key(s) max",
        ),
        (
            {
                "name": "x",
                "check": "min_facts_per_document",
                "severity": "failure",
                "min_chars": 1.5,
                "min_facts": 1,
            },
            "'min_chars' must be a non-negative integer",
        ),
        ({"name": "x", "check": "max_row_count_change", "severity": "failure"}, "max_decrease"),
        (
            {
                "name": "x",
                "check": "max_row_count_change",
                "severity": "failure",
                "tables": ["nope"],
                "max_decrease": 0.5,
            },
            "'tables' must list tables",
        ),
    ],
)
def test_malformed_entries_are_named(entry: dict[str, Any], error: str) -> None:
    with pytest.raises(AssertionConfigError, match="assertions\\[0\\]") as raised:
        parse_assertions({"assertions": [entry]})
    assert error in str(raised.value)


def test_duplicate_names_and_a_wrong_top_level_are_errors() -> None:
    entry = {"name": "x", "check": "max_quarantine_share", "severity": "failure", "max_share": 1}
    with pytest.raises(AssertionConfigError, match="unique"):
        parse_assertions({"assertions": [entry, entry]})
    with pytest.raises(AssertionConfigError, match="'assertions' list"):
        parse_assertions([entry])


def release_with_assertions(tmp_path: Path, text: str | None) -> Path:
    """A valid release and an expectations folder whose assertions.yaml is ``text``."""
    expectations = tmp_path / "expectations"
    expectations.mkdir()
    if text is not None:
        (expectations / ASSERTIONS_FILE).write_text(text, encoding="utf-8")
    return write_release(tmp_path / "release", valid_rows(), valid_inputs())


@pytest.mark.parametrize(
    ("text", "expectation"),
    [(None, "assertions_present"), ("assertions: {", "assertions_valid")],
)
def test_missing_or_unreadable_file_fails_validation(
    tmp_path: Path, text: str | None, expectation: str
) -> None:
    release = release_with_assertions(tmp_path, text)
    suite, _ = corpus_outcome(release, tmp_path / "expectations", tables_of(valid_rows()))
    assert not suite.success
    assert [f.expectation for f in suite.failures] == [expectation]
    assert ASSERTIONS_FILE in (suite.failures[0].error or "")


def test_an_empty_list_is_an_explicit_note(tmp_path: Path) -> None:
    release = release_with_assertions(tmp_path, "assertions: []\n")
    suite, raw = corpus_outcome(release, tmp_path / "expectations", tables_of(valid_rows()))
    assert suite.success and suite.evaluated == 0
    assert suite.notes == [f"no assertions in {tmp_path / 'expectations' / ASSERTIONS_FILE}"]
    assert raw["results"] == []


# --- the parent release ----------------------------------------------------------------------


def set_parent(release: Path, parent: str | None) -> None:
    manifest = json.loads((release / "manifest.json").read_text())
    manifest["parent_version"] = parent
    (release / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("folder", ["releases", ".staging", "failed"])
def test_parent_is_found_beside_the_release_or_in_releases(tmp_path: Path, folder: str) -> None:
    out = tmp_path / "out"
    write_release(out / "releases" / "v1", more_money(valid_rows(), 3), valid_inputs())
    child = write_release(out / folder / "v2", valid_rows(), valid_inputs())
    set_parent(child, "v1")
    parent, reason = find_parent(child)
    assert parent is not None and reason == ""
    assert parent.version == "v1" and set(parent.rows) == set(TABLES)
    assert (parent.rows["money"], parent.rows["documents"], parent.rows["quarantine"]) == (3, 1, 0)


def test_no_parent_says_why(tmp_path: Path) -> None:
    release = write_release(tmp_path / "releases" / "v2", valid_rows(), valid_inputs())
    assert find_parent(release) == (None, "the manifest names no parent_version (first release)")
    set_parent(release, "v1")
    parent, reason = find_parent(release)
    assert parent is None and reason.startswith("parent release v1 not found beside")


# --- the accuracy gate -----------------------------------------------------------------------


def gold(money_quotes: list[str]) -> dict[str, Any]:
    """A gold file for valid_rows(): the date, the quantity and money at ``money_quotes``."""

    def record(quote: str) -> dict[str, Any]:
        return {"doc": SOURCE_PATH, "quote": quote, "char_start": SOURCE_TEXT.index(quote)}

    return {
        "documents": [{"doc": SOURCE_PATH}],
        "money": [{**record(q), "amount_usd": 5e6} for q in money_quotes],
        "quantity": [{**record("120 jobs"), "value": 120}],
        "date": [{**record("9 May 2024"), "iso": "2024-05-09"}],
    }


def write_gold(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_accuracy_below_min_f1_fails_naming_the_kind(tmp_path: Path) -> None:
    # "120 jobs" as a gold money record: a miss, so money recall 0.5 and F1 2/3
    path = write_gold(tmp_path / "gold.json", gold(["$5 million", "120 jobs"]))
    suite, raw = accuracy_outcome(tables_of(valid_rows()), GoldGate(path, 0.9))
    assert not suite.success and suite.evaluated == 3
    [failure] = suite.failures
    assert (failure.expectation, failure.table) == ("min_f1", "money")
    assert failure.measured == pytest.approx(2 / 3) and failure.threshold == 0.9
    assert "F1 0.667" in failure.describe() and "threshold 0.9" in failure.describe()
    assert failure.sample[0]["type"] == "miss" and failure.sample[0]["quote"] == "120 jobs"
    assert raw["kinds"]["money"]["f1"] == pytest.approx(2 / 3) and raw["min_f1"] == 0.9
    passing, _ = accuracy_outcome(tables_of(valid_rows()), GoldGate(path, 0.6))
    assert passing.success


def test_unreadable_gold_file_fails_the_gate(tmp_path: Path) -> None:
    suite, _ = accuracy_outcome(tables_of(valid_rows()), GoldGate(tmp_path / "no.json", 0.9))
    assert not suite.success
    assert suite.failures[0].expectation == "gold_readable"
    assert "does not exist" in (suite.failures[0].error or "")


def test_gold_settings_reach_the_plan_and_the_up_to_date_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(SOURCE_TEXT)
    without = make_plan(Settings(tmp_path / "in", tmp_path / "out"))
    assert without.gold is None
    path = write_gold(tmp_path / "gold.json", gold(["$5 million"]))
    monkeypatch.setenv("PIPELINE_GOLD", str(path))
    monkeypatch.setenv("PIPELINE_GOLD_MIN_F1", "0.95")
    settings = Settings(tmp_path / "in", tmp_path / "out")
    plan = make_plan(settings)
    assert plan.gold == GoldGate(path.resolve(), 0.95)
    assert plan.run_fingerprint != without.run_fingerprint
    write_gold(path, gold([]))
    assert make_plan(settings).run_fingerprint != plan.run_fingerprint
    monkeypatch.setenv("PIPELINE_GOLD_MIN_F1", "1.5")
    with pytest.raises(ValueError, match="PIPELINE_GOLD_MIN_F1"):
        Settings()


# --- through validate_release (one GX run) ---------------------------------------------------

FAILING_CONFIG = {
    "assertions": [
        {
            "name": "too_few_facts",
            "check": "min_facts_per_document",
            "severity": "failure",
            "min_chars": 10,
            "min_facts": 10,
        },
        {
            "name": "any_quarantine",
            "check": "max_quarantine_share",
            "severity": "warning",
            "max_share": 0.0,
        },
        {
            "name": "money_shrinking",
            "check": "max_row_count_change",
            "severity": "failure",
            "tables": ["documents", "money"],
            "max_decrease": 0.5,
        },
    ]
}


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> tuple[ValidationReport, Path]:
    """A staged release breaking two failure assertions and a warning, and the gold gate."""
    tmp = tmp_path_factory.mktemp("gated")
    expectations = tmp / "expectations"
    expectations.mkdir()
    for suite in DEFAULT_EXPECTATIONS_DIR.glob("*.json"):
        shutil.copy(suite, expectations)
    (expectations / ASSERTIONS_FILE).write_text(yaml.safe_dump(FAILING_CONFIG))
    out = tmp / "out"
    write_release(out / "releases" / "v1", more_money(valid_rows(), 4), valid_inputs())
    rows = valid_rows()
    rows["quarantine"] = quarantined("b.bin")
    inputs = [*valid_inputs(), {"path": "b.bin", "sha256": "0" * 64, "bytes": 3}]
    staged = write_release(out / ".staging" / "v2", rows, inputs)
    set_parent(staged, "v1")
    gate = GoldGate(write_gold(tmp / "gold.json", gold(["$5 million", "120 jobs"])), 0.9)
    report_dir = staged / "validation"
    return validate_release(staged, expectations, report_dir, gold=gate), report_dir


def test_failed_assertions_and_accuracy_fail_validation_by_name(
    gated: tuple[ValidationReport, Path],
) -> None:
    report, _ = gated
    assert not report.success
    assert {n for n, o in report.suites.items() if not o.success} == {CORPUS_SUITE, "accuracy"}
    named = {(f.expectation, f.table) for f in report.failures}
    assert named == {
        ("too_few_facts", "documents"),
        ("money_shrinking", "money"),
        ("min_f1", "money"),
    }
    assert [(w.expectation, w.measured) for w in report.warnings] == [("any_quarantine", 0.5)]
    text = report.describe_failures()
    for line in (
        "too_few_facts on documents: 1 of 1 document(s)",
        "money_shrinking on money: 1 rows against 4 in parent v1 (-75.0%)",
        "(measured -0.75, threshold -0.5)",
        "min_f1 on money: F1 0.667",
        "warning: corpus_assertions: any_quarantine on quarantine",
    ):
        assert line in text, text


def test_results_json_and_index_html_show_failures_warnings_and_notes(
    gated: tuple[ValidationReport, Path],
) -> None:
    report, report_dir = gated
    results = json.loads((report_dir / "results.json").read_text())
    corpus_json = results["suites"][CORPUS_SUITE]
    assert {f["expectation"] for f in corpus_json["failures"]} == {
        "too_few_facts",
        "money_shrinking",
    }
    assert corpus_json["warnings"][0]["threshold"] == 0.0
    accuracy = json.loads((report_dir / "suites" / "accuracy.json").read_text())
    assert accuracy["kinds"]["money"]["misses"][0]["quote"] == "120 jobs"
    page = (report_dir / "index.html").read_text()
    assert "Warnings (reported, not blocking)" in page and "any_quarantine" in page
    assert "money_shrinking" in page and "measured -0.75, threshold -0.5" in page
    assert 'href="suites/corpus_assertions.json"' in page
    assert report.to_json()[CORPUS_SUITE] == {"success": False, "evaluated": 4, "failed": 2}
