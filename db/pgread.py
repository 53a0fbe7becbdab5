"""A read-only PostgreSQL connection that the query side uses as it uses ``sqlite3``'s.

``db.query.connect`` returns one for a ``postgresql://`` (or ``postgresql+psycopg://``) URL. It runs the
same statements: ``:name`` and ``?`` placeholders are rewritten to psycopg's ``%(name)s`` and ``%s``, a
literal ``%`` is doubled, and rows answer to a column's position and to its name, as ``sqlite3.Row`` does.
Dialect-specific SQL (full-text search, JSON lists, dates) is chosen by the callers through ``dialect``.

psycopg is imported here only, so the SQLite path never pays for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from bot.core.errors import StoreError
from bot.core.secrets import mask_url

# ``:name`` not preceded by another colon (``::json`` casts stay), ``?``, and a bare ``%``; string literals
# are skipped whole so a colon or a question mark inside one is left alone.
_TOKEN_RE = re.compile(r"'(?:[^']|'')*'|(?<!:):([A-Za-z_]\w*)|\?|%")


def translate(sql: str) -> str:
    """``sqlite3``-style placeholders as psycopg's (see the module docstring)."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("'"):
            return token.replace("%", "%%")
        if match.group(1) is not None:
            return f"%({match.group(1)})s"
        return "%s" if token == "?" else "%%"

    return _TOKEN_RE.sub(replace, sql)


class Row(tuple):  # type: ignore[type-arg]
    """A result row: ``row[0]`` and ``row["title"]`` both work, like ``sqlite3.Row``."""

    _names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: Any) -> Any:
    if cursor.description is None:
        return tuple
    names = {column.name: i for i, column in enumerate(cursor.description)}
    return type("Row", (Row,), {"_names": names})


class PgConnection:
    """A read-only session on a PostgreSQL database (``default_transaction_read_only``)."""

    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        self.url = url
        parsed = make_url(url)
        settings: dict[str, Any] = {key: value for key, value in parsed.query.items()
                                    if isinstance(value, str)}
        settings.update(host=parsed.host, port=parsed.port, user=parsed.username, password=parsed.password,
                        dbname=parsed.database, connect_timeout=10,
                        options="-c default_transaction_read_only=on -c jit=off -c work_mem=64MB")
        try:
            # never server-side prepared: a generic plan cannot see how common a search term is. No JIT:
            # compiling a large query's expressions took 1.7 s, longer than a whole search or export here.
            # 64 MB for a sort or a bitmap: at 4 MB a common term's bitmap went lossy and every row of
            # those pages was read again (a keyword search at a million papers twice as slow)
            self._raw = psycopg.connect(autocommit=True, prepare_threshold=None, **settings)
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StoreError(f"cannot connect to {mask_url(url)}: {first}") from None

    def execute(self, sql: str, params: Mapping[str, Any] | Sequence[Any] = ()) -> Any:
        """A psycopg cursor over the result (``fetchone``, ``fetchall``, iteration), as sqlite3's is."""
        return self._raw.cursor(row_factory=_row_factory).execute(translate(sql), params if params else None)

    def stream(self, sql: str, params: Mapping[str, Any] | Sequence[Any] = (),
               size: int = 5000) -> Iterator[Any]:
        """Rows of a large result as they arrive (a server-side cursor), never all in memory."""
        with self._raw.transaction(), self._raw.cursor(name="paperbot_stream",
                                                        row_factory=_row_factory) as cursor:
            cursor.itersize = size
            cursor.execute(translate(sql), params if params else None)
            yield from cursor

    def copy_out(self, sql: str, params: Mapping[str, Any] | Sequence[Any] = ()) -> CopyOut:
        """The text a ``COPY (...) TO STDOUT`` statement sends, chunk by chunk (see ``CopyOut``)."""
        return CopyOut(self._raw, translate(sql), params)

    def close(self) -> None:
        self._raw.close()


class CopyOut:
    """The chunks of text of one ``COPY ... TO STDOUT``, as they arrive; ``rows`` once they are read."""

    def __init__(self, raw: Any, sql: str, params: Mapping[str, Any] | Sequence[Any]) -> None:
        self._raw, self._sql, self._params = raw, sql, params
        self.rows = 0

    def __iter__(self) -> Iterator[str]:
        import codecs

        decoder = codecs.getincrementaldecoder(self._raw.info.encoding)()
        for block in self.blocks():
            yield decoder.decode(block)
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail

    def blocks(self) -> Iterator[bytes]:
        """The bytes as the server sends them, in the connection's encoding (``encoding``)."""
        with self._raw.cursor() as cursor:
            with cursor.copy(self._sql, self._params or None) as copy:
                for block in copy:
                    yield bytes(block)
            self.rows = max(cursor.rowcount, 0)

    @property
    def encoding(self) -> str:
        return str(self._raw.info.encoding)


def is_postgres(url: str) -> bool:
    return url.partition("://")[0].split("+")[0] in ("postgresql", "postgres")


def connect_at(url: str, revision: str) -> PgConnection:
    """A connection to ``url`` with its schema at ``revision``: a database that is behind (or empty) is
    migrated first by ``db.session.open_database``, which refuses one newer than this code."""
    import psycopg

    connection = PgConnection(url)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except psycopg.Error:  # no schema yet: migrated below
        row = None
    if row is not None and row[0] == revision:
        return connection
    connection.close()
    from db.session import open_database

    open_database(url).dispose()
    return PgConnection(url)


def dialect(connection: Any) -> str:
    """``"postgresql"`` for a ``PgConnection``, else ``"sqlite"`` (a ``sqlite3.Connection``)."""
    return str(getattr(connection, "dialect", "sqlite"))
