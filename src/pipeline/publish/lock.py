"""One run at a time per output folder: an exclusive ``flock`` on ``<output>/.lock``.

The holder writes who it is (pid, host, start time, command) into the file, so a waiting or
refused run can name it, and empties the file when it lets go. The lock is the kernel's: it is
released when the holder exits for any reason, ``kill -9`` included, so a dead run never
blocks the next one. A ``flock`` belongs to the open file, which a forked child shares: every
fork closes the child's copy (``os.register_at_fork``), so a worker process the run forked,
or a worker orphaned by its death, never keeps the lock. When the next run takes the lock
and finds the file still naming a holder, that holder died without letting go: the lock is
stale, and the run says so and takes it over (the start-of-run cleanup then removes what the
dead run left behind).

The file is never deleted (deleting a lock file races with a run opening it). ``flock``
works on local file systems; on NFS, Linux maps it to POSIX byte-range locks, which the
NFS server must support.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

LOCK = ".lock"
LOCK_TIMEOUT_ENV = "PIPELINE_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 600.0  # seconds a run waits for another run on the same output


def default_lock_timeout() -> float:
    """``PIPELINE_LOCK_TIMEOUT`` (seconds) or 600."""
    value = os.environ.get(LOCK_TIMEOUT_ENV)
    try:
        return float(value) if value else DEFAULT_LOCK_TIMEOUT
    except ValueError:  # float()'s own message does not say which variable
        raise ValueError(
            f"{LOCK_TIMEOUT_ENV}={value!r} is not a number of seconds; fix or unset it"
        ) from None


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds (or held) the lock, as written in the lock file."""

    pid: int | None
    host: str | None
    started_at: str | None
    command: str | None

    def alive(self) -> bool | None:
        """Whether the holder process still exists; None when that cannot be told here."""
        if self.pid is None or self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def describe(self) -> str:
        if self.pid is None:
            return "an unknown process"
        parts = [f"pid {self.pid} on {self.host}"]
        if self.started_at:
            parts.append(f"since {self.started_at}")
        if self.command:
            parts.append(f"({self.command})")
        return " ".join(parts)


class LockBusy(RuntimeError):
    """Another run held the lock for longer than the timeout."""

    def __init__(self, path: Path, holder: Holder, waited: float) -> None:
        self.path, self.holder, self.waited = path, holder, waited
        gone = (
            f" (no such process here any more: a process that inherited the lock holds it; "
            f"`fuser {path}` names it)"
            if holder.alive() is False
            else ""
        )
        super().__init__(
            f"output folder is locked by another run: {path} is held by {holder.describe()}"
            f"{gone}; gave up after {waited:.0f} s (raise --lock-timeout or {LOCK_TIMEOUT_ENV} "
            "to wait longer)"
        )


@dataclass(frozen=True, slots=True)
class Acquired:
    """A held lock; ``stale`` names a previous holder that died without letting go."""

    path: Path
    stale: Holder | None
    waited: float


def _parse(data: bytes) -> Holder | None:
    if not data.strip():
        return None
    try:
        info = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return Holder(None, None, None, None)
    if not isinstance(info, dict):
        return Holder(None, None, None, None)
    pid = info.get("pid")
    return Holder(
        pid if isinstance(pid, int) else None,
        info.get("host"),
        info.get("started_at"),
        info.get("command"),
    )


def read_holder(output: Path) -> Holder | None:
    """The holder named in the lock file (None when the file is empty or missing)."""
    try:
        return _parse((output / LOCK).read_bytes())
    except OSError:
        return None


_HELD: set[int] = set()  # lock file descriptors this process holds


def _forget_in_child() -> None:
    """In a forked child: close (never unlock) the parent's lock descriptors."""
    for fd in _HELD:
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_forget_in_child)


def _read_fd(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    return os.pread(fd, size, 0) if size else b""


@contextlib.contextmanager
def output_lock(
    output: Path,
    timeout: float,
    command: str = "",
    on_wait: Callable[[Holder], None] | None = None,
    poll: float = 0.1,
) -> Iterator[Acquired]:
    """Hold the output folder's lock for the ``with`` block.

    Waits up to ``timeout`` seconds (0: do not wait) for another holder, calling ``on_wait``
    once with that holder, then raises LockBusy. Creates ``output`` when missing.
    """
    output.mkdir(parents=True, exist_ok=True)
    path = output / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        started = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as err:
                if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
            holder = read_holder(output) or Holder(None, None, None, None)
            waited = time.monotonic() - started
            if waited >= timeout:
                raise LockBusy(path, holder, waited)
            if not told and on_wait is not None:
                on_wait(holder)
                told = True
            time.sleep(min(poll, max(0.0, timeout - waited)))
        stale = _parse(_read_fd(fd))
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": command or " ".join(sys.argv),
        }
        _HELD.add(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(me) + "\n").encode("utf-8"), 0)
        try:
            yield Acquired(path, stale, time.monotonic() - started)
        finally:
            os.ftruncate(fd, 0)  # a clean exit leaves an empty file: not stale
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        _HELD.discard(fd)
        os.close(fd)
