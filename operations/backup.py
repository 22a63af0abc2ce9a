"""Backups of the whole database, with each engine's own tool, and their restore.

SQLite: the online backup API (a consistent copy while the app runs). PostgreSQL: `pg_dump
--format=custom`, restored with `pg_restore --clean --if-exists` into the same database.
"""

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from errors import DomainError


class BackupFailed(DomainError):
    code = "backup_failed"


def sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupFailed("an in-memory database cannot be backed up")
    return Path(url.database)


def libpq_url(url: URL) -> str:
    """The URL as pg_dump understands it (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupFailed(f"{command[0]} is not installed (PostgreSQL client tools)")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupFailed(f"{command[0]} failed: {result.stderr.strip()[:500]}")


def create(database_url: str, target: Path) -> Path:
    """Write a backup of the database at `database_url` to `target`."""
    url = make_url(database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(sqlite_path(url)) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        copy.close()
    elif url.get_backend_name() == "postgresql":
        run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", libpq_url(url)])
    else:
        raise BackupFailed(f"no backup method for {url.get_backend_name()}")
    return target


def restore(database_url: str, source: Path) -> None:
    """Replace the database's content with the backup at `source` (stop the services first)."""
    if not source.exists():
        raise BackupFailed(f"no backup at {source}")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(source) as backup, sqlite3.connect(sqlite_path(url)) as live:
            backup.backup(live)
        live.close()
    elif url.get_backend_name() == "postgresql":
        run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={libpq_url(url)}",
                str(source),
            ]
        )
    else:
        raise BackupFailed(f"no restore method for {url.get_backend_name()}")
