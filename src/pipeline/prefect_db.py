"""A migrated Prefect database to start a new output's server from.

Prefect migrates a new SQLite database when its server first starts on it: about 12 s on
2 cores (``create_db``: alembic through every migration), paid by the first run on every
new output folder, before a single document is read. The first server that migrates one
has a copy saved (SQLite's backup API, consistent while the server runs) to the user's
cache, keyed by the Prefect version; a later server on a new folder starts from a copy of
it, already at the head revision, and has nothing to migrate.

Only Prefect's default database is seeded (``<PREFECT_HOME>/prefect.db``): with a
connection URL of the user's own, nothing is copied or saved. A failure to read or write
the cache is logged and the server migrates as before: the cache saves time, nothing more.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

DB_NAME = "prefect.db"  # Prefect's default: sqlite+aiosqlite:///${PREFECT_HOME}/prefect.db
CACHE_ENV = "PIPELINE_CACHE_DIR"
# Either name sets the server's database (Prefect 3 reads both).
DB_URL_ENVS = ("PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_API_DATABASE_CONNECTION_URL")

logger = logging.getLogger(__name__)


def cache_dir(env: Mapping[str, str]) -> Path:
    """``$PIPELINE_CACHE_DIR``, else ``$XDG_CACHE_HOME/pipeline``, else ``~/.cache/pipeline``."""
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV]).expanduser()
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "pipeline"


def template_path(env: Mapping[str, str]) -> Path | None:
    """Where the migrated database of the installed Prefect is kept (None: no Prefect)."""
    try:
        prefect_version = version("prefect")
    except PackageNotFoundError:
        return None
    return cache_dir(env) / f"prefect-{prefect_version}.db"


def uses_default_database(env: Mapping[str, str]) -> bool:
    return not any(env.get(name) for name in DB_URL_ENVS)


def seed(home: Path, env: Mapping[str, str]) -> bool:
    """Copy the saved database into ``home`` when it has none; True when copied."""
    target = home / DB_NAME
    template = template_path(env)
    if not uses_default_database(env) or target.exists() or template is None:
        return False
    partial = target.with_name(f"{DB_NAME}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(template, partial)
        os.replace(partial, target)  # a server never sees half a copy
    except FileNotFoundError:
        return False  # no database saved yet
    except OSError as exc:
        logger.info("Prefect database not seeded from %s: %r", template, exc)
        partial.unlink(missing_ok=True)
        return False
    return True


def save(home: Path, env: Mapping[str, str]) -> bool:
    """Keep a copy of ``home``'s freshly migrated database in the cache, unless one is
    there; True when saved. Call it once the server answers (migrations are done) and
    before any run is recorded in it."""
    source = home / DB_NAME
    template = template_path(env)
    if not uses_default_database(env) or template is None or template.exists():
        return False
    if not source.is_file():
        return False
    partial = template.with_name(f"{template.name}.{os.getpid()}.tmp")
    try:
        template.parent.mkdir(parents=True, exist_ok=True)
        _backup(source, partial)
        os.replace(partial, template)  # concurrent savers: the last complete copy wins
    except (OSError, sqlite3.Error) as exc:
        logger.info("Prefect database not saved to %s: %r", template, exc)
        partial.unlink(missing_ok=True)
        return False
    return True


def _backup(source: Path, target: Path) -> None:
    """A consistent copy of a database a server has open, checked before it is kept."""
    with (
        closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as src,
        closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
        (verdict,) = dst.execute("PRAGMA quick_check").fetchone()
        revision = dst.execute("SELECT version_num FROM alembic_version").fetchall()
    if verdict != "ok" or len(revision) != 1:
        raise sqlite3.DatabaseError(f"copy not usable: quick_check {verdict!r}, {revision!r}")
