"""Consistent copies of the SQLite database: make, check, restore.

A snapshot is taken with SQLite's online backup API (page by page, so rowids and the FTS index stay in
step; ``VACUUM INTO`` may renumber rowids), then ``PRAGMA integrity_check``-ed before anyone relies on
it. A snapshot is one self-contained file: no ``-wal`` or ``-shm`` beside it. Used by ``paperbot db
push/pull/check`` and the cron workflow.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from bot.core.errors import StoreError
from bot.core.files import sqlite_file
from bot.core.secrets import mask_url


def sqlite_path(url: str) -> Path:
    """The file behind a ``sqlite:///`` URL; snapshots exist only for SQLite files."""
    path = sqlite_file(url)
    if path is None:
        raise StoreError(f"snapshots need a SQLite file database, not {mask_url(url)}")
    return Path(path).expanduser()


def check(path: Path) -> list[str]:
    """Problems found in the database file (empty when ``integrity_check`` and FTS checks say ok)."""
    if not path.is_file():
        return [f"{path} does not exist"]
    try:
        connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True)  # FTS checks need rw
    except sqlite3.Error as exc:
        return [f"cannot open {path}: {exc}"]
    try:
        rows = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        problems = [] if rows == ["ok"] else [f"integrity_check: {row}" for row in rows]
        problems += [f"foreign key violation in {row[0]}" for row in
                     connection.execute("PRAGMA foreign_key_check")]
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        if "alembic_version" not in tables:
            problems.append("no paperbot schema (alembic_version missing)")
        if "papers_fts" in tables:
            try:
                connection.execute("INSERT INTO papers_fts(papers_fts) VALUES ('integrity-check')")
            except sqlite3.Error as exc:
                problems.append(f"search index out of step: {exc}")
        return problems
    except sqlite3.Error as exc:
        return [f"{path} is not a readable database: {exc}"]
    finally:
        connection.close()


def make_snapshot(db_path: Path, dest: Path) -> Path:
    """Copy ``db_path`` to ``dest`` through the backup API, check the copy, replace ``dest`` atomically."""
    if not db_path.is_file():
        raise StoreError(f"no database at {db_path}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".snapshot-", suffix=".db", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        source = sqlite3.connect(db_path)
        target = sqlite3.connect(tmp)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            target.close()
            source.close()
        problems = check(tmp)
        if problems:
            raise StoreError(f"snapshot of {db_path} failed its check: {problems[0]}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def restore(data: bytes, db_path: Path) -> list[str]:
    """Write snapshot bytes to ``db_path`` if they pass the check; returns the problems otherwise.

    The current database (if any) is kept as ``<name>.bak`` until the new one is in place.
    """
    db_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".restore-", suffix=".db", dir=db_path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        problems = check(tmp)
        if problems:
            return problems
        for suffix in ("", "-wal", "-shm"):  # the old file and its WAL move aside together
            old = Path(f"{db_path}{suffix}")
            if old.exists():
                os.replace(old, Path(f"{db_path}.bak{suffix}"))
        os.replace(tmp, db_path)
        return []
    finally:
        tmp.unlink(missing_ok=True)
