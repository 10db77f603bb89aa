"""pipeline.read_table / pipeline.connect on a release of seeds/, as the README shows them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import pipeline
from pipeline.reader import ReleaseNotFound


def test_read_table_gives_the_latest_release_as_pandas(seeds_release: Path) -> None:
    money = pipeline.read_table("money", output=seeds_release)
    assert isinstance(money, pd.DataFrame) and len(money) > 0
    assert {"fact_id", "doc_id", "quote", "amount_usd", "char_start"} <= set(money.columns)
    some = pipeline.read_table("money", output=seeds_release, columns=["fact_id", "quote"])
    assert list(some.columns) == ["fact_id", "quote"]


def test_a_version_name_or_a_folder_selects_the_same_release(seeds_release: Path) -> None:
    folder = pipeline.release_dir(output=seeds_release)
    by_name = pipeline.read_table("dates", release=folder.name, output=seeds_release)
    by_path = pipeline.read_table("dates", release=folder)
    pd.testing.assert_frame_equal(by_name, by_path)


def test_connect_joins_tables_with_sql(seeds_release: Path) -> None:
    con = pipeline.connect(output=seeds_release)
    per_doc = con.sql(
        "select d.title, count(*) as n, sum(m.amount_usd) as usd "
        "from money m join documents d using (doc_id) group by d.title order by n desc"
    ).df()
    money = pipeline.read_table("money", output=seeds_release)
    assert per_doc.n.sum() == len(money)
    # every quote is its source slice, checked in SQL (substr is 1-based)
    mismatched = con.execute(
        "select count(*) from money m join documents d using (doc_id) "
        "where substr(d.source_text, m.char_start + 1, m.char_end - m.char_start) <> m.quote"
    ).fetchone()
    assert mismatched == (0,)
    tables = {row[0] for row in con.execute("show tables").fetchall()}
    assert {"documents", "money", "claims", "quarantine"} <= tables


def test_missing_releases_and_tables_say_what_to_do(tmp_path: Path, seeds_release: Path) -> None:
    with pytest.raises(ReleaseNotFound, match="pipeline run"):
        pipeline.read_table("money", output=tmp_path)
    with pytest.raises(ReleaseNotFound, match="pipeline releases"):
        pipeline.read_table("money", release="20000101T000000Z-nope", output=seeds_release)
    with pytest.raises(KeyError, match="unknown table 'moneys'"):
        pipeline.read_table("moneys", output=seeds_release)


def test_the_readme_queries_run_as_written(
    seeds_release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("Reading a release in one line")[1].split("```python\n")[1]
    block = block.split("```")[0]
    (tmp_path / "outputs").symlink_to(seeds_release)  # the README reads ./outputs
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    con = pipeline.connect()
    queries = re.findall(r'con\.sql\("""(.*?)"""\)', block, re.S)
    assert len(queries) == 3
    assert all(len(con.sql(q).df()) > 0 for q in queries)
