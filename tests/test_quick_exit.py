"""quick_exit: the command's status and exit handlers kept, the interpreter's teardown skipped."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import atexit, sys
    from pipeline.quick_exit import run_then_exit

    class Torn:
        def __del__(self):
            print("torn down")  # runs only while the interpreter tears its modules down

    kept = Torn()

    def main():
        # as Prefect does once imported: a handler registered by the command's own work
        atexit.register(print, "handler ran")
        print("buffered line", end="")  # unflushed until the exit flushes it
        if sys.argv[1] == "raise":
            raise RuntimeError("broken")
        return int(sys.argv[1])

    if sys.argv[2] == "quick":
        run_then_exit(main)
    sys.exit(main())
    """
)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", SCRIPT, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_status_and_exit_handlers_are_kept_teardown_is_skipped() -> None:
    done = _run("3", "quick")
    assert done.returncode == 3
    assert done.stdout.startswith("buffered line")
    assert "handler ran" in done.stdout
    assert "torn down" not in done.stdout


def test_without_it_teardown_runs() -> None:
    """The control: the script's object is collected by a normal exit."""
    done = _run("0", "plain")
    assert done.returncode == 0
    assert "handler ran" in done.stdout and "torn down" in done.stdout


def test_a_crash_keeps_pythons_usual_exit() -> None:
    done = _run("raise", "quick")
    assert done.returncode == 1
    assert "RuntimeError: broken" in done.stderr
    assert "handler ran" in done.stdout
