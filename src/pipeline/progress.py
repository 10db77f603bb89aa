"""Progress of a run: the flow reports stages and finished batches, the command line shows them.

The flow calls ``stage`` at each stage boundary and ``advance`` as each batch finishes. By
default a silent reporter swallows both, so the library, the tests, scripts and CI logs see
nothing; ``pipeline run`` installs a ``RichReporter`` with ``reporting`` only when a person
watches (stderr is a terminal, no ``--quiet`` or ``--json``: ``wants_progress``). The flow
therefore never imports rich nor decides anything about display.

One reporter serves the whole process: Prefect runs the flow and its tasks in threads of
this process (never in the worker processes, which do not report), and rich's ``Progress``
is thread-safe.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID

# What a person reads for each stage; the keys are the stage names of `pipeline run --json`.
LABELS = {
    "start": "starting Prefect and the flow",
    "plan": "hashing inputs",
    "count_lines": "counting short lines (page chrome)",
    "read_clean_extract": "reading, cleaning, extracting",
    "assemble_dedup_claims": "assembling: duplicates, claims",
    "validate": "validating",
    "publish": "publishing",
}


def label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " "))


class Reporter(Protocol):
    def stage(self, name: str, total: int | None) -> None:
        """A new stage began (the previous one ended); ``total`` batches when counted."""

    def advance(self, steps: int) -> None:
        """``steps`` more batches of the current stage finished."""

    def close(self, finished: bool) -> None:
        """The run ended; ``finished`` is False when it stopped on an error mid-stage."""


class Silent:
    """The default: shows nothing."""

    def stage(self, name: str, total: int | None) -> None:
        pass

    def advance(self, steps: int) -> None:
        pass

    def close(self, finished: bool) -> None:
        pass


_reporter: Reporter = Silent()


def stage(name: str, total: int | None = None) -> None:
    _reporter.stage(name, total)


def advance(steps: int = 1) -> None:
    _reporter.advance(steps)


@contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Send the flow's progress to ``reporter`` for the block, then close it (errors too)."""
    global _reporter
    previous = _reporter
    _reporter = reporter
    finished = False
    try:
        yield reporter
        finished = True
    finally:
        _reporter = previous
        reporter.close(finished)


def wants_progress(stream: TextIO, *, quiet: bool, json: bool) -> bool:
    """A live display only for a person at a terminal: never for scripts, pipes or CI logs."""
    if quiet or json:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


class RichReporter:
    """One line per stage on stderr: spinner, label, bar, ``done/total batches``, time.

    Finished stages keep their line (with the seconds they took), so the terminal shows
    where the time went once the run is over. Stages without a count get a pulsing bar.
    """

    def __init__(self, console: Console | None = None, *, auto_refresh: bool = True) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            SpinnerColumn(finished_text="[green]✓[/green]"),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            TimeElapsedColumn(),
            console=console if console is not None else Console(stderr=True),
            auto_refresh=auto_refresh,
        )
        self._task: TaskID | None = None
        self._progress.start()

    def stage(self, name: str, total: int | None) -> None:
        self._finish_current()
        self._task = self._progress.add_task(label(name), total=total, count=_count(0, total))

    def advance(self, steps: int) -> None:
        if self._task is None:
            return
        self._progress.advance(self._task, steps)
        task = self._progress.tasks[self._task]
        total = None if task.total is None else int(task.total)
        self._progress.update(self._task, count=_count(int(task.completed), total))

    def close(self, finished: bool) -> None:
        # A stage cut short by an error keeps its partial bar and no tick: the error
        # message printed next refers to it.
        if finished:
            self._finish_current()
        self._progress.stop()

    def _finish_current(self) -> None:
        """Mark the running stage done, which stops its clock and its spinner."""
        if self._task is None:
            return
        task = self._progress.tasks[self._task]
        if task.total is None:
            self._progress.update(self._task, total=1, completed=1)
        else:
            total = int(task.total)
            self._progress.update(self._task, completed=total, count=_count(total, total))
        self._task = None


def _count(done: int, total: int | None) -> str:
    return "" if total is None else f"{done}/{total} batches"
