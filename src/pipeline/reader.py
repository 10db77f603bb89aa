"""Reading a release from a notebook: one table as pandas, or every table in DuckDB.

    import pipeline
    money = pipeline.read_table("money")                   # the LATEST release
    con = pipeline.connect()                               # a view per table
    con.sql("select period, sum(amount_usd) from money group by period").df()

``release`` is ``"latest"`` (what ``<output>/LATEST`` names), a version name under
``<output>/releases/``, or the path of a release folder. Polars reads the same files:
``pl.scan_parquet(pipeline.release_dir() / "money.parquet")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from pipeline.publish.release import MANIFEST, RELEASES, latest_version
from pipeline.schemas import TABLES

if TYPE_CHECKING:
    import duckdb

__all__ = ["connect", "read_table", "release_dir"]


class ReleaseNotFound(LookupError):
    """No release where the caller looked; the message says where and what to do."""


def release_dir(release: str | Path = "latest", output: str | Path = "outputs") -> Path:
    """The folder of ``release`` under ``output`` (see the module doc for the forms)."""
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


def _table_path(folder: Path, name: str) -> Path:
    if name not in TABLES:
        raise KeyError(f"unknown table {name!r}; tables: {', '.join(TABLES)}")
    return folder / f"{name}.parquet"


def read_table(
    name: str,
    release: str | Path = "latest",
    output: str | Path = "outputs",
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """One table of a release as a pandas DataFrame (``columns`` to read fewer)."""
    return pd.read_parquet(_table_path(release_dir(release, output), name), columns=columns)


def connect(
    release: str | Path = "latest", output: str | Path = "outputs"
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with a view per table of the release.

    Views read the Parquet files in place (nothing is copied), so ``con.sql(...)`` over
    ``money join documents using (doc_id)`` works at any release size.
    """
    import duckdb

    folder = release_dir(release, output)
    con = duckdb.connect()
    for name in TABLES:
        path = _table_path(folder, name)
        if path.is_file():
            literal = str(path.resolve()).replace("'", "''")
            con.execute(f"create view {name} as select * from read_parquet('{literal}')")
    return con
