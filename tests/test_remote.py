"""--input/--output URLs: sync in, push out, read in place - against a local S3 (moto).

The S3 endpoint is moto's server on a loopback port (no network); every test gets its own
bucket. Releases for the storage tests are small hand-made folders (a table and a manifest),
so only the one end-to-end test pays for real runs of the flow.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

import pipeline
from pipeline.publish.ops import verify_release
from pipeline.publish.release import write_json, write_table
from pipeline.reader import ReleaseNotFound, RemoteDir
from pipeline.remote import (
    RemoteError,
    Store,
    fetch_release,
    list_releases,
    pull_latest,
    push_release,
    sync_input,
)
from pipeline.urls import is_url, location, storage_options
from tests.conftest import SEEDS, PrefectEnv


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, empty bucket; credentials and endpoint in the environment, as s3fs reads them."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_endpoint,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    name = f"test-{uuid.uuid4().hex[:12]}"
    _fs().mkdir(name)
    return name


def _fs() -> Any:
    return Store.open("s3://any").fs


def _fake_release(output: Path, version: str, parent: str | None, rows: int = 3) -> Path:
    """A small but complete release folder (verify_release passes) and LATEST naming it."""
    folder = output / "releases" / version
    (folder / "validation").mkdir(parents=True)
    table = pa.table({"doc_id": [f"d{i}" for i in range(rows)], "n": list(range(rows))})
    tables = {"documents": write_table(table, folder / "documents.parquet")}
    (folder / "README.md").write_text(f"# {version}\n", encoding="utf-8")
    (folder / "validation" / "results.json").write_text("{}\n", encoding="utf-8")
    manifest = {"version": version, "parent_version": parent, "tables": tables}
    write_json(folder / "manifest.json", {**manifest, "created_at": "2026-01-01T00:00:00Z"})
    (output / "LATEST").write_text(version + "\n", encoding="utf-8")
    return folder


def _remote_latest(url: str) -> str | None:
    return Store.open(url).read_latest()[0]


def test_urls_and_storage_options() -> None:
    assert is_url("s3://bucket/prefix") and is_url("gs://b") and is_url("memory://x")
    assert not is_url("seeds") and not is_url("C://data") and not is_url(Path("s3:/x"))
    assert location("s3://b/p") == "s3://b/p" and location("out") == Path("out")
    options = storage_options(
        ["anon=true", "client_kwargs.region_name=eu-west-1", "endpoint_url=http://h:9000"]
    )
    assert options == {
        "anon": True,
        "client_kwargs": {"region_name": "eu-west-1"},
        "endpoint_url": "http://h:9000",
    }
    with pytest.raises(ValueError, match="KEY=VALUE"):
        storage_options(["no-equals-sign"])


def test_sync_input_downloads_only_what_changed(bucket: str, tmp_path: Path) -> None:
    fs, url = _fs(), f"s3://{bucket}/in"
    fs.pipe_file(f"{bucket}/in/a.txt", b"alpha")
    fs.pipe_file(f"{bucket}/in/sub/b.md", b"bravo")
    fs.pipe_file(f"{bucket}/in/c.txt", b"charlie")
    fs.pipe_file(f"{bucket}/other/x.txt", b"not under the prefix")

    first = sync_input(url, tmp_path / "cache")
    assert sorted(first.downloaded) == ["a.txt", "c.txt", "sub/b.md"] and first.unchanged == 0
    files = first.folder
    # keys keep their path under the prefix: doc ids (hashes of it) match a local copy's
    assert sorted(p.relative_to(files).as_posix() for p in files.rglob("*") if p.is_file()) == [
        "a.txt",
        "c.txt",
        "sub/b.md",
    ]

    again = sync_input(url, tmp_path / "cache")
    assert again.downloaded == () and again.removed == () and again.unchanged == 3

    fs.pipe_file(f"{bucket}/in/a.txt", b"ALPHA")  # same size: only the ETag tells
    fs.rm_file(f"{bucket}/in/sub/b.md")
    fs.pipe_file(f"{bucket}/in/d.txt", b"delta")
    (files / "c.txt").write_bytes(b"local edit")  # a touched mirror file is fetched again
    third = sync_input(url, tmp_path / "cache")
    assert sorted(third.downloaded) == ["a.txt", "c.txt", "d.txt"]
    assert third.removed == ("sub/b.md",) and third.unchanged == 0
    assert (files / "a.txt").read_bytes() == b"ALPHA"
    assert (files / "c.txt").read_bytes() == b"charlie"
    assert not (files / "sub").exists()  # emptied folders go too
    assert "1 removed" in third.describe() and url in third.describe()


def test_sync_input_errors_name_the_url(bucket: str, tmp_path: Path) -> None:
    with pytest.raises(RemoteError, match="s3://no-such-bucket-here/in") as missing:
        sync_input("s3://no-such-bucket-here/in", tmp_path / "a")
    assert missing.value.exit_code == 2
    with pytest.raises(RemoteError, match=f"no objects under the input s3://{bucket}/empty"):
        sync_input(f"s3://{bucket}/empty", tmp_path / "b")
    _fs().pipe_file(f"{bucket}/in/a", b"file")
    _fs().pipe_file(f"{bucket}/in/a/b", b"file under a")
    with pytest.raises(RemoteError, match="both an object and the prefix"):
        sync_input(f"s3://{bucket}/in", tmp_path / "c")


def test_push_writes_the_release_first_and_latest_last(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, local = f"s3://{bucket}/out", tmp_path / "out"
    _fake_release(local, "v1", None)
    assert push_release(local, "v1", url) == f"{url}/releases/v1"
    assert _remote_latest(url) == "v1"

    _fake_release(local, "v2", "v1", rows=5)
    uploaded: list[str] = []
    real_put = Store.put_file

    def failing_put(self: Store, path: Path, *parts: str) -> None:
        assert _remote_latest(url) == "v1"  # LATEST is never moved before the release is up
        if len(uploaded) == 2:
            raise OSError("connection reset")
        uploaded.append("/".join(parts))
        real_put(self, path, *parts)

    monkeypatch.setattr(Store, "put_file", failing_put)
    with pytest.raises(RemoteError) as failed:
        push_release(local, "v2", url)
    message = str(failed.value)
    assert f"{url}/releases/v2/" in message and "connection reset" in message
    assert f"{url}/LATEST untouched (still v1)" in message
    assert _remote_latest(url) == "v1"
    assert not _fs().exists(f"{bucket}/out/releases/v2/manifest.json")  # the manifest goes last

    def recording_put(self: Store, path: Path, *parts: str) -> None:
        uploaded.append("/".join(parts))
        real_put(self, path, *parts)

    uploaded.clear()
    monkeypatch.setattr(Store, "put_file", recording_put)
    push_release(local, "v2", url)  # the next attempt completes it
    assert uploaded[-1] == "releases/v2/manifest.json"
    assert _remote_latest(url) == "v2"
    assert [r["version"] for r in list_releases(url)] == ["v2", "v1"]
    assert [r["latest"] for r in list_releases(url)] == [True, False]


def test_push_refuses_to_move_latest_another_run_moved(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, local = f"s3://{bucket}/out", tmp_path / "out"
    _fake_release(local, "v1", None)
    push_release(local, "v1", url)
    _fake_release(local, "v2", "v1")
    _fake_release(local, "v3", "v1")

    real_put = Store.put_file

    def racing_put(self: Store, path: Path, *parts: str) -> None:
        real_put(self, path, *parts)
        if parts[-1] == "manifest.json":  # another machine publishes meanwhile
            _fs().pipe_file(f"{bucket}/out/LATEST", b"v-other\n")

    monkeypatch.setattr(Store, "put_file", racing_put)
    with pytest.raises(RemoteError, match="changed while this run uploaded"):
        push_release(local, "v2", url)
    assert _remote_latest(url) == "v-other"  # the compare-and-swap kept the other run's
    monkeypatch.setattr(Store, "put_file", real_put)
    with pytest.raises(RemoteError, match="another run published meanwhile; not uploaded"):
        push_release(local, "v3", url)  # built on v1, LATEST names v-other: refused upfront
    assert not _fs().exists(f"{bucket}/out/releases/v3")

    shutil.rmtree(local / "releases" / "v1")
    _fake_release(local, "v1", None, rows=7)  # same name, other content
    with pytest.raises(RemoteError, match="never overwritten"):
        push_release(local, "v1", url, check_parent=False)


def test_pull_latest_then_fetch_release_mirrors_the_remote(bucket: str, tmp_path: Path) -> None:
    url = f"s3://{bucket}/out"
    elsewhere = tmp_path / "published-from"
    _fake_release(elsewhere, "v1", None)
    push_release(elsewhere, "v1", url)

    local = tmp_path / "here"
    _fake_release(local, "v0-never-pushed", None)
    assert pull_latest(url, local) == "v1"
    assert (local / "LATEST").read_text().strip() == "v1"
    assert (local / "releases/v1/manifest.json").is_file()
    assert not (local / "releases/v1/documents.parquet").exists()  # tables only when needed
    fetch_release(url, local, "v1")
    assert verify_release(local / "releases" / "v1") == []

    empty = f"s3://{bucket}/nothing-yet"
    assert pull_latest(empty, local) is None and not (local / "LATEST").exists()
    for bad in (pull_latest, lambda url, _: list_releases(url)):
        with pytest.raises(RemoteError, match="s3://no-such-bucket-here/out") as missing:
            bad("s3://no-such-bucket-here/out", local)
        assert missing.value.exit_code == 2


def test_reader_reads_a_release_in_object_storage(bucket: str, tmp_path: Path) -> None:
    url, local = f"s3://{bucket}/out", tmp_path / "out"
    _fake_release(local, "v1", None, rows=4)
    push_release(local, "v1", url)

    folder = pipeline.release_dir(output=url)
    assert isinstance(folder, RemoteDir) and folder.name == "v1"
    assert folder / "documents.parquet" == f"{url}/releases/v1/documents.parquet"
    remote = pipeline.read_table("documents", output=url)
    pd.testing.assert_frame_equal(remote, pipeline.read_table("documents", output=local))
    assert list(pipeline.read_table("documents", "v1", url, columns=["n"]).columns) == ["n"]
    by_url = pipeline.read_table("documents", release=folder)
    assert len(by_url) == 4
    con = pipeline.connect(output=url)
    assert con.execute("select sum(n) from documents").fetchone() == (6,)

    with pytest.raises(ReleaseNotFound, match="pipeline run"):
        pipeline.read_table("documents", output=f"s3://{bucket}/empty")
    with pytest.raises(ReleaseNotFound, match="pipeline releases"):
        pipeline.read_table("documents", release="v9", output=url)
    with pytest.raises(KeyError, match="unknown table"):
        pipeline.read_table("moneys", output=url)


def test_commands_for_local_folders_refuse_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli import main

    assert main(["gc", "--keep", "1", "--output", "s3://bucket/out"]) == 2
    assert "work with 'run' and 'releases'" in capsys.readouterr().err
    assert not Path("s3:").exists()  # no local folder named after the URL


@pytest.mark.e2e
def test_run_from_and_to_s3(bucket: str, tmp_path: Path, prefect: PrefectEnv) -> None:
    """Publish, publish again from a fresh work folder after a change, then up to date."""
    from tests.e2e.conftest import run_cli

    fs = _fs()
    seeds = sorted(SEEDS.iterdir())[3:5]  # the two smallest seed documents
    for seed in seeds:
        fs.put_file(str(seed), f"{bucket}/in/docs/{seed.name}")
    source, output = f"s3://{bucket}/in", f"s3://{bucket}/out"

    def run(work: str) -> Any:
        return run_cli(
            "run",
            "--input",
            source,
            "--output",
            output,
            "--work-dir",
            str(tmp_path / work),
            "--workers",
            "1",
            prefect=prefect,
        )

    first = run("machine-a")
    assert first.returncode == 0, first.stderr[-3000:]
    v1 = _remote_latest(output)
    assert v1 and f"published {v1} ({output}/releases/{v1})" in first.stdout
    assert "2 object(s) downloaded" in first.stderr

    # Another machine (an empty work folder) after one input changed: it pulls LATEST and
    # the parent's tables, builds on them and moves LATEST with a compare-and-swap.
    changed = seeds[0].read_text(encoding="utf-8") + "\nThe grant adds $5 million in 2026.\n"
    fs.pipe_file(f"{bucket}/in/docs/{seeds[0].name}", changed.encode("utf-8"))
    second = run("machine-b")
    assert second.returncode == 0, second.stderr[-3000:]
    v2 = _remote_latest(output)
    assert v2 != v1 and f"({output}/releases/{v2})" in second.stdout
    changelog = fs.cat_file(f"{bucket}/out/releases/{v2}/CHANGELOG.md").decode()
    assert f"Parent release: {v1}" in changelog

    again = run("machine-b")
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"up to date: {v2} ({output}/releases/{v2})" in again.stdout
    assert "0 object(s) downloaded" in again.stderr

    listed = run_cli("releases", "--output", output, prefect=prefect)
    assert listed.returncode == 0 and f"* {v2}" in listed.stdout and v1 in listed.stdout
    money = pipeline.read_table("money", output=output)
    assert (money.quote.str.contains("5 million")).any()
    documents = pipeline.read_table("documents", output=output)
    assert sorted(documents.source_path) == sorted(f"docs/{s.name}" for s in seeds)
