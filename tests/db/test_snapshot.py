import sqlite3
from pathlib import Path

from bot.core.models import Paper
from db import store
from db.session import open_database, session_scope
from db.snapshot import check, make_snapshot, restore, sqlite_path


def filled_db(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "live.db"
    url = f"sqlite:///{path}"
    engine = open_database(url)
    with session_scope(engine) as session:
        store.upsert_papers(session, [Paper(arxiv_id=f"2501.{i:05d}", title=f"Paper {i} on token merging",
                                            abstract="Caching features across steps.") for i in range(50)])
    # the engine stays open: WAL pages not yet checkpointed must still reach the snapshot
    return url, path


def test_snapshot_restore_round_trip(tmp_path: Path) -> None:
    url, path = filled_db(tmp_path)
    snapshot = make_snapshot(sqlite_path(url), tmp_path / "out" / "paperbot.db")
    assert check(snapshot) == []
    assert not Path(f"{snapshot}-wal").exists()
    target = tmp_path / "restored" / "paperbot.db"
    assert restore(snapshot.read_bytes(), target) == []
    engine = open_database(f"sqlite:///{target}")
    with session_scope(engine) as session:
        assert store.count_papers(session) == 50
        assert store.get_paper(session, "2501.00007").title == "Paper 7 on token merging"  # type: ignore[union-attr]
    with sqlite3.connect(target) as connection:  # the search index came along, in step
        hits = connection.execute("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'merging'")
        assert hits.fetchone()[0] == 50


def test_a_corrupt_snapshot_is_refused_and_the_live_database_kept(tmp_path: Path) -> None:
    url, path = filled_db(tmp_path)
    snapshot = make_snapshot(sqlite_path(url), tmp_path / "snap.db")
    data = bytearray(snapshot.read_bytes())
    data[4096: 4096 + 64] = b"\xff" * 64  # flip bytes in page 2 (its b-tree header)
    target = tmp_path / "keep" / "paperbot.db"
    restore(snapshot.read_bytes(), target)
    before = target.read_bytes()
    problems = restore(bytes(data), target)
    assert problems
    assert target.read_bytes() == before
    assert restore(b"not a database at all", target)


def test_check_reports_missing_and_foreign_files(tmp_path: Path) -> None:
    assert check(tmp_path / "none.db") == [f"{tmp_path / 'none.db'} does not exist"]
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    assert check(other) == ["no paperbot schema (alembic_version missing)"]
