"""Object storage at the edges of a run: mirror the input in, push a release out.

A run is crash-safe because of what a local file system gives it: fsync, an atomic rename
of a whole release folder, ``flock`` and the start-of-run recovery. Object storage has none
of them (no rename, no lock, no fsync), so a run whose ``--input`` or ``--output`` is a URL
(``s3://bucket/prefix``, or any fsspec URL) builds in local folders exactly as before and
talks to the store only at its edges:

- ``sync_input`` mirrors every object under the input URL into a local folder, downloading
  only objects whose size or ETag (or checksum, or modification time, whatever the store
  reports) changed since the last sync and deleting local files whose object is gone. Keys
  keep their path relative to the prefix, so doc ids (hashes of the source path relative to
  the input folder) are the same as for a local copy, and the same from run to run.
- ``pull_latest`` makes the local output's ``LATEST`` name what the remote ``LATEST`` names,
  with that release's ``manifest.json``: all the up-to-date check reads, so a run with
  nothing to do downloads two small objects. ``fetch_release`` adds the release's tables
  when a build needs them (the changelog compares them, the row-count assertions read their
  footers).
- ``push_release`` uploads ``releases/<version>/`` (``manifest.json`` last, as a local
  publish writes it last), checks every object's size (and MD5 ETag when the store gives
  one), and only then replaces ``LATEST``: one PUT of a small object, atomic on object
  storage, so a reader never sees ``LATEST`` name an incomplete release. On S3 the swap is
  a compare-and-swap (``If-Match`` on the ETag read before the upload, ``If-None-Match: *``
  for a first release): two runs on different machines cannot both move ``LATEST`` from
  the same parent; the loser's release stays uploaded but unnamed, and it says so.

Credentials and endpoint come from the backend's usual configuration (s3fs: the
``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN`` / ``AWS_PROFILE``
/ ``AWS_DEFAULT_REGION`` / ``AWS_ENDPOINT_URL`` variables and ``~/.aws``; fsspec: the
``FSSPEC_S3_ENDPOINT_URL``-style variables and ``~/.config/fsspec``) and from explicit
storage options (``--storage-option key=value`` on the command line), which win.

fsspec is imported on first use. ``is_url`` and friends live in ``pipeline.urls``, which
imports nothing heavy (the command line parses its arguments with them).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pipeline.publish.release import (
    LATEST,
    MANIFEST,
    RELEASES,
    fsync_dir,
    read_manifest,
    replace_latest,
    sha256_file,
    write_latest_tmp,
)
from pipeline.urls import is_url, location, parse_storage_option, storage_options

_MD5 = re.compile(r"^[0-9a-f]{32}$")
# Info keys that change when an object's content changes, most specific first (S3, GCS,
# Azure, local/memory file systems). Size alone misses same-size edits.
_CHANGE_KEYS = ("ETag", "etag", "md5Hash", "crc32c", "content_md5", "LastModified", "mtime")
_INDEX = "index.json"
_FILES = "files"
_PART = ".part"  # downloads land in hidden ``.<name>.<token>.part`` files (ingest skips them)


__all__ = [
    "RemoteError",
    "Store",
    "Synced",
    "fetch_release",
    "is_url",
    "list_releases",
    "location",
    "parse_storage_option",
    "pull_latest",
    "push_release",
    "storage_options",
    "sync_input",
]


class RemoteError(RuntimeError):
    """A storage operation on a URL failed; the message names the URL or object."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # 2 for a missing bucket or input prefix (bad usage)


@contextlib.contextmanager
def _errors(what: str, missing_exit: int = 1) -> Iterator[None]:
    """Turn a backend's error (botocore, aiohttp, OSError...) into a RemoteError naming ``what``."""
    try:
        yield
    except RemoteError:
        raise
    except FileNotFoundError as err:
        raise RemoteError(f"{what}: not found ({err})", missing_exit) from err
    except PermissionError as err:
        raise RemoteError(
            f"{what}: access denied ({err}); check the credentials (AWS_ACCESS_KEY_ID / "
            "AWS_PROFILE, or --storage-option)"
        ) from err
    except Exception as err:  # each backend raises its own types; the message names the URL
        raise RemoteError(f"{what}: {type(err).__name__}: {err}") from err


@dataclass(frozen=True, slots=True)
class Store:
    """A URL's file system and the path of the URL in it."""

    url: str  # as the user wrote it, without a trailing slash: used in messages
    fs: Any  # an fsspec AbstractFileSystem (fsspec has no type hints)
    root: str  # the URL's path inside ``fs`` (``bucket/prefix``)

    @classmethod
    def open(cls, url: str, options: Mapping[str, Any] | None = None) -> Store:
        # No listing cache: a long-lived process (a notebook) must see a new LATEST, and a
        # run must see what it just uploaded.
        kwargs = {"use_listings_cache": False, **(options or {})}
        with _errors(f"cannot open {url}"):
            fs, root = _filesystem(url, kwargs)
        return cls(url.rstrip("/"), fs, str(root).rstrip("/"))

    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts]) if parts else self.root

    def url_of(self, *parts: str) -> str:
        return "/".join([self.url, *parts]) if parts else self.url

    def read(self, *parts: str) -> bytes | None:
        """An object's bytes; None when there is no such object."""
        with _errors(f"cannot read {self.url_of(*parts)}"):
            try:
                data: bytes = self.fs.cat_file(self.path(*parts))
            except FileNotFoundError:
                return None
        return data

    def listing(self, *parts: str, missing_exit: int = 1) -> dict[str, dict[str, Any]]:
        """Every object under ``parts`` by key relative to it, with the backend's info."""
        base = self.path(*parts)
        with _errors(f"cannot list {self.url_of(*parts)}", missing_exit):
            found: dict[str, dict[str, Any]] = self.fs.find(base, detail=True, withdirs=False)
        objects: dict[str, dict[str, Any]] = {}
        for name, info in found.items():
            if info.get("type") == "directory" or name.endswith("/"):
                continue  # folder markers some tools write: not objects with content
            if name == base:
                raise RemoteError(f"{self.url_of(*parts)} is an object, not a prefix (a folder)")
            if name.startswith(base + "/"):
                objects[name[len(base) + 1 :]] = info
        return objects

    def put_file(self, local: Path, *parts: str) -> None:
        self.fs.put_file(str(local), self.path(*parts))

    def get_file(self, local: Path, *parts: str) -> None:
        self.fs.get_file(self.path(*parts), str(local))

    def read_latest(self) -> tuple[str | None, str | None]:
        """(version LATEST names or None, its ETag or None) - the ETag read first, so a
        compare-and-swap with it fails when LATEST changed after it was read."""
        tag = None
        with _errors(f"cannot read {self.url_of(LATEST)}"):
            try:
                tag = self.fs.info(self.path(LATEST)).get("ETag")
            except FileNotFoundError:
                return None, None
        data = self.read(LATEST)
        if data is None:
            return None, None
        version = data.decode("utf-8").strip()
        if not _plain_name(version):
            raise RemoteError(f"{self.url_of(LATEST)} names {version!r}, not a release version")
        return version or None, tag


_FILESYSTEMS: dict[str, Any] = {}
_STORAGE_ENV = ("AWS_", "FSSPEC_", "GOOGLE_", "AZURE_")  # what backends read credentials from


def _filesystem(url: str, kwargs: Mapping[str, Any]) -> tuple[Any, str]:
    """The file system of ``url`` and the URL's path in it, reused while the options and the
    storage environment variables stay the same.

    Creating an s3fs client costs about half a second (botocore loads its service models)
    and a run opens the store a few times. fsspec's own instance cache would do, but it
    ignores the environment: a changed endpoint or credentials would go unseen.
    """
    import fsspec  # type: ignore[import-untyped]

    env = sorted((k, v) for k, v in os.environ.items() if k.startswith(_STORAGE_ENV))
    token = json.dumps(
        [url.split("://", 1)[0], kwargs, env, os.getpid(), threading.get_ident()],
        sort_keys=True,
        default=repr,
    )
    key = hashlib.sha256(token.encode("utf-8")).hexdigest()  # no secrets kept in clear
    fs = _FILESYSTEMS.get(key) if "::" not in url else None  # chained URLs: no reuse
    if fs is None:
        fs, root = fsspec.core.url_to_fs(url, skip_instance_cache=True, **kwargs)
        _FILESYSTEMS[key] = fs
        return fs, str(root)
    return fs, str(fs._strip_protocol(url))


def _plain_name(name: str) -> bool:
    return "/" not in name and "\\" not in name and name not in (".", "..")


def _signature(info: Mapping[str, Any]) -> list[Any]:
    """What identifies an object's content: its size and the first change marker found."""
    for key in _CHANGE_KEYS:
        if info.get(key) is not None:
            return [info.get("size"), key, str(info[key])]
    return [info.get("size"), None, None]


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _part(path: Path) -> Path:
    """A hidden temporary name beside ``path``, unique per call."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}{_PART}")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = _part(path)
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- input


@dataclass(frozen=True, slots=True)
class Synced:
    """A synced input mirror: the local folder and what the sync did."""

    url: str
    folder: Path
    downloaded: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int

    def describe(self) -> str:
        return (
            f"input {self.url}: {len(self.downloaded)} object(s) downloaded, "
            f"{len(self.removed)} removed, {self.unchanged} unchanged"
        )


def _load_index(cache_dir: Path, url: str) -> dict[str, Any]:
    """The last sync's record per key; empty when missing, unreadable or for another URL."""
    try:
        data = json.loads((cache_dir / _INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) and data.get("url") == url else None
    return files if isinstance(files, dict) else {}


def _check_keys(url: str, keys: Iterable[str]) -> None:
    """Keys must map to files of a local folder: no empty, '.' or '..' parts, and no key
    that is also the folder of another key (``a`` and ``a/b``)."""
    keys = list(keys)
    folders: set[str] = set()
    for key in keys:
        parts = key.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise RemoteError(
                f"{url}/{key}: cannot mirror an object whose key has an empty, '.' or '..' "
                "part; rename it"
            )
        folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
    clash = sorted(folders.intersection(keys))
    if clash:
        raise RemoteError(
            f"{url}/{clash[0]} is both an object and the prefix of other objects; a local "
            "folder cannot hold both: rename one"
        )


def sync_input(url: str, cache_dir: Path, options: Mapping[str, Any] | None = None) -> Synced:
    """Mirror every object under ``url`` into ``cache_dir/files`` (returned as ``folder``).

    Downloads only objects that are new or whose size and change marker (ETag...) differ
    from the last sync's, or whose local copy was touched; removes local files whose object
    is gone. Downloads run concurrently (on S3) into hidden temporary files that are renamed
    into place, and the record of what was synced (``cache_dir/index.json``) is replaced
    last, so an interrupted sync is finished by the next one. Raises RemoteError naming the
    URL (exit code 2 when the bucket does not exist or the prefix holds no objects).
    """
    store = Store.open(url, options)
    found = store.listing(missing_exit=2)
    if not found:
        raise RemoteError(f"no objects under the input {store.url} (wrong bucket or prefix?)", 2)
    _check_keys(store.url, found)
    files = cache_dir / _FILES
    files.mkdir(parents=True, exist_ok=True)
    old = _load_index(cache_dir, store.url)
    removed = []
    for path in sorted(p for p in files.rglob("*") if not p.is_dir()):
        key = path.relative_to(files).as_posix()
        if key not in found:
            path.unlink()
            if not path.name.endswith(_PART):
                removed.append(key)
    for folder in sorted((p for p in files.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()  # deepest first, so emptied parents go too
    index: dict[str, Any] = {}
    todo: list[tuple[str, Path, Path]] = []  # (key, temporary file, final file)
    for key, info in sorted(found.items()):
        target = files / key
        entry = old.get(key)
        signature = _signature(info)
        if (
            isinstance(entry, dict)
            and signature[1] is not None
            and entry.get("remote") == signature
            and entry.get("local") == _stat(target)
        ):
            index[key] = entry
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        todo.append((key, _part(target), target))
    if todo:
        with _errors(f"downloading {len(todo)} object(s) from {store.url} failed"):
            # One call for all: async backends (s3fs) fetch them concurrently.
            store.fs.get([store.path(k) for k, _, _ in todo], [str(tmp) for _, tmp, _ in todo])
    for key, tmp, target in todo:
        size = tmp.stat().st_size
        if found[key].get("size") not in (None, size):
            tmp.unlink()
            raise RemoteError(
                f"{store.url}/{key}: downloaded {size} bytes, the store lists "
                f"{found[key].get('size')}"
            )
        os.replace(tmp, target)
        index[key] = {"remote": _signature(found[key]), "local": _stat(target)}
    _write_atomic(
        cache_dir / _INDEX,
        json.dumps({"url": store.url, "files": index}, sort_keys=True).encode("utf-8"),
    )
    return Synced(
        store.url, files, tuple(k for k, _, _ in todo), tuple(removed), len(found) - len(todo)
    )


# ----------------------------------------------------------------------------- output


def _check_reachable(store: Store) -> None:
    """Raise RemoteError (exit 2) when the output's bucket does not exist.

    Reading a missing LATEST cannot tell an empty prefix (no release yet) from a missing
    bucket; one small listing (of LATEST's own would-be folder) can.
    """
    with _errors(f"cannot list the output {store.url}", missing_exit=2):
        store.fs.find(store.path(LATEST))


def pull_latest(
    url: str, local_output: Path, options: Mapping[str, Any] | None = None
) -> str | None:
    """Make ``local_output/LATEST`` name what ``url/LATEST`` names; that version, or None.

    Fetches the release's ``manifest.json`` into ``local_output/releases/<version>/`` (its
    tables come with ``fetch_release``, when a build needs them). The remote output is the
    truth: with no remote LATEST the local one is removed, so a run publishes a first
    release, and a local release that was never uploaded (a failed push) stops being the
    parent. Call it with the local output's lock held, after the start-of-run recovery
    (which could otherwise roll an interrupted local publish forward over it).
    """
    store = Store.open(url, options)
    version, _ = store.read_latest()
    local_output.mkdir(parents=True, exist_ok=True)
    if version is None:
        _check_reachable(store)  # a missing bucket fails now, not at the push after the build
        if (local_output / LATEST).exists():
            (local_output / LATEST).unlink()
            fsync_dir(local_output)
        return None
    data = store.read(RELEASES, version, MANIFEST)
    if data is None:
        raise RemoteError(
            f"{store.url_of(LATEST)} names {version}, but "
            f"{store.url_of(RELEASES, version, MANIFEST)} does not exist"
        )
    folder = local_output / RELEASES / version
    manifest = folder / MANIFEST
    if not (manifest.is_file() and manifest.read_bytes() == data):
        if folder.exists():
            shutil.rmtree(folder)  # another release of that name: the remote one wins
        folder.mkdir(parents=True)
        _write_atomic(manifest, data)
    latest = local_output / LATEST
    if not latest.is_file() or latest.read_text(encoding="utf-8").strip() != version:
        replace_latest(local_output, write_latest_tmp(local_output, version))
    return version


def fetch_release(
    url: str, local_output: Path, version: str, options: Mapping[str, Any] | None = None
) -> Path:
    """Download the tables of a pulled release that the local copy lacks; its folder.

    Each table is checked against the manifest's sha256 before it is renamed into place,
    so a present file of the right size is a verified one.
    """
    folder = local_output / RELEASES / version
    tables = read_manifest(folder).get("tables") or {}
    store = Store.open(url, options)
    for name, info in sorted(tables.items()):
        target = folder / str(info.get("path", f"{name}.parquet"))
        if target.is_file() and target.stat().st_size == info.get("bytes"):
            continue
        where = store.url_of(RELEASES, version, target.name)
        tmp = _part(target)
        try:
            with _errors(f"downloading {where} failed"):
                store.get_file(tmp, RELEASES, version, target.name)
            digest = sha256_file(tmp)
            if digest != info.get("sha256"):
                raise RemoteError(
                    f"{where}: sha256 {digest} does not match its manifest's {info.get('sha256')}"
                )
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    return folder


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _check_uploaded(store: Store, folder: Path, version: str, files: list[Path]) -> list[str]:
    """Every uploaded object against its local file: present, same size, same MD5 (when
    the ETag is a plain MD5, as for a single-part S3 upload)."""
    found = store.listing(RELEASES, version)
    problems = []
    for path in files:
        key = path.relative_to(folder).as_posix()
        info = found.get(key)
        where = store.url_of(RELEASES, version, key)
        if info is None:
            problems.append(f"{where} is missing after its upload")
        elif info.get("size") != path.stat().st_size:
            problems.append(f"{where} has {info.get('size')} bytes, {path} {path.stat().st_size}")
        else:
            etag = str(info.get("ETag") or "").strip('"')
            if _MD5.match(etag) and etag != _md5(path):
                problems.append(f"{where}: ETag {etag} is not the MD5 of {path}")
    return problems


def _swap_latest(
    store: Store, version: str, expected: str | None, tag: str | None, conditional: bool
) -> None:
    """Write LATEST; with ``conditional``, on S3 only if it is still what was read (``tag``:
    its ETag then, None when there was no LATEST). Other stores get a plain write."""
    data = (version + "\n").encode("utf-8")
    path = store.path(LATEST)
    protocols = store.fs.protocol
    if conditional and "s3" in (protocols if isinstance(protocols, tuple) else (protocols,)):
        condition = {"IfMatch": tag} if tag else {"IfNoneMatch": "*"}
        try:
            store.fs.pipe_file(path, data, **condition)
            return
        except (FileExistsError, OSError) as err:
            if isinstance(err, FileExistsError) or err.errno == errno.EINVAL:
                raise RemoteError(
                    f"{store.url_of(LATEST)} changed while this run uploaded (it named "
                    f"{expected or 'nothing'}): another run published; "
                    f"{store.url_of(RELEASES, version)} is uploaded but LATEST does not name "
                    "it. Run again to build on the new LATEST"
                ) from err
            if err.errno != errno.ENOSYS:  # a store without conditional writes: fall back
                raise
    store.fs.pipe_file(path, data)


def push_release(
    local_output: Path,
    version: str,
    url: str,
    options: Mapping[str, Any] | None = None,
    *,
    check_parent: bool = True,
) -> str:
    """Upload ``local_output/releases/<version>`` to ``url`` and point ``url/LATEST`` at it.

    Order: every file, ``manifest.json`` last; then each object is checked against its
    local file; then LATEST is replaced (one PUT). Any failure raises RemoteError naming the
    object and leaves the remote LATEST as it was. With ``check_parent``, the remote LATEST
    must still name the release's ``parent_version`` (what it named when the run pulled it);
    on S3 the final write is conditional on that too. A remote release of the same name
    with another manifest is never overwritten (releases are immutable). Returns the
    release's URL.
    """
    from pipeline.publish.ops import verify_release

    folder = local_output / RELEASES / version
    problems = verify_release(folder)
    if problems:
        raise RemoteError(f"{folder} does not match its manifest; not uploaded: {problems[0]}")
    manifest_bytes = (folder / MANIFEST).read_bytes()
    parent = json.loads(manifest_bytes).get("parent_version") or None
    store = Store.open(url, options)
    before, tag = store.read_latest()
    untouched = f"{store.url_of(LATEST)} untouched (still {before or 'absent'})"
    if check_parent and before != parent:
        raise RemoteError(
            f"{store.url_of(LATEST)} names {before or 'nothing'}, but this release was built "
            f"on {parent or 'no release'}: another run published meanwhile; not uploaded. "
            "Run again to build on the new LATEST"
        )
    existing = store.read(RELEASES, version, MANIFEST)
    if existing is not None and existing != manifest_bytes:
        raise RemoteError(
            f"{store.url_of(RELEASES, version)} already exists with another manifest; a "
            f"release is never overwritten; {untouched}"
        )
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p != folder / MANIFEST)
    files.append(folder / MANIFEST)  # last: a remote release with a manifest is complete
    for path in files:
        key = path.relative_to(folder).as_posix()
        with _errors(f"uploading {store.url_of(RELEASES, version, key)} failed; {untouched}"):
            store.put_file(path, RELEASES, version, key)
    problems = _check_uploaded(store, folder, version, files)
    if problems:
        raise RemoteError(
            f"upload of {store.url_of(RELEASES, version)} incomplete: {'; '.join(problems)}; "
            f"{untouched}"
        )
    with _errors(f"writing {store.url_of(LATEST)} failed; it may still name {before}"):
        _swap_latest(store, version, before, tag, conditional=check_parent)
    return store.url_of(RELEASES, version)


def list_releases(url: str, options: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Published releases under ``url``, newest first, as ``release.list_releases`` gives
    them for a folder. A release folder without its manifest (an upload in progress or
    interrupted) is not a release and is skipped."""
    store = Store.open(url, options)
    latest, _ = store.read_latest()
    if latest is None:
        _check_reachable(store)
    with _errors(f"cannot list {store.url_of(RELEASES)}"):
        paths = store.fs.glob(store.path(RELEASES, "*", MANIFEST))
        contents: dict[str, bytes] = store.fs.cat(sorted(paths)) if paths else {}
    from pipeline.publish.release import _validation_status

    found = []
    for path, data in sorted(contents.items(), reverse=True):
        version = PurePosixPath(path).parent.name
        try:
            manifest = json.loads(data)
            status = _validation_status(manifest.get("validation"))
        except (ValueError, AttributeError):  # listed anyway, as for a local folder
            manifest, status = {}, "unreadable manifest"
        found.append(
            {
                "version": version,
                "created_at": manifest.get("created_at"),
                "latest": version == latest,
                "rows": {name: t["rows"] for name, t in manifest.get("tables", {}).items()},
                "validation": status,
                "path": store.url_of(RELEASES, version),
            }
        )
    return found
