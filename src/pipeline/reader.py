"""Reading a release from a notebook: one table as pandas, or every table in DuckDB.

    import pipeline
    money = pipeline.read_table("money")                   # the LATEST release
    con = pipeline.connect()                               # a view per table
    con.sql("select period, sum(amount_usd) from money group by period").df()

``release`` is ``"latest"`` (what ``<output>/LATEST`` names), a version name under
``<output>/releases/``, or the path of a release folder. Polars reads the same files:
``pl.scan_parquet(pipeline.release_dir() / "money.parquet")``.

``output`` (or ``release``) may be a URL (``s3://bucket/prefix``): the Parquet files are then
read from object storage in place through fsspec, with credentials and endpoint from the
environment (``AWS_*``) or ``storage_options`` (as pandas takes them). ``release_dir`` then
gives a ``RemoteDir``: a URL string that ``/`` joins like a Path.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from pipeline.publish.release import LATEST, MANIFEST, RELEASES, latest_version
from pipeline.remote import Store, is_url
from pipeline.schemas import TABLES

if TYPE_CHECKING:
    import duckdb

__all__ = ["RemoteDir", "connect", "read_table", "release_dir"]


class ReleaseNotFound(LookupError):
    """No release where the caller looked; the message says where and what to do."""


class RemoteDir(str):
    """The URL of a release folder in object storage; ``/`` joins like ``Path``'s."""

    __slots__ = ()

    def __truediv__(self, other: str) -> RemoteDir:
        return RemoteDir(f"{self.rstrip('/')}/{other}")

    @property
    def name(self) -> str:
        return self.rstrip("/").rsplit("/", 1)[-1]


def release_dir(
    release: str | Path = "latest",
    output: str | Path = "outputs",
    *,
    storage_options: Mapping[str, Any] | None = None,
) -> Path | RemoteDir:
    """The folder of ``release`` under ``output`` (see the module doc for the forms)."""
    if is_url(str(release)) or is_url(output):
        return _remote_release(str(release), str(output), storage_options)
    output = Path(output)
    if str(release) == "latest":
        version = latest_version(output)
        if version is None:
            raise ReleaseNotFound(
                f"no published release under {output} (no valid LATEST): run 'pipeline run "
                f"--output {output}' first, or pass output= the folder holding releases/"
            )
        return output / RELEASES / version
    for candidate in (Path(release), output / RELEASES / str(release)):
        if (candidate / MANIFEST).is_file():
            return candidate
    raise ReleaseNotFound(
        f"{release!s} is neither a release folder nor a version under {output / RELEASES} "
        "('pipeline releases' lists them)"
    )


def _remote_release(release: str, output: str, options: Mapping[str, Any] | None) -> RemoteDir:
    """``release_dir`` in object storage: one or two small reads (LATEST, the manifest)."""
    if is_url(release):
        folder = Store.open(release, options)
        if folder.read(MANIFEST) is None:
            raise ReleaseNotFound(f"{folder.url} is not a release (no {MANIFEST})")
        return RemoteDir(folder.url)
    store = Store.open(output, options)
    if release == "latest":
        version, _ = store.read_latest()
        if version is None:
            raise ReleaseNotFound(
                f"no published release under {store.url} (no {LATEST}): run 'pipeline run "
                f"--output {store.url}' first, or pass output= the URL holding releases/"
            )
    else:
        version = release
    if store.read(RELEASES, version, MANIFEST) is None:
        raise ReleaseNotFound(
            f"{release} is not a version under {store.url_of(RELEASES)} ('pipeline releases "
            f"--output {store.url}' lists them)"
        )
    return RemoteDir(store.url_of(RELEASES, version))


def _table_path(folder: Path, name: str) -> Path:
    if name not in TABLES:
        raise KeyError(f"unknown table {name!r}; tables: {', '.join(TABLES)}")
    return folder / f"{name}.parquet"


def read_table(
    name: str,
    release: str | Path = "latest",
    output: str | Path = "outputs",
    columns: list[str] | None = None,
    *,
    storage_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """One table of a release as a pandas DataFrame (``columns`` to read fewer)."""
    folder = release_dir(release, output, storage_options=storage_options)
    if isinstance(folder, RemoteDir):
        _table_path(Path(), name)  # the same KeyError for an unknown table
        store = Store.open(folder, storage_options)
        return pd.read_parquet(store.path(f"{name}.parquet"), columns=columns, filesystem=store.fs)
    return pd.read_parquet(_table_path(folder, name), columns=columns)


def connect(
    release: str | Path = "latest",
    output: str | Path = "outputs",
    *,
    storage_options: Mapping[str, Any] | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with a view per table of the release.

    Views read the Parquet files in place (nothing is copied), so ``con.sql(...)`` over
    ``money join documents using (doc_id)`` works at any release size. In object storage
    each table is a registered Arrow dataset over fsspec (DuckDB's own S3 support would
    need its httpfs extension, downloaded at run time): still read in place, lazily.
    """
    import duckdb

    folder = release_dir(release, output, storage_options=storage_options)
    con = duckdb.connect()
    if isinstance(folder, RemoteDir):
        import pyarrow.dataset as ds

        store = Store.open(folder, options=storage_options)
        present = store.listing()
        for name in TABLES:
            if f"{name}.parquet" in present:
                key = store.path(f"{name}.parquet")
                con.register(name, ds.dataset(key, filesystem=store.fs, format="parquet"))
        return con
    for name in TABLES:
        path = _table_path(folder, name)
        if path.is_file():
            literal = str(path.resolve()).replace("'", "''")
            con.execute(f"create view {name} as select * from read_parquet('{literal}')")
    return con
