"""Shared fixtures: a real SQLite file migrated by Alembic, the CLI runner, the loopback servers, a small
filled paper database, and a Publisher pointed at the GitHub fake."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

if TYPE_CHECKING:
    from bot.github.pulls import Publisher
    from tests.support.github import MakePublisher
    from tests.support.github_server import FakeGitHub

# Tests never touch the internet and never read the developer's settings or tokens.
for _name in ("GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_API_URL", "PAPERBOT_DB_URL",
              "PAPERBOT_ARXIV_API_URL", "PAPERBOT_LLM_URL", "PAPERBOT_LLM_MODEL", "PAPERBOT_LLM_TOKEN"):
    os.environ.pop(_name, None)
# A test that forgets to point at a loopback server gets "connection refused", never the internet.
os.environ["PAPERBOT_ARXIV_API_URL"] = "http://127.0.0.1:9/api/query"
os.environ["GITHUB_API_URL"] = "http://127.0.0.1:9"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Vector indexes of PostgreSQL test databases go to a throwaway folder, never the developer's cache.
os.environ["PAPERBOT_VECTOR_CACHE"] = tempfile.mkdtemp(prefix="paperbot-test-vectors-")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

pytest_plugins = ["tests.support.github_server", "tests.support.arxiv_server", "tests.support.llm_server",
                  "tests.support.postgres"]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A fresh SQLite file migrated to head by Alembic."""
    from db.session import make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'papers.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database migrated to head by Alembic, once on a SQLite file and once on the test session's
    PostgreSQL server (``tests/support/postgres.py``)."""
    from db.session import make_engine, upgrade

    url = (f"sqlite:///{tmp_path / 'papers.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    from db.session import open_database

    eng = open_database(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def any_engine(any_db_url: str) -> Iterator[Engine]:
    """``engine`` on ``any_db_url``: once on SQLite, once on PostgreSQL."""
    from db.session import open_database

    eng = open_database(any_db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the CLI in an empty working folder (no paperbot.toml of the developer's)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def invoke(cli_env: Path):  # type: ignore[no-untyped-def]
    """Invoke the real click group the way the console script does; returns click's Result."""
    from bot.cli.app import _register, cli

    _register()

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, list(args), env=env, input=input, catch_exceptions=False)

    return run


@pytest.fixture(scope="session")
def model_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database that every test running the real pipeline copies.

    Nothing is embedded up front: the training corpus's vectors ship with the package
    (``classifier/data/corpus-vectors.npz``), so a real-model run on a fresh database embeds only the papers
    it fetched.
    """
    from db.session import make_engine, upgrade

    path = tmp_path_factory.mktemp("model-db") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def model_db_url(model_db_template: Path, tmp_path: Path) -> str:
    import shutil

    target = tmp_path / "paperbot.db"
    shutil.copyfile(model_db_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def query_db(engine, db_url: str) -> str:  # type: ignore[no-untyped-def]
    """``db_url`` filled with tests/support/database.py's PAPERS and their predictions, vectors, list entries
    and proposals."""
    from tests.support.database import fill

    fill(engine)
    return db_url


@pytest.fixture
def connection(query_db: str) -> Iterator:  # type: ignore[type-arg]
    from db.query import connect

    conn = connect(query_db)
    yield conn
    conn.close()


@pytest.fixture
def any_query_db(any_db_url: str) -> str:
    """``query_db``'s papers on ``any_db_url``: once on a SQLite file, once on PostgreSQL."""
    from db.session import open_database
    from tests.support.database import fill

    engine = open_database(any_db_url)
    fill(engine)
    engine.dispose()
    return any_db_url


@pytest.fixture
def any_connection(any_query_db: str) -> Iterator:  # type: ignore[type-arg]
    from db.query import connect

    conn = connect(any_query_db)
    yield conn
    conn.close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_publisher(github_server: FakeGitHub, sleeps: list[float]) -> Iterator[MakePublisher]:
    from bot.core.config import GitHubSettings
    from bot.github.pulls import GitHubPublisher

    made: list[Publisher] = []

    def make(token: str | None = None, **overrides: object) -> Publisher:
        pacing: dict[str, object] = {"seconds_between_requests": 0.0, "seconds_between_writes": 0.0,
                                     "backoff_seconds": 0.5}
        settings = GitHubSettings(token=token or github_server.token, repository="octo/papers",
                                  api_url=github_server.url, **(pacing | overrides))  # type: ignore[arg-type]
        publisher = GitHubPublisher(settings, sleep=sleeps.append)
        made.append(publisher)
        return publisher

    yield make
    for publisher in made:
        publisher.close()


@pytest.fixture
def publisher(make_publisher: MakePublisher) -> Publisher:
    return make_publisher()
