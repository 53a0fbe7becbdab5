"""Insert-or-update by primary key in one statement (``INSERT ... ON CONFLICT``), for SQLite and PostgreSQL.

A write that another process may make at the same moment (the same paper fetched twice, the same vectors
saved twice) must not fail because the other one inserted the row first: ``upsert`` lets the database
settle it. The dialect's own ``insert`` is taken from the session's bind, so the SQL is SQLite's or
PostgreSQL's as the database is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, TextClause
from sqlalchemy.orm import Session

from bot.core.errors import StoreError
from db.schema import Base

# (the table, the row proposed for insertion: ``excluded``) -> column name -> the value to update it to
SetClause = Callable[[Table, Any], Mapping[str, ColumnElement[Any]]]


def _insert(session: Session, table: Table) -> Any:
    name = session.get_bind().dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    raise StoreError(f"paperbot stores in SQLite or PostgreSQL, not {name}")


def upsert(session: Session, model: type[Base], rows: Sequence[Mapping[str, object]], *,
           set_: SetClause | None = None, keep: Sequence[str] = (), ignore: bool = False,
           on: Sequence[str] = (), where: ColumnElement[bool] | TextClause | None = None) -> int:
    """Insert ``rows`` into ``model``'s table; a row whose primary key exists is updated instead.

    By default every column given (except the key and ``keep``) takes the new value; ``set_`` overrides
    the update of the columns it names; ``ignore`` leaves an existing row as it is. ``on`` names the
    columns of another unique index to settle conflicts on instead of the primary key, ``where`` the
    condition of a partial one. ORM objects of these rows already loaded into ``session`` are expired, so
    the next read sees what is stored. Returns how many rows were written as the driver counts them (exact
    for one row, where an ignored row counts 0; -1 when it does not say).
    """
    if not rows:
        return 0
    table = model.__table__
    assert isinstance(table, Table)
    key = list(on) or [column.name for column in table.primary_key.columns]
    statement = _insert(session, table).execution_options(preserve_rowcount=True)
    if ignore:
        statement = statement.on_conflict_do_nothing(index_elements=key, index_where=where)
    else:
        update: dict[str, Any] = {name: statement.excluded[name] for name in rows[0]
                                  if name not in key and name not in keep}
        update.update(set_(table, statement.excluded) if set_ is not None else {})
        statement = statement.on_conflict_do_update(index_elements=key, index_where=where, set_=update)
    unique = {tuple(row[name] for name in key): dict(row) for row in rows}
    session.flush()  # pending ORM rows first (a run a paper refers to, say)
    values = list(unique.values())
    result = session.execute(statement, values[0] if len(values) == 1 else values)  # one row: its rowcount
    written = set(unique)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, model) and tuple(getattr(obj, name) for name in key) in written:
            session.expire(obj)
    return int(getattr(result, "rowcount", -1))
