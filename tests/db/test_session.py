"""db/session.py: Alembic migrations up and down (SQLite and PostgreSQL), the SQLite pragmas, and one clear
error for a database it cannot use."""

from pathlib import Path

import pytest
from sqlalchemy import text

from bot.core.errors import StoreError
from db.session import (
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    open_database,
    table_names,
    upgrade,
)

TABLES = {"runs", "papers", "embeddings", "classifications", "list_entries", "proposals"}


def test_upgrade_downgrade_upgrade(any_db_url: str) -> None:
    engine = make_engine(any_db_url)  # migrated to head already
    assert current_revision(engine) == head_revision()
    assert set(table_names(engine)) >= TABLES
    downgrade(engine, "base")
    assert set(table_names(engine)) == {"alembic_version"}
    upgrade(engine)
    assert set(table_names(engine)) >= TABLES
    engine.dispose()


def test_every_step_down_and_up(any_db_url: str) -> None:
    from db.session import known_revisions

    engine = make_engine(any_db_url)
    for revision in sorted(known_revisions() - {head_revision()}, reverse=True):
        downgrade(engine, revision)
        assert current_revision(engine) == revision
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_pragmas_wal_foreign_keys_busy_timeout(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_open_database_migrates_on_first_use(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert current_revision(engine) == head_revision()


def test_a_corrupt_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a readable database"):
        open_database(f"sqlite:///{path}")
    assert path.read_bytes().startswith(b"this is not a database")  # nothing overwritten


def test_a_database_newer_than_the_code_is_refused(any_db_url: str) -> None:
    engine = open_database(any_db_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer than this paperbot knows"):
        open_database(any_db_url)


def test_upgrade_and_downgrade_fail_in_one_clear_error(any_db_url: str) -> None:
    engine = open_database(any_db_url)
    for migrate in (lambda: upgrade(engine, "bogus"), lambda: downgrade(engine, "bogus")):
        with pytest.raises(StoreError, match="cannot migrate .* to 'bogus': Can't locate revision"):
            migrate()
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_a_corrupt_file_cannot_be_migrated(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"this is not a database" * 100)
    corrupt = make_engine(f"sqlite:///{path}")
    for migrate in (lambda: upgrade(corrupt), lambda: downgrade(corrupt, "0003")):
        with pytest.raises(StoreError, match="not a readable database"):
            migrate()
    assert path.read_bytes() == b"this is not a database" * 100


def test_0011_removes_doubled_proposals_and_keys_the_titles(any_db_url: str) -> None:
    from sqlalchemy.exc import IntegrityError

    from bot.core.text import title_key

    engine = make_engine(any_db_url)
    downgrade(engine, "0010")
    with engine.begin() as connection:
        for arxiv_id, title in (("2501.00001", "Δ-DiT: Fast $\\alpha$ Diffusion"), ("2501.00002", "B"),
                                ("2501.00003", "C"), ("2501.00004", "D")):
            connection.execute(text("INSERT INTO papers (arxiv_id, version, title, authors, categories) "
                                    "VALUES (:id, 1, :title, '[]', '[]')"), {"id": arxiv_id, "title": title})
        for n, (arxiv_id, state, pr) in enumerate([
                ("2501.00001", "open", 7), ("2501.00001", "open", 8),  # the same open proposal twice
                ("2501.00002", "merged", 3), ("2501.00002", "merged", 3),  # one decision recorded twice
                ("2501.00002", "merged", 9),  # another pull request: another decision
                ("2501.00003", "withdrawn", 3), ("2501.00003", "withdrawn", 3),
                ("2501.00004", "rejected", None), ("2501.00004", "rejected", None)], start=1):
            connection.execute(text("INSERT INTO proposals (id, arxiv_id, label, pr_number, state, "
                                    "proposed_at) VALUES (:n, :id, 'pruning', :pr, :state, '2026-01-01')"),
                               {"n": n, "id": arxiv_id, "pr": pr, "state": state})
    upgrade(engine)
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT id FROM proposals ORDER BY id")).scalars().all()
        keys = dict(connection.execute(text("SELECT arxiv_id, title_key FROM papers")).all())
    assert kept == [2, 3, 5, 6, 7, 8, 9]  # the latest open row, the first decision; the rest untouched
    assert keys["2501.00001"] == title_key("Δ-DiT: Fast $\\alpha$ Diffusion")
    assert keys["2501.00001"] == "delta dit fast alpha diffusion"
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("INSERT INTO proposals (arxiv_id, label, pr_number, state, proposed_at) "
                                "VALUES ('2501.00001', 'other', 9, 'open', '2026-01-02')"))
    engine.dispose()
