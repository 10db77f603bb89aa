"""``pipeline serve``: ``pipeline run`` on a schedule, as a Prefect deployment served here.

Prefect schedules only on a real API (on the ephemeral one ``serve`` logs "Cannot schedule
flows on an ephemeral server" and never runs), so this uses ``PREFECT_API_URL`` or starts
``prefect server start`` on loopback for as long as it serves (``pipeline.server``). The
deployment runs ``flows/scheduled.py:pipeline_run``, which is ``pipeline run`` itself: the
lock, the up-to-date check and publishing only validated releases come with it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import warnings
from pathlib import Path
from typing import Any

from pipeline.remote_cli import default_work_dir, env_location
from pipeline.settings import Settings
from pipeline.urls import is_url, location

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_NAME = "scheduled"


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], defaults: Settings
) -> None:
    serve = commands.add_parser(
        "serve",
        help="run 'pipeline run' on a schedule (a Prefect deployment served by this process)",
        description="Serve a Prefect deployment of 'pipeline run --input ... --output ...' "
        "on a cron or interval schedule until interrupted (Ctrl-C). Uses the Prefect server "
        "at PREFECT_API_URL, or starts one on 127.0.0.1 for as long as it serves. Each "
        "scheduled run is exactly 'pipeline run': it waits for the output folder's lock, "
        "publishes nothing when the inputs are unchanged and publishes only validated "
        "releases; a run that fails shows as a failed flow run.",
    )
    when = serve.add_mutually_exclusive_group(required=True)
    when.add_argument(
        "--cron",
        metavar="EXPR",
        help='cron expression of the run times, e.g. "0 6 * * *" (06:00 every day)',
    )
    when.add_argument(
        "--interval",
        type=float,
        metavar="SECONDS",
        help="run every SECONDS seconds instead, counted from when serving starts",
    )
    serve.add_argument(
        "--timezone",
        default=None,
        metavar="TZ",
        help="IANA time zone the --cron times are in, e.g. Europe/Paris (default: UTC)",
    )
    serve.add_argument(
        "--input",
        type=location,
        default=env_location("PIPELINE_INPUT", defaults.input_dir),
        help="folder (or URL) of input documents (default: %(default)s)",
    )
    serve.add_argument(
        "--output",
        type=location,
        default=env_location("PIPELINE_OUTPUT", defaults.output_dir),
        help="output folder (or URL) holding releases/ and LATEST; URLs use the credentials "
        "of the environment (default: %(default)s)",
    )
    serve.add_argument(
        "--name",
        default=DEFAULT_NAME,
        help="deployment name; runs show as pipeline-run/NAME (default: %(default)s)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="--workers of each run (default: the run's own default)",
    )
    serve.add_argument(
        "--runner",
        choices=("local", "dask"),
        default=None,
        help="--runner of each run (default: the run's own default)",
    )
    serve.add_argument(
        "--dask-address",
        default=None,
        metavar="ADDRESS",
        help="--dask-address of each run (with --runner dask)",
    )
    serve.set_defaults(handler=serve_command)


def schedule_problem(cron: str | None, interval: float | None, timezone: str | None) -> str | None:
    """Why this schedule cannot be served, or None. Uses Prefect's own validators, so
    what passes here is what the server accepts."""
    from prefect.client.schemas.schedules import CronSchedule
    from pydantic import ValidationError

    if interval is not None:
        if not interval > 0:
            return f"--interval must be > 0 seconds, not {interval:g}"
        if timezone is not None:
            return "--timezone applies to --cron only"
        return None
    try:
        CronSchedule(cron=cron or "", timezone=timezone)
    except ValidationError as err:
        fields = {str(e["loc"][0]) if e.get("loc") else "" for e in err.errors()}
        reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in err.errors())
        if "cron" in fields:
            reasons += (
                " (a cron expression has 5 fields, minute hour day-of-month month "
                'day-of-week: "0 6 * * *" is 06:00 every day)'
            )
        return f"invalid schedule: {reasons}"
    return None


def schedule_kwargs(
    cron: str | None,
    interval: float | None,
    timezone: str | None = None,
    *,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The schedule arguments of ``Flow.serve`` / ``Flow.to_deployment``.

    An interval is anchored at ``now``: runs come every ``interval`` seconds from when
    serving starts (Prefect's default anchor, 2020-01-01, would put the first one at an
    arbitrary point of the cycle, up to a whole interval away).
    """
    from prefect.schedules import Cron, Interval

    if interval is not None:
        anchor = now or dt.datetime.now(dt.UTC)
        return {"schedule": Interval(dt.timedelta(seconds=interval), anchor_date=anchor)}
    if cron is None:
        raise ValueError("a schedule needs a cron expression or an interval")
    if timezone:
        return {"schedule": Cron(cron, timezone=timezone)}
    return {"cron": cron}


def run_parameters(args: argparse.Namespace) -> dict[str, Any]:
    """The deployment's parameters: absolute folders, since each scheduled run starts in
    a process of its own, whose working folder need not be this one."""
    parameters: dict[str, Any] = {
        name: str(value) if is_url(value) else str(Path(value).resolve())
        for name, value in (("input", args.input), ("output", args.output))
    }
    for name in ("workers", "runner", "dask_address"):
        if getattr(args, name) is not None:
            parameters[name] = getattr(args, name)
    return parameters


def next_run_times(cron: str | None, timezone: str | None, n: int = 3) -> list[dt.datetime]:
    """The next ``n`` times the server will schedule for a cron expression."""
    from prefect.server.schemas.schedules import CronSchedule

    schedule = CronSchedule(cron=cron or "", timezone=timezone)
    return list(asyncio.run(schedule.get_dates(n=n)))


def serve_command(args: argparse.Namespace) -> int:
    if problem := schedule_problem(args.cron, args.interval, args.timezone):
        print(f"pipeline serve: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if not is_url(args.input) and not Path(args.input).is_dir():
        print(f"pipeline serve: input folder {args.input} does not exist", file=sys.stderr)
        return EXIT_USAGE
    if args.dask_address and args.runner != "dask":
        print("pipeline serve: --dask-address needs --runner dask", file=sys.stderr)
        return EXIT_USAGE
    from pipeline.runtime import configure_local_runtime
    from pipeline.server import ServerError, prefect_api

    state_dir = _state_dir(args.input, args.output)
    configure_local_runtime(state_dir)
    # Checking the schedule imported Prefect, which read its settings then: read them again
    # now that PREFECT_HOME, the log levels and telemetry are set for this output.
    import prefect.context

    prefect.context.refresh_global_settings_context()
    try:
        with prefect_api(state_dir) as url:
            return _serve(args, url)
    except ServerError as err:
        print(f"pipeline serve: {err}", file=sys.stderr)
        return EXIT_FAILED


def _state_dir(input_: str | Path, output: str | Path) -> Path:
    """Where the server's database goes: the Prefect state folder of the output folder
    the scheduled runs build in (for an output URL, its local copy in the work folder)."""
    local_output = default_work_dir(input_, output) / "output" if is_url(output) else output
    return Path(local_output).resolve() / ".state"


def _serve(args: argparse.Namespace, url: str) -> int:
    from flows.scheduled import pipeline_run

    if args.cron is not None:
        times = ", ".join(
            t.isoformat(timespec="minutes") for t in next_run_times(args.cron, args.timezone)
        )
        when = f"cron {args.cron!r} ({args.timezone or 'UTC'}); next runs: {times}"
    else:
        when = f"every {args.interval:g} s from now"
    print(
        f"pipeline serve: serving pipeline-run/{args.name} ({when}) on the Prefect API at "
        f"{url}; Ctrl-C stops. Run it now: PREFECT_API_URL={url} prefect deployment run "
        f"'pipeline-run/{args.name}'",
        flush=True,
    )
    # Prefect 3.8.8's SIGTERM handler calls Runner.stop, which makes a coroutine it never
    # awaits; shutdown works regardless, so its "never awaited" warning is only noise.
    warnings.filterwarnings(
        "ignore", message="coroutine 'Runner.astop' was never awaited", category=RuntimeWarning
    )
    pipeline_run.serve(
        name=args.name,
        parameters=run_parameters(args),
        # one run at a time: a run overlapping the previous one would only wait for its lock
        limit=1,
        print_starting_message=False,
        **schedule_kwargs(args.cron, args.interval, args.timezone),
    )
    return EXIT_OK
