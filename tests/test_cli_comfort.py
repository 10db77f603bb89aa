"""Command line comfort: progress display, --quiet, --json, the releases table, error messages.

Everything here runs in process and without Prefect, except one e2e run (real flow, real
subprocess) that checks `pipeline run --quiet` says nothing at all on success.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from pipeline import progress
from pipeline.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from pipeline.cli_support import releases_plain, releases_table
from pipeline.plan import HANDED_OVER
from pipeline.publish.release import LATEST, MANIFEST, RELEASES, list_releases
from tests.conftest import SEEDS
from tests.e2e.conftest import run_cli
from tests.reliability_support import run_in_process

# --- progress -----------------------------------------------------------------------------


@dataclass
class Recording:
    """A reporter that remembers every call, to check what the flow reports."""

    calls: list[tuple[str, Any]] = field(default_factory=list)

    def stage(self, name: str, total: int | None) -> None:
        self.calls.append(("stage", (name, total)))

    def advance(self, steps: int) -> None:
        self.calls.append(("advance", steps))

    def close(self, finished: bool) -> None:
        self.calls.append(("close", finished))


def test_progress_is_silent_until_a_reporter_is_installed_and_restored_after() -> None:
    progress.stage("plan")  # no reporter: nothing happens, nothing fails
    progress.advance()
    recording = Recording()
    with progress.reporting(recording):
        progress.stage("read_clean_extract", 2)
        progress.advance()
        progress.advance()
    progress.stage("validate")  # after the block: silent again
    assert recording.calls == [
        ("stage", ("read_clean_extract", 2)),
        ("advance", 1),
        ("advance", 1),
        ("close", True),
    ]


def test_progress_reporter_is_closed_unfinished_when_the_run_fails() -> None:
    recording = Recording()
    with pytest.raises(RuntimeError), progress.reporting(recording):
        progress.stage("validate")
        raise RuntimeError("boom")
    assert recording.calls[-1] == ("close", False)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_shown_only_to_a_person_at_a_terminal() -> None:
    assert progress.wants_progress(_Terminal(), quiet=False, json=False)
    assert not progress.wants_progress(io.StringIO(), quiet=False, json=False)  # pipe, CI log
    assert not progress.wants_progress(_Terminal(), quiet=True, json=False)
    assert not progress.wants_progress(_Terminal(), quiet=False, json=True)


def test_rich_reporter_draws_a_bar_per_stage_with_batches_done() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)
    reporter = progress.RichReporter(console, auto_refresh=False)
    with progress.reporting(reporter):
        progress.stage("count_lines", 3)
        for _ in range(3):
            progress.advance()
        progress.stage("read_clean_extract", 3)
        progress.advance()
        assert reporter._progress.tasks[-1].completed == 1
        progress.advance(2)
        progress.stage("validate")
    text = out.getvalue()
    assert "counting short lines" in text and "reading, cleaning, extracting" in text
    assert "3/3 batches" in text and "validating" in text
    assert all(task.finished for task in reporter._progress.tasks)  # clocks stopped


def test_flow_reports_each_stage_and_each_finished_batch() -> None:
    """The flow's helpers (no Prefect run): a stage per `_timed`, an advance per result."""
    from flows.release_flow import _results, _timed

    class Done:
        def __init__(self, value: int) -> None:
            self.value = value

        def result(self) -> int:
            return self.value

    recording = Recording()
    seconds: dict[str, float] = {}
    with progress.reporting(recording), _timed(seconds, "read_clean_extract", 2):
        assert _results([Done(1), Done(2)]) == [1, 2]  # type: ignore[arg-type]
    assert recording.calls == [
        ("stage", ("read_clean_extract", 2)),
        ("advance", 1),
        ("advance", 1),
        ("close", True),
    ]
    assert set(seconds) == {"read_clean_extract"}


# --- releases -----------------------------------------------------------------------------


def _fake_release(output: Path, version: str, rows: int, validation: Any) -> None:
    """A release folder with just a manifest: what `pipeline releases` reads."""
    folder = output / RELEASES / version
    folder.mkdir(parents=True)
    tables = {name: {"rows": rows * k} for k, name in enumerate(("documents", "money"), 1)}
    manifest = {
        "version": version,
        "created_at": f"2026-05-0{version[-1]}T10:00:00Z",
        "tables": tables,
        "validation": validation,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest))


@pytest.fixture
def fabricated(tmp_path: Path) -> Path:
    ok = {"documents": {"success": True, "evaluated": 9, "failed": 0}}
    bad = {"documents": {"success": False, "evaluated": 9, "failed": 1}}
    output = tmp_path / "out"
    _fake_release(output, "20260501T100000Z-aaaa-1", 1200, ok)
    _fake_release(output, "20260502T100000Z-bbbb-2", 1234, bad)
    _fake_release(output, "20260503T100000Z-cc-3", 7, None)
    (output / LATEST).write_text("20260502T100000Z-bbbb-2\n")
    return output


def test_releases_plain_lines_are_aligned_and_mark_latest(
    fabricated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["releases", "--output", str(fabricated)]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert [line[:2] for line in lines] == ["  ", "* ", "  "]  # newest first, * on LATEST
    assert lines[1].startswith("* 20260502T100000Z-bbbb-2  2026-05-02T10:00:00Z  failed")
    assert "passed" in lines[2] and "documents=1200, money=2400" in lines[2]
    assert len({line.index("2026-05-0") for line in lines}) == 1  # one column for the time


def test_releases_json_is_one_list_with_stable_keys(
    fabricated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["releases", "--output", str(fabricated), "--json"]) == EXIT_OK
    listed = json.loads(capsys.readouterr().out)
    assert [r["version"][-1] for r in listed] == ["3", "2", "1"]
    assert all(
        list(r) == ["version", "created_at", "latest", "validation", "rows", "path"] for r in listed
    )
    assert [r["validation"] for r in listed] == [None, "failed", "passed"]
    assert [r["latest"] for r in listed] == [False, True, False]
    assert listed[1]["rows"] == {"documents": 1234, "money": 2468}


def test_releases_table_on_a_terminal(
    fabricated: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    releases_table(list_releases(fabricated), Console(file=out, width=160, color_system=None))
    table = out.getvalue()
    header = next(line for line in table.splitlines() if "version" in line)
    assert all(word in header for word in ("created", "validation", "documents", "money"))
    latest = next(line for line in table.splitlines() if "LATEST" in line)
    assert "20260502T100000Z-bbbb-2" in latest and "failed" in latest and "2,468" in latest
    narrow = io.StringIO()
    releases_table(list_releases(fabricated), Console(file=narrow, width=80, color_system=None))
    assert "…" not in narrow.getvalue()  # columns are left out, never squeezed
    assert "left out for width; `--json` has every table" in narrow.getvalue()
    # through the command: a terminal on stdout gets the table, not the plain lines
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert main(["releases", "--output", str(fabricated)]) == EXIT_OK
    assert "LATEST" in capsys.readouterr().out


def test_releases_lists_a_release_whose_manifest_is_damaged(fabricated: Path) -> None:
    damaged = fabricated / RELEASES / "20260503T100000Z-cc-3" / MANIFEST
    damaged.write_text("{not json")
    found = list_releases(fabricated)
    assert [r["validation"] for r in found] == ["unreadable manifest", "failed", "passed"]
    assert releases_plain(found)[0].startswith("  20260503T100000Z-cc-3    -")


def test_releases_on_a_missing_output_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["releases", "--output", str(tmp_path / "none")]) == EXIT_OK
    out = capsys.readouterr().out
    assert "no releases under" in out and "run `pipeline run --input DIR --output" in out


# --- --quiet and --json on real (Prefect-free) releases -----------------------------------


@pytest.fixture
def two_releases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Path]:
    """An output folder with two releases of one seed document, built with --quiet."""
    inputs, output = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    first = sorted(SEEDS.iterdir())[0]
    shutil.copy(first, inputs / first.name)
    assert run_in_process(inputs, output, "--quiet", "--workers", "1") == EXIT_OK
    (inputs / "more.txt").write_text("In 2024 the United States gave $3 million to Peru.\n")
    assert run_in_process(inputs, output, "--quiet", "--workers", "1") == EXIT_OK
    assert capsys.readouterr() == ("", "")  # published twice, said nothing
    # up to date: still nothing
    assert run_in_process(inputs, output, "--quiet") == EXIT_OK
    assert capsys.readouterr() == ("", "")
    assert not (output / ".work" / HANDED_OVER).exists()  # the flow's plan, gone after it
    yield output


def test_quiet_commands_print_nothing_on_success(
    two_releases: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = str(two_releases)
    older = sorted(p.name for p in (two_releases / RELEASES).iterdir())[0]
    assert main(["verify", older, "--output", output, "--quiet"]) == EXIT_OK
    assert main(["rollback", older, "--output", output, "--quiet"]) == EXIT_OK
    assert main(["gc", "--keep", "5", "--output", output, "--quiet"]) == EXIT_OK
    assert capsys.readouterr() == ("", "")
    assert (two_releases / LATEST).read_text().strip() == older


def test_verify_json_reports_ok_and_each_problem(
    two_releases: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    version = (two_releases / LATEST).read_text().strip()
    assert main(["verify", version, "--output", str(two_releases), "--json"]) == EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    assert doc == {
        "release": str(two_releases / RELEASES / version),
        "version": version,
        "ok": True,
        "problems": [],
    }
    (two_releases / RELEASES / version / "money.parquet").write_bytes(b"damaged")
    assert main(["verify", version, "--output", str(two_releases), "--json"]) == EXIT_FAILED
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["ok"] is False and any(p.startswith("money:") for p in doc["problems"])
    assert "mismatch" in captured.err  # the person at the terminal is told too


# --- error messages: which file, what is wrong, what to do --------------------------------


def _err(argv: list[str], capsys: pytest.CaptureFixture[str], code: int = EXIT_USAGE) -> str:
    assert main(argv) == code
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


def test_missing_input_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _err(["run", "--input", str(tmp_path / "nope"), "--output", str(tmp_path)], capsys)
    assert f"input folder {tmp_path / 'nope'} does not exist" in err
    assert "pass --input DIR (or set PIPELINE_INPUT)" in err
    assert not (tmp_path / ".lock").exists()  # refused before touching the output


def test_input_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "doc.txt").write_text("text")
    err = _err(["run", "--input", str(tmp_path / "doc.txt"), "--output", str(tmp_path)], capsys)
    assert f"input {tmp_path / 'doc.txt'} is a file, not a folder" in err


def test_empty_input_folder_is_an_error_not_an_empty_release(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = tmp_path / "in"
    (inputs / ".git").mkdir(parents=True)
    (inputs / ".git" / "config").write_text("x")  # hidden: not an input
    (inputs / ".DS_Store").write_text("x")
    (inputs / "sub").mkdir()
    err = _err(["run", "--input", str(inputs), "--output", str(tmp_path / "out")], capsys)
    assert f"input folder {inputs} holds no documents" in err
    assert "add .txt, .md, .markdown, .html or .htm files" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("option", "env"), [("--batch-size", "PIPELINE_BATCH_SIZE"), ("--workers", "PIPELINE_WORKERS")]
)
def test_batch_size_and_workers_below_one(
    option: str, env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "--input", str(SEEDS), "--output", str(tmp_path), option, "0"]
    err = _err(argv, capsys)
    assert f"{option} must be at least 1, not 0 (from the command line or {env})" in err


def test_malformed_environment_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PIPELINE_WORKERS", "two")
    err = _err(["releases"], capsys)
    assert "PIPELINE_WORKERS='two' is not a whole number; fix or unset it" in err


def test_output_that_is_a_file_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "out").write_text("not a folder")
    argv = ["run", "--input", str(SEEDS), "--output", str(tmp_path / "out")]
    err = _err(argv, capsys, EXIT_FAILED)
    assert f"storage error on '{tmp_path / 'out'}'" in err
    assert "a file stands where a folder is needed" in err and "pass --output" in err


def test_unknown_release_points_at_the_listing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in ("verify", "rollback"):
        err = _err([command, "v9", "--output", str(tmp_path)], capsys)
        assert "v9" in err and f"`pipeline releases --output {tmp_path}` lists" in err


def test_no_release_yet_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "gold.json").write_text("{}")
    err = _err(["eval", "--gold", str(tmp_path / "gold.json"), "--output", str(tmp_path)], capsys)
    assert f"run `pipeline run --input DIR --output {tmp_path}` first" in err
    err = _err(["validate", str(tmp_path)], capsys)
    assert "not a release (no manifest.json in it)" in err and "`pipeline releases`" in err


# --- one real run ---------------------------------------------------------------------------


@pytest.mark.e2e
def test_quiet_run_through_the_real_flow_prints_nothing(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    first = sorted(SEEDS.iterdir())[0]
    shutil.copy(first, inputs / first.name)
    result = run_cli(
        "run",
        "--input",
        str(inputs),
        "--output",
        str(tmp_path / "out"),
        "--quiet",
        "--workers",
        "1",
        prefect=None,  # the serverless default: its own ephemeral API
        PREFECT_HOME=str(tmp_path / "prefect"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (result.stdout, result.stderr) == ("", "")
    assert (tmp_path / "out" / LATEST).is_file()
