"""Input hashes kept between scans: reused only while a file's stat is unchanged."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from pipeline.ingest.readers import InputFile
from pipeline.publish import fingerprint, hashcache
from pipeline.publish.fingerprint import InputRecord, hash_input

HOUR_NS = 3600 * 10**9


def _inputs(folder: Path, texts: dict[str, str], age_ns: int = HOUR_NS) -> None:
    """Files written ``age_ns`` ago (by mtime), so they are past the racy window."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.time_ns() - age_ns
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
        os.utime(folder / name, ns=(stamp, stamp))


def _scan(
    folder: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, str | None], list[str]]:
    """Hashes by path from a scan with ``cache``, and the files it read to hash."""
    read: list[str] = []

    def recording(item: InputFile) -> InputRecord:
        read.append(item.path)
        return hash_input(item)

    monkeypatch.setattr(fingerprint, "hash_input", recording)
    records = fingerprint.scan_inputs(folder, cache)
    return {r.path: r.sha256 for r in records}, read


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_an_unchanged_file_is_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs, cache = tmp_path / "in", tmp_path / "work" / "hashes.parquet"
    _inputs(inputs, {"a.txt": "alpha", "b.txt": "beta"})
    first, read = _scan(inputs, cache, monkeypatch)
    assert read == ["a.txt", "b.txt"] and first == {"a.txt": _sha("alpha"), "b.txt": _sha("beta")}
    again, read = _scan(inputs, cache, monkeypatch)
    assert (again, read) == (first, [])


def test_a_changed_file_is_hashed_again_even_at_the_same_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs, cache = tmp_path / "in", tmp_path / "hashes.parquet"
    _inputs(inputs, {"a.txt": "alpha", "b.txt": "beta"})
    _scan(inputs, cache, monkeypatch)
    _inputs(inputs, {"a.txt": "ALPHA"}, age_ns=HOUR_NS // 2)  # same size, newer mtime
    hashes, read = _scan(inputs, cache, monkeypatch)
    assert read == ["a.txt"] and hashes["a.txt"] == _sha("ALPHA")
    (inputs / "c.txt").write_text("gamma", encoding="utf-8")
    (inputs / "b.txt").unlink()
    hashes, read = _scan(inputs, cache, monkeypatch)
    assert read == ["c.txt"] and hashes == {"a.txt": _sha("ALPHA"), "c.txt": _sha("gamma")}


def test_a_file_modified_just_now_is_not_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second write in the same mtime tick would keep the stat: such files are re-read."""
    inputs, cache = tmp_path / "in", tmp_path / "hashes.parquet"
    _inputs(inputs, {"old.txt": "old"})
    (inputs / "new.txt").write_text("new", encoding="utf-8")
    _scan(inputs, cache, monkeypatch)
    _hashes, read = _scan(inputs, cache, monkeypatch)
    assert read == ["new.txt"]
    assert set(hashcache.load(cache)) == {"old.txt"}


def test_an_unreadable_cache_means_a_full_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs, cache = tmp_path / "in", tmp_path / "hashes.parquet"
    _inputs(inputs, {"a.txt": "alpha"})
    cache.write_bytes(b"not parquet")
    hashes, read = _scan(inputs, cache, monkeypatch)
    assert read == ["a.txt"] and hashes == {"a.txt": _sha("alpha")}
    assert set(hashcache.load(cache)) == {"a.txt"}  # rewritten whole


def test_a_failed_save_is_skipped_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A concurrent run's clean-up may remove the temporary file: the scan still succeeds."""
    inputs, cache = tmp_path / "in", tmp_path / "work" / "hashes.parquet"
    _inputs(inputs, {"a.txt": "alpha"})

    def vanished(self: Path, target: Path) -> Path:
        self.unlink()
        raise FileNotFoundError(self)

    monkeypatch.setattr(Path, "replace", vanished)
    hashes, read = _scan(inputs, cache, monkeypatch)
    assert read == ["a.txt"] and hashes == {"a.txt": _sha("alpha")}
    assert list(cache.parent.iterdir()) == []
