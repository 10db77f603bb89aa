"""The migrated Prefect database a new output's server starts from (pipeline.prefect_db)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from pipeline import prefect_db, server


def _migrated_db(path: Path, revision: str = "abc123") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE alembic_version (version_num TEXT)")
        db.execute("INSERT INTO alembic_version VALUES (?)", (revision,))
        db.execute("CREATE TABLE block_type (name TEXT)")
        db.execute("INSERT INTO block_type VALUES ('secret')")
        db.commit()


def _rows(path: Path) -> list[tuple[str, ...]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT version_num FROM alembic_version").fetchall()


def test_a_migrated_database_is_saved_once_and_seeds_new_homes(tmp_path: Path) -> None:
    env = {prefect_db.CACHE_ENV: str(tmp_path / "cache")}
    first, second = tmp_path / "first", tmp_path / "second"
    _migrated_db(first / prefect_db.DB_NAME)
    assert prefect_db.save(first, env)
    template = prefect_db.template_path(env)
    assert template is not None and template.parent == tmp_path / "cache"
    assert not prefect_db.save(first, env)  # kept: never overwritten
    second.mkdir()
    assert prefect_db.seed(second, env)
    assert _rows(second / prefect_db.DB_NAME) == [("abc123",)]
    assert sorted(p.name for p in second.iterdir()) == [prefect_db.DB_NAME]  # no .tmp left


def test_a_home_with_a_database_keeps_it(tmp_path: Path) -> None:
    env = {prefect_db.CACHE_ENV: str(tmp_path / "cache")}
    _migrated_db(tmp_path / "saved" / prefect_db.DB_NAME, revision="template")
    prefect_db.save(tmp_path / "saved", env)
    _migrated_db(tmp_path / "home" / prefect_db.DB_NAME, revision="mine")
    assert not prefect_db.seed(tmp_path / "home", env)
    assert _rows(tmp_path / "home" / prefect_db.DB_NAME) == [("mine",)]


def test_nothing_is_seeded_before_a_database_was_saved(tmp_path: Path) -> None:
    env = {prefect_db.CACHE_ENV: str(tmp_path / "cache")}
    (tmp_path / "home").mkdir()
    assert not prefect_db.seed(tmp_path / "home", env)
    assert list((tmp_path / "home").iterdir()) == []


@pytest.mark.parametrize("variable", prefect_db.DB_URL_ENVS)
def test_a_database_of_the_users_own_is_left_alone(tmp_path: Path, variable: str) -> None:
    env = {prefect_db.CACHE_ENV: str(tmp_path / "cache"), variable: "postgresql+asyncpg://db"}
    _migrated_db(tmp_path / "home" / prefect_db.DB_NAME)
    assert not prefect_db.save(tmp_path / "home", env)
    assert not (tmp_path / "cache").exists()
    plain = {prefect_db.CACHE_ENV: str(tmp_path / "cache")}
    assert prefect_db.save(tmp_path / "home", plain)
    (tmp_path / "new").mkdir()
    assert not prefect_db.seed(tmp_path / "new", env)


def test_a_database_without_a_revision_is_not_saved(tmp_path: Path) -> None:
    env = {prefect_db.CACHE_ENV: str(tmp_path / "cache")}
    home = tmp_path / "home"
    home.mkdir()
    with closing(sqlite3.connect(home / prefect_db.DB_NAME)) as db:
        db.execute("CREATE TABLE alembic_version (version_num TEXT)")  # migrations not run
        db.commit()
    assert not prefect_db.save(home, env)
    assert list((tmp_path / "cache").iterdir()) == []  # not even a partial copy


def test_the_cache_folder_follows_the_environment(tmp_path: Path) -> None:
    assert prefect_db.cache_dir({"PIPELINE_CACHE_DIR": "/a"}) == Path("/a")
    assert prefect_db.cache_dir({"XDG_CACHE_HOME": "/b"}) == Path("/b/pipeline")
    assert prefect_db.cache_dir({}) == Path.home() / ".cache" / "pipeline"


def test_a_second_server_starts_from_the_first_ones_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(prefect_db.CACHE_ENV, str(tmp_path / "cache"))
    for name in prefect_db.DB_URL_ENVS:
        monkeypatch.delenv(name, raising=False)
    with server.start_server(tmp_path / "first") as url:
        assert server.is_healthy(url)
    assert list((tmp_path / "cache").glob("prefect-*.db"))
    launched = server._launch(tmp_path / "second")
    try:
        assert not launched.migrates  # its database was there before the server started
        server._await_healthy(launched, 90)
    finally:
        server._stop(launched.process)
