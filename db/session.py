"""Engine set-up, migrations and transactions.

``open_database(url)`` is the one way in: it makes the engine (SQLite: WAL, foreign keys on, a busy
timeout), checks the file is a database whose schema this code knows, upgrades it to the head revision
(automatically on first use), and returns the engine. ``session_scope`` wraps one unit of work: it
commits on success and rolls back on any error, so a failed step leaves nothing half-written.

Two processes may share the database. A migration holds a lock (``migration_lock``: a lock file next to a
SQLite file, an advisory lock on PostgreSQL) and re-reads the revision once it has it, so a second process
opening a new database waits for the first's migration and finds it at head. On SQLite a session takes the
write lock when it begins (``BEGIN IMMEDIATE``): a read-then-write transaction then never finds that another
process wrote since its read, which SQLite reports as "database is locked" without waiting. On PostgreSQL a
session takes the same kind of lock, a transaction advisory lock (``WRITE_LOCK_KEY``), released when it
commits or rolls back: its reads then see every write of the session before it, so counts ("new" papers)
stay exact and a replaced table (the list's entries) is never filled twice. Sessions are short (nothing
waits on the network inside one), so the other process waits at most a moment; after
``BUSY_TIMEOUT_MS`` either backend gives up with one clear error.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.core.errors import StoreError
from bot.core.files import sqlite_file

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine.interfaces import DBAPIConnection

BUSY_TIMEOUT_MS = 10_000
MIGRATION_WAIT_SECONDS = 300.0  # how long a process waits for another's migration before it gives up
# pg_advisory_lock key of paperbot's migrations (any constant: the bytes of "paperbot")
MIGRATION_LOCK_KEY = int.from_bytes(b"paperbot", "big") & 0x7FFF_FFFF_FFFF_FFFF
WRITE_LOCK_KEY = MIGRATION_LOCK_KEY - 1  # pg_advisory_xact_lock key every session takes on PostgreSQL


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"not a database URL: {url!r}") from None
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).expanduser().resolve().parent
        if not folder.is_dir():
            raise StoreError(f"database folder does not exist: {folder}")
    connect_args = {"timeout": BUSY_TIMEOUT_MS / 1000} if is_sqlite else {}
    try:
        engine = create_engine(parsed, connect_args=connect_args)
    except Exception as exc:  # a missing driver for another backend, say
        raise StoreError(f"cannot use database {parsed.render_as_string()}: {exc}") from None
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("migrations")))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(resources.files("migrations")))
    return str(script.get_current_head())


def known_revisions() -> set[str]:
    """Every schema revision this code has a migration for."""
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory(str(resources.files("migrations"))).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    """The database's Alembic revision (None for an empty database); ``StoreError`` when it is not a
    database at all or cannot be opened."""
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise StoreError(f"cannot open {_describe(engine)}: {exc.orig}") from None
    except DatabaseError as exc:
        raise _unreadable(engine, exc) from None


def _describe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _unreadable(engine: Engine, exc: DatabaseError) -> StoreError:
    return StoreError(f"{_describe(engine)} is not a readable database ({exc.orig}); move it away or restore "
                      "a snapshot with `paperbot db pull`")


def _sqlite_file(engine: Engine) -> Path | None:
    """The SQLite file behind ``engine`` (``bot.core.files.sqlite_file``), None also for a ``file:`` URI or
    ``mode=memory``."""
    database = sqlite_file(engine.url.render_as_string(hide_password=False))
    if database is None or database.startswith("file:") or engine.url.query.get("mode") == "memory":
        return None
    return Path(database).expanduser().resolve()


@contextmanager
def _file_lock(path: Path, what: str) -> Iterator[None]:
    if sys.platform == "win32":  # no fcntl: a second writer on Windows is on its own
        yield
        return
    import fcntl

    deadline = time.monotonic() + MIGRATION_WAIT_SECONDS
    with open(path, "a+b") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(f"another process has been migrating {what} for over "
                                     f"{MIGRATION_WAIT_SECONDS:g} seconds; try again later") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lock_file(database: Path) -> Path:
    return database.with_name(database.name + "-migrate-lock")


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Held while migrating, so two processes never migrate one database at once: a lock file next to a
    SQLite file (``papers.db-migrate-lock``, released when the process ends, however it ends), a session
    advisory lock on PostgreSQL; nothing for an in-memory database."""
    path = _sqlite_file(engine)
    if path is not None:
        with _file_lock(_lock_file(path), _describe(engine)):
            yield
    elif engine.dialect.name == "postgresql":
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                connection.commit()
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                    connection.commit()
        except OperationalError as exc:
            raise StoreError(f"cannot open {_describe(engine)}: {exc.orig}") from None
    else:
        yield


def _migrate(engine: Engine, revision: str, direction: str) -> None:
    """Run Alembic's ``upgrade`` or ``downgrade`` to ``revision`` in one transaction; every failure (an
    unknown revision, a corrupt or newer database) becomes one clear ``StoreError``."""
    from alembic import command
    from alembic.util import CommandError

    config = _alembic_config(engine)
    try:
        with migration_lock(engine):  # the revision is read (again) once no one else is migrating
            current = current_revision(engine)
            if current is not None and current not in known_revisions():
                raise StoreError(f"{_describe(engine)} has schema revision {current}, newer than this "
                                 "paperbot knows; upgrade paperbot")
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                getattr(command, direction)(config, revision)
    except CommandError as exc:
        raise StoreError(f"cannot migrate {_describe(engine)} to {revision!r}: {exc}") from None
    except OperationalError as exc:
        raise StoreError(f"cannot migrate {_describe(engine)}: {exc.orig}") from None
    except DatabaseError as exc:
        raise _unreadable(engine, exc) from None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (Alembic); fails clearly on a corrupt or newer database."""
    _migrate(engine, revision, "upgrade")


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database back to ``revision``; fails clearly on a corrupt or newer database."""
    _migrate(engine, revision, "downgrade")


def open_database(url: str, *, migrate: bool = True) -> Engine:
    """The engine for ``url``, its schema at head (upgraded now if it was behind)."""
    engine = make_engine(url)  # current_revision and upgrade turn a bad database into one StoreError
    if migrate:
        if _first_revision(engine) != head_revision():
            upgrade(engine)  # under the migration lock: a no-op when another process just migrated it
    elif current_revision(engine) is None:
        raise StoreError(f"{_describe(engine)} has no paperbot schema; run `paperbot db upgrade`")
    return engine


def _first_revision(engine: Engine) -> str | None:
    """``current_revision`` on opening. A new SQLite file (none yet, or still empty) is read under the
    migration lock: its first connection switches it to WAL, and SQLite refuses a second process doing the
    same at that moment with "database is locked" at once, without waiting out the busy timeout."""
    path = _sqlite_file(engine)
    if path is None or (path.exists() and path.stat().st_size > 0):
        return current_revision(engine)
    with _file_lock(_lock_file(path), _describe(engine)):
        return current_revision(engine)


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error (nothing half-written). It holds the
    write lock from its first statement (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory transaction
    lock; see the module docstring)."""
    factory = sessionmaker(engine, expire_on_commit=False)
    session = factory()
    try:
        try:
            if engine.dialect.name == "sqlite":
                session.execute(text("BEGIN IMMEDIATE"))
            elif engine.dialect.name == "postgresql":
                session.execute(text(f"SET LOCAL lock_timeout = {BUSY_TIMEOUT_MS}"))
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
        except OperationalError as exc:
            raise StoreError(f"cannot write {_describe(engine)}: {exc.orig}") from None
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
