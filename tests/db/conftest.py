"""Fixtures of the vector index tests: a database of tests/support/database.py's papers on either backend,
and a read-side connection to it (the process's mapped indexes forgotten before and after)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def filled(any_db_url: str) -> Iterator[Any]:
    """``any_db_url`` filled with tests/support/database.py's papers; yields its engine."""
    from db.session import open_database
    from tests.support.database import fill

    engine = open_database(any_db_url)
    fill(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def reader(filled: Any, any_db_url: str) -> Iterator[Any]:
    from db.query import connect
    from db.vectors import clear_cache

    clear_cache()
    connection = connect(any_db_url)
    yield connection
    connection.close()
    clear_cache()
