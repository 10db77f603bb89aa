from __future__ import annotations

import pytest

from pipeline.cli import _parser, main
from tests.conftest import PROJECT_ROOT

COMMANDS = (
    "run",
    "validate",
    "eval",
    "releases",
    "bench",
    "verify",
    "rollback",
    "gc",
    "serve",
    "diff",
)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_is_documented(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert command in capsys.readouterr().out
    assert f"`pipeline {command}" in (PROJECT_ROOT / "README.md").read_text()


def test_parser_knows_exactly_the_documented_commands() -> None:
    subparsers = next(a for a in _parser()._actions if a.dest == "command")
    assert set(subparsers.choices) == set(COMMANDS)  # type: ignore[arg-type]


def test_bad_usage_exits_2() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2


def test_validate_rejects_a_folder_that_is_not_a_release(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["validate", str(tmp_path)]) == 2
    assert "not a release" in capsys.readouterr().err


def test_releases_on_empty_output(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["releases", "--output", str(tmp_path)]) == 0
    assert "no releases" in capsys.readouterr().out
