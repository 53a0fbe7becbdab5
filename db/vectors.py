"""Nearest papers by stored embedding: semantic search, ``paperbot similar`` and the hybrid blend.

The vectors of one model are read from a persisted index file (``db/vectorfile.py``), memory-mapped, so a
fresh process does not read a million rows out of the database. The file is a cache, not the database:
the first reader that finds it missing or stale rebuilds it (streaming the ``embeddings`` rows, a chunk at
a time, into a temporary file renamed into place; a lock file makes concurrent readers wait for one
build). Where it lives:

    SQLite       ``<database file>-vectors/`` next to the database (``paperbot.db-vectors/``); when that
                 folder cannot be written, ``<cache>/sqlite-<hash of the file's path>/``
    PostgreSQL   ``<cache>/pg-<hash of user, host, port and database>/`` (never the password)

``<cache>`` is the ``vector_cache`` setting (default ``$XDG_CACHE_HOME/paperbot/vectors``). With no
writable folder the index is built into an unnamed temporary file for this process only (a warning says
so).

Staleness: each file records the count and the newest ``created_at`` of the vectors it holds, and is used
only while the database says the same (``SELECT count(*), max(created_at)``), so an added, re-embedded or
deleted vector means a rebuild and never a stale answer. That query reads an index range since migration
0013 (it read the whole table before: seconds at a million vectors), and a sidecar file (``.seen``) also
records a token that cannot stay the same across a write, taken at the last successful check: while the
database still shows it the query is skipped. On SQLite the token is the database file's identity, size
and mtime, on PostgreSQL its transaction snapshot (see ``_fingerprint``). A file that fails its checks is
rebuilt with a warning. When the only change is vectors added (``_appendable``: the count grew by exactly
as many as were created since the index's newest), the rebuild copies the old file's rows and reads only
the new ones from the database.

Never writes to the database and never loads the embedding model. Searching the index is
``db/nearest.py``'s.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from db.pgread import dialect
from db.query import mapped
from db.vectorfile import (
    CorruptIndex,
    Stamp,
    VectorIndex,
    empty_index,
    locked,
    open_index,
    read_seen,
    write_index,
    write_rows,
    write_seen,
)

__all__ = ["VectorIndex", "clear_cache", "index_folder", "load_index"]

QUIET_SECONDS = 2.0  # a database file written this recently may change again within its mtime's tick
log = logging.getLogger(__name__)

_CACHE: dict[tuple[str, str], tuple[tuple[int, ...], VectorIndex]] = {}


def clear_cache() -> None:
    """Forget the indexes mapped by this process (the files stay)."""
    _CACHE.clear()


# --- where ---------------------------------------------------------------------------------------------

def _database_file(connection: sqlite3.Connection) -> str:
    for row in connection.execute("PRAGMA database_list"):
        if row[1] == "main":
            return str(row[2])
    return ""  # pragma: no cover - every connection has a main database


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _candidates(connection: Any, cache: Path | None) -> list[Path]:
    if dialect(connection) == "postgresql":
        from sqlalchemy.engine import make_url

        url = make_url(connection.url)
        identity = f"{url.username or ''}@{url.host or ''}:{url.port or ''}/{url.database or ''}"
        return [cache / f"pg-{_digest(identity)}"] if cache is not None else []
    path = _database_file(connection)
    if not path:
        return []
    fallback = [cache / f"sqlite-{_digest(os.path.realpath(path))}"] if cache is not None else []
    return [Path(path + "-vectors"), *fallback]


def index_folder(connection: Any, cache: Path | None = None) -> Path | None:
    """The first writable folder for ``connection``'s vector index (created if missing), or None."""
    for folder in _candidates(connection, cache):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK | os.X_OK):
            return folder
    return None


def _file_name(model: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model)[:60]
    return f"{safe}-{_digest(model)[:8]}.vectors"


# --- staleness -----------------------------------------------------------------------------------------

def _fingerprint(connection: Any) -> list[Any] | None:
    """A cheap token that stays the same exactly while nothing is written to the database; None when
    there is none to trust. Taken before the stamp is read, so a write in between changes it.

    SQLite: the database file's identity, size and mtime, and the write-ahead log's when it holds frames
    (an empty one is what a reader's own connection creates); None when written less than QUIET_SECONDS
    ago, as a second write within the same mtime tick could leave all of these unchanged.
    PostgreSQL: the database's oid, the server's start time and the current snapshot
    (``xmin:xmax:in-progress ids``): every write takes a transaction id, and its commit either removes
    that id from the in-progress list or moves ``xmax``, so an unchanged snapshot means nothing committed.
    """
    if dialect(connection) == "postgresql":
        row = connection.execute(
            "SELECT (SELECT oid FROM pg_database WHERE datname = current_database()), "
            "pg_postmaster_start_time(), pg_current_snapshot()::text").fetchone()
        return [int(row[0]), str(row[1]), str(row[2])]
    path = _database_file(connection)
    if not path:
        return None
    stamp: list[Any] = []
    newest = 0
    for name in (path, path + "-wal"):
        try:
            info = os.stat(name)
        except OSError:
            info = None
        if info is None or (name != path and info.st_size == 0):
            stamp += [0, 0, 0, 0]
        else:
            stamp += [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns]
            newest = max(newest, info.st_mtime_ns)
    if newest > (time.time() - QUIET_SECONDS) * 1e9:
        return None
    return stamp


def database_stamp(connection: Any, model: str) -> Stamp:
    """The count and newest ``created_at`` of ``model``'s stored vectors."""
    with mapped(connection):
        count, newest = connection.execute(
            "SELECT count(*), max(created_at) FROM embeddings WHERE model = ?", (model,)).fetchone()
    return Stamp(int(count), None if newest is None else str(newest))


# --- load ----------------------------------------------------------------------------------------------

def _rows(connection: Any, model: str, after: str | None = None) -> Iterator[tuple[str, int, bytes, Any]]:
    """The model's stored vectors (those created after ``after`` when given), in the table's order."""
    sql = "SELECT arxiv_id, dim, vector, created_at FROM embeddings WHERE model = ?"
    params: tuple[Any, ...] = (model,) if after is None else (model, after)
    sql += "" if after is None else " AND created_at > ?"
    if dialect(connection) == "postgresql":
        for row in connection.stream(sql, params):
            yield row[0], row[1], bytes(row[2]), row[3]
    else:
        with mapped(connection):
            yield from connection.execute(sql + " ORDER BY rowid", params)


def _appendable(connection: Any, model: str, index: VectorIndex | None, stamp: Stamp) -> bool:
    """Whether the database holds exactly ``index``'s vectors plus some created after its newest.

    Rows created after the index's newest are the added ones and the re-embedded ones; the count grows by
    the added ones less the deleted ones. So the count grows by as many as were created since exactly when
    nothing was re-embedded or deleted: then the index is copied and the new rows appended."""
    if index is None or len(index) == 0 or index.stamp.newest is None or stamp.count <= index.stamp.count:
        return False
    newer = connection.execute("SELECT count(*) FROM embeddings WHERE model = ? AND created_at > ?",
                               (model, index.stamp.newest)).fetchone()[0]
    return bool(int(newer) == stamp.count - index.stamp.count)


def _file_key(path: Path) -> tuple[int, ...]:
    try:
        info = path.stat()
    except OSError:
        return ()
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _open(path: Path, model: str) -> VectorIndex | None:
    """The index at ``path`` (mapped once per process while the file is the same), None if missing;
    a damaged file is removed with a warning."""
    key = _file_key(path)
    if not key:
        return None
    cached = _CACHE.get((str(path), model))
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        index = open_index(path, model)
    except (CorruptIndex, OSError) as exc:
        log.warning("the vector index %s is unusable (%s); rebuilding it", path, exc)
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    _CACHE[(str(path), model)] = (key, index)
    return index


def _in_memory(connection: Any, model: str) -> VectorIndex:
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - the maps keep it open; deleted when unmapped
    write_rows(handle, model, _rows(connection, model))
    return open_index(handle, model)


def load_index(connection: Any, model: str, cache: Path | None = None) -> VectorIndex:
    """Every stored vector of ``model``, from the persisted index (rebuilt first when stale).

    ``cache`` is the folder for indexes that cannot live next to a SQLite file (see the module docstring).
    """
    folder = index_folder(connection, cache)
    if folder is None:
        stamp = database_stamp(connection, model)
        if stamp.count == 0:
            return empty_index(model)
        log.warning("no writable folder for the vector index of %s; keeping it for this process only",
                    model)
        return _in_memory(connection, model)
    path = folder / _file_name(model)
    fingerprint = _fingerprint(connection)
    index = _open(path, model)
    if index is not None and fingerprint is not None and read_seen(path) == (index.token, fingerprint):
        return index  # nothing written to the database since this index last matched it
    stamp = database_stamp(connection, model)
    if index is not None and index.stamp == stamp:
        write_seen(path, index.token, fingerprint)
        return index
    if stamp.count == 0:
        return empty_index(model)
    with locked(path):
        index = _open(path, model)  # another process may have rebuilt it while this one waited
        if index is None or index.stamp != stamp:
            for leftover in folder.glob(f".{path.name}.*.tmp"):  # of a build that was killed
                leftover.unlink(missing_ok=True)
            started = time.perf_counter()
            base = index if _appendable(connection, model, index, stamp) else None
            after = base.stamp.newest if base is not None else None
            write_index(path, model, _rows(connection, model, after), base)
            index = _open(path, model)
            if index is None:  # pragma: no cover - the file just written failed its own checks
                return _in_memory(connection, model)
            log.info("%s the %s vector index (%d vectors) in %.1f s", "extended" if base else "built",
                     model, len(index), time.perf_counter() - started)
    write_seen(path, index.token, fingerprint)
    return index
