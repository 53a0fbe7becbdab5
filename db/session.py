"""Engine set-up, migrations and transactions.

``open_database(url)`` is the one way in: it makes the engine (SQLite: WAL, foreign keys on, a busy
timeout), checks the file is a database whose schema this code knows, upgrades it to the head revision
(automatically on first use), and returns the engine. ``session_scope`` wraps one unit of work: it
commits on success and rolls back on any error, so a failed step leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.core.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine.interfaces import DBAPIConnection

BUSY_TIMEOUT_MS = 10_000


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


def _migrate(engine: Engine, revision: str, direction: str) -> None:
    """Run Alembic's ``upgrade`` or ``downgrade`` to ``revision`` in one transaction; every failure (an
    unknown revision, a corrupt or newer database) becomes one clear ``StoreError``."""
    from alembic import command
    from alembic.util import CommandError

    config = _alembic_config(engine)
    try:
        current = current_revision(engine)
        if current is not None and current not in known_revisions():
            raise StoreError(f"{_describe(engine)} has schema revision {current}, newer than this paperbot "
                             "knows; upgrade paperbot")
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
        if current_revision(engine) != head_revision():
            upgrade(engine)
    elif current_revision(engine) is None:
        raise StoreError(f"{_describe(engine)} has no paperbot schema; run `paperbot db upgrade`")
    return engine


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error (nothing half-written)."""
    factory = sessionmaker(engine, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
