"""What a release is built from: inputs, code and config, each reduced to a hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pipeline
from pipeline.ingest.readers import InputFile, discover
from pipeline.publish import hashcache
from pipeline.runtime import gc_paused

_CODE_SUFFIXES = {".py", ".yaml", ".yml", ".json", ".csv"}
# Tools that never shape a release's content: editing them must not force a new release.
_NOT_RELEASE_CODE = {
    "cli.py",
    "bench.py",
    "bench_run.py",
    "evaluate.py",
    "reader.py",
    # locking, cleanup, crash hooks and verify/rollback/gc: how a release is kept, not made
    "lock.py",
    "recovery.py",
    "faults.py",
    "ops.py",
    # object storage at the edges of a run: where a release is copied, not what it holds
    "remote.py",
    "remote_cli.py",
    "urls.py",
    # how a run is shown, scheduled and placed (Prefect server, Dask), not what it makes
    "cli_support.py",
    "progress.py",
    "server.py",
    "runners.py",
    "serve.py",
    "scheduled.py",
}


@dataclass(frozen=True, slots=True)
class InputRecord:
    path: str
    sha256: str | None  # None when the file cannot be read
    bytes: int | None

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "sha256": self.sha256, "bytes": self.bytes}


def hash_input(item: InputFile) -> InputRecord:
    """sha256 of one input, streamed (never the whole file in memory)."""
    if item.problem is not None:
        return InputRecord(item.path, None, None)
    digest = hashlib.sha256()
    size = 0
    try:
        with item.absolute.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    except OSError:
        return InputRecord(item.path, None, None)
    return InputRecord(item.path, digest.hexdigest(), size)


def scan_inputs(input_dir: Path, hash_cache: Path | None = None) -> tuple[InputRecord, ...]:
    """Every input file with its sha256.

    With ``hash_cache`` (see ``publish.hashcache``) a file whose size, mtime and inode are
    those kept from an earlier scan is not read again, and the cache is brought up to date.
    """
    with gc_paused():  # records, stats and paths by the hundred thousand: no cycles
        return _scan_inputs(input_dir, hash_cache)


def _scan_inputs(input_dir: Path, hash_cache: Path | None) -> tuple[InputRecord, ...]:
    known = hashcache.load(hash_cache) if hash_cache is not None else {}
    records: list[InputRecord] = []
    seen: dict[str, hashcache.Known] = {}
    for item in discover(input_dir):
        stat = hashcache.stat_of(item.absolute) if item.problem is None else None
        hit = known.get(item.path)
        if stat is not None and hit is not None and hit.stat == stat:
            record = InputRecord(item.path, hit.sha256, stat.size)
        else:
            record = hash_input(item)
        if stat is not None and record.sha256 is not None:
            seen[item.path] = hashcache.Known(stat, record.sha256)
        records.append(record)
    if hash_cache is not None:
        kept = hashcache.remembered(seen)
        if kept != known:
            hashcache.save(hash_cache, kept)
    return tuple(records)


def input_fingerprint(records: Iterable[InputRecord]) -> str:
    lines = sorted(f"{r.path}\t{r.sha256}" for r in records)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def code_version(expectations_dir: Path, extra_roots: Iterable[Path] = ()) -> str:
    """Hash of the pipeline's source, resources and expectation suites."""
    roots = [Path(pipeline.__file__).parent, expectations_dir, *extra_roots]
    digest = hashlib.sha256(pipeline.__version__.encode())
    for root in roots:
        if not root.exists():
            continue
        for path in sorted(
            p
            for p in root.rglob("*")
            if p.suffix in _CODE_SUFFIXES and p.name not in _NOT_RELEASE_CODE
        ):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def run_fingerprint(inputs_fp: str, code: str, config: dict[str, object]) -> str:
    """Equal fingerprints mean the release would be identical: nothing to publish."""
    payload = json.dumps({"inputs": inputs_fp, "code": code, "config": config}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()
