"""A real PostgreSQL server for the tests: Debian's package, started once per test session in a temporary
folder on 127.0.0.1, one fresh database per test.

``PAPERBOT_TEST_PG_URL`` (a ``postgresql+psycopg://`` URL of a server the tests may create databases on)
uses that server instead. Without either, the PostgreSQL cases are skipped, unless
``PAPERBOT_TEST_REQUIRE_PG=1`` (``.ci/run`` sets it), which makes a missing server an error.

As root (a CI machine), the server runs as ``nobody``: PostgreSQL refuses to start as root.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRE_ENV = "PAPERBOT_TEST_REQUIRE_PG"
URL_ENV = "PAPERBOT_TEST_PG_URL"
USER = "paperbot"
_COUNTER = itertools.count(1)


def pg_bin(name: str) -> str | None:
    """A PostgreSQL server program: on PATH, else in Debian's versioned folder (the newest)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """A server the tests own: ``url(name)`` is a database on it."""

    host: str
    port: int
    user: str
    password: str = ""
    admin_db: str = "postgres"

    def url(self, database: str) -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"postgresql+psycopg://{auth}@{self.host}:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host=self.host, port=self.port, user=self.user, password=self.password or None,
                             dbname=self.admin_db, autocommit=True) as connection:
            connection.execute(sql)

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        name = f"test_{os.getpid()}_{next(_COUNTER)}"
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "nobody", "--", *command]


def start_cluster(folder: Path, settings: str = "", stop_mode: str = "immediate") -> tuple[int, list[str]]:
    """Start a server with its data in ``folder/data`` (initdb'd when missing) on a free port of 127.0.0.1,
    as ``nobody`` when root; returns the port and the command that stops it. ``settings``: more ``-c``
    options; ``stop_mode``: how the stop command shuts it down. Used by the tests' fixture and by
    bench/query_data.py."""
    initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise FileNotFoundError("initdb/pg_ctl not found (Debian: apt-get install postgresql)")
    data = folder / "data"
    if not data.exists():
        data.mkdir(parents=True)
        if os.geteuid() == 0:
            for path in (folder, data):
                os.chown(path, 65534, 65534)
            folder.chmod(0o755)
        data.chmod(0o700)
        subprocess.run(_as_server_user([initdb, "-D", str(data), "-U", USER, "-A", "trust", "-E", "UTF8",
                                        "--locale=C", "--no-sync"]),
                       check=True, capture_output=True, text=True)
    port = _free_port()
    options = f"-p {port} -k {folder} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off " \
              f"-c full_page_writes=off {settings}".rstrip()
    subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "server.log"),
                                    "-w", "start"]),
                   check=True, capture_output=True, text=True)
    return port, _as_server_user([pg_ctl, "-D", str(data), "-m", stop_mode, "-w", "stop"])


def _start_local(folder: Path) -> tuple[PostgresServer, list[str]]:
    port, stop = start_cluster(folder, "-c max_connections=200")
    return PostgresServer("127.0.0.1", port, USER), stop


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (skips, or fails under ``PAPERBOT_TEST_REQUIRE_PG=1``, without one)."""
    url = os.environ.get(URL_ENV)
    if url:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        yield PostgresServer(parsed.host or "127.0.0.1", parsed.port or 5432, parsed.username or "postgres",
                             parsed.password or "", parsed.database or "postgres")
        return
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        _unavailable(f"psycopg is not installed ({exc})")
    folder = Path(tempfile.mkdtemp(prefix="paperbot-pg-"))
    try:
        server, stop = _start_local(folder)
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        shutil.rmtree(folder, ignore_errors=True)
        _unavailable(f"cannot start PostgreSQL: {exc} {detail.strip()[-300:]}")
    try:
        yield server
    finally:
        subprocess.run(stop, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"PostgreSQL is required ({REQUIRE_ENV}=1) but {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL: {reason}")


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database (not migrated); dropped after the test."""
    url = postgres_server.create_database()
    try:
        yield url
    finally:
        from sqlalchemy import create_engine

        create_engine(url).dispose()
        postgres_server.drop_database(url)
