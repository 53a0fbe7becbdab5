"""db/vectors.py and db/vectorfile.py on small real databases (SQLite and PostgreSQL): the persisted vector
index, its staleness and repair, nearest neighbours against the exact in-memory computation, fusion."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.paths import ROOT
from tests.support.vectors import MODEL, exact, index_files, same, save


def test_nearest_equals_the_exact_computation(reader: Any, filled: Any, tmp_path: Path) -> None:
    from db.nearest import nearest, semantic_search
    from db.query import Filters
    from db.vectors import load_index

    index = load_index(reader, MODEL, tmp_path / "cache")
    assert len(index) == 7 and index.matrix.dtype == np.float32 and index.dim == 64
    assert load_index(reader, MODEL, tmp_path / "cache") is index  # mapped once per process
    rng = np.random.default_rng(7)
    queries = [index.vector("2303.17604"), rng.standard_normal(64).astype(np.float32)]
    for vector in queries:
        for limit in (1, 3, 7, 50):
            assert same(nearest(index, vector, limit), exact(filled, vector, limit))
        allowed = {"2302.04304", "2603.01234", "2604.00555", "not-stored"}
        assert same(nearest(index, vector, 2, allowed=allowed, exclude=["2604.00555"]),
                    exact(filled, vector, 2, allowed, ("2604.00555",)))
    top = nearest(index, queries[0], 3)
    assert top[0] == ("2303.17604", pytest.approx(1.0, abs=1e-5))
    others = semantic_search(reader, index, queries[0], Filters(labels=("quantization",)), 10,
                             exclude=["2303.17604"])
    assert {i for i, _ in others} == {"2302.04304", "2603.01234"}
    assert nearest(index, queries[0], 5, allowed=set()) == []
    assert "2605.00001" not in index and index.vector("2605.00001") is None
    assert load_index(reader, "no-such-model", tmp_path / "cache").matrix.shape == (0, 0)


def test_filtered_search_is_exact_however_many_papers_pass(reader: Any, filled: Any, tmp_path: Path) -> None:
    """A filter keeping few papers scores just their rows; one keeping many walks down the full ranking,
    deeper and deeper when the allowed papers rank low: both equal the exact computation."""
    from db.nearest import nearest
    from db.session import session_scope
    from db.store import upsert_papers
    from db.vectors import load_index
    from tests.support.store import paper

    rng = np.random.default_rng(3)
    extra = {f"2701.{i:05d}": rng.standard_normal(64).astype(np.float32) for i in range(1500)}
    with session_scope(filled) as session:
        upsert_papers(session, [paper(arxiv_id) for arxiv_id in extra])
    save(filled, extra)
    index = load_index(reader, MODEL, tmp_path)
    query = rng.standard_normal(64).astype(np.float32)
    ranking = [arxiv_id for arxiv_id, _ in exact(filled, query, len(index))]
    for allowed in (set(ranking[::400]), set(ranking[::2]), set(ranking[-160:]), set(ranking[-10:])):
        for limit in (1, 10, 200):
            assert same(nearest(index, query, limit, allowed=allowed, exclude=ranking[-3:]),
                        exact(filled, query, limit, allowed, tuple(ranking[-3:])))


def test_index_file_lives_next_to_sqlite_or_in_the_cache(reader: Any, any_db_url: str,
                                                         tmp_path: Path) -> None:
    from db.vectors import load_index

    cache = tmp_path / "cache"
    load_index(reader, MODEL, cache)
    files = index_files(cache, any_db_url)
    assert [f.name for f in files] == ["hashing-64-" + files[0].name.split("-")[-1]]
    if any_db_url.startswith("sqlite"):
        assert files[0].parent.name == "papers.db-vectors" and not cache.exists()
    else:  # one folder per database, named by a hash: no user, host or password in it
        assert len(list(cache.iterdir())) == 1 and "paperbot" not in str(files[0])


def test_added_changed_and_deleted_vectors_rebuild_the_index(reader: Any, filled: Any, any_db_url: str,
                                                            tmp_path: Path) -> None:
    from sqlalchemy import delete

    from db.nearest import nearest
    from db.schema import EmbeddingRow
    from db.session import session_scope
    from db.vectors import clear_cache, load_index

    cache = tmp_path / "cache"
    first = load_index(reader, MODEL, cache)
    rng = np.random.default_rng(1)
    added = rng.standard_normal(64).astype(np.float32)
    save(filled, {"2605.00001": added})
    index = load_index(reader, MODEL, cache)
    assert len(index) == 8 and index.token != first.token
    assert nearest(index, added, 1) == [("2605.00001", pytest.approx(1.0, abs=1e-5))]
    changed = rng.standard_normal(64).astype(np.float32)
    save(filled, {"2303.17604": changed})  # re-embedded: same count, newer created_at
    clear_cache()  # as a fresh process would
    index = load_index(reader, MODEL, cache)
    assert len(index) == 8
    assert same(nearest(index, changed, 8), exact(filled, changed, 8))
    with session_scope(filled) as session:
        session.execute(delete(EmbeddingRow).where(EmbeddingRow.arxiv_id == "2302.04304"))
    index = load_index(reader, MODEL, cache)
    assert len(index) == 7 and "2302.04304" not in index
    assert len(index_files(cache, any_db_url)) == 1


@pytest.mark.parametrize("damage", ["truncate", "header", "ids", "empty"])
def test_a_damaged_index_file_is_rebuilt_with_a_warning(reader: Any, filled: Any, any_db_url: str,
                                                        tmp_path: Path, damage: str,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    from db.nearest import nearest
    from db.vectors import clear_cache, load_index

    cache = tmp_path / "cache"
    vector = load_index(reader, MODEL, cache).vector("2202.00512")
    [path] = index_files(cache, any_db_url)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[:-5]
    elif damage == "header":
        data[20] ^= 0xFF
    elif damage == "ids":
        header = json.loads(data[12:12 + int.from_bytes(data[8:12], "little")])
        data[header["ids_offset"] + 3] ^= 0x01  # a byte of the first id
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    clear_cache()
    with caplog.at_level(logging.WARNING, logger="db.vectors"):
        index = load_index(reader, MODEL, cache)
    assert f"the vector index {path} is unusable" in caplog.text
    assert same(nearest(index, vector, 7), exact(filled, vector, 7))
    clear_cache()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="db.vectors"):
        load_index(reader, MODEL, cache)
    assert caplog.text == ""  # the rebuilt file is whole


def test_sqlite_skips_the_count_while_the_file_is_unchanged(connection: Any, engine: Any, query_db: str,
                                                           tmp_path: Path) -> None:
    from db.vectors import clear_cache, load_index

    reader, filled = connection, engine
    database = query_db.removeprefix("sqlite:///")
    statements: list[str] = []
    reader.set_trace_callback(statements.append)
    load_index(reader, MODEL, tmp_path)  # the database was written just now: counted, nothing remembered
    assert any("count(*)" in s for s in statements)
    quiet = os.stat(database).st_mtime - 60
    for name in (database, database + "-wal"):
        if os.path.exists(name):
            os.utime(name, (quiet, quiet))
    clear_cache()
    load_index(reader, MODEL, tmp_path)  # counted once more, and the file's state remembered
    statements.clear()
    clear_cache()
    index = load_index(reader, MODEL, tmp_path)
    assert not any("count(*)" in s for s in statements) and len(index) == 7
    save(filled, {"2605.00001": np.ones(64, dtype=np.float32)})  # a write changes the file
    assert len(load_index(reader, MODEL, tmp_path)) == 8
    assert any("count(*)" in s for s in statements)


def test_a_write_in_progress_is_never_taken_for_a_quiet_database(reader: Any, filled: Any, any_db_url: str,
                                                                 tmp_path: Path) -> None:
    """While a transaction is open nothing is remembered as quiet; once it commits, the index follows."""
    from datetime import datetime

    from sqlalchemy import insert

    from db.schema import EmbeddingRow
    from db.vectors import load_index

    cache = tmp_path / "cache"
    load_index(reader, MODEL, cache)
    vector = np.full(64, 0.5, dtype=np.float32)
    with filled.connect() as writer:
        writer.execute(insert(EmbeddingRow).values(arxiv_id="2605.00001", model=MODEL, dim=64,
                                                   vector=vector.tobytes(), created_at=datetime(2030, 1, 1)))
        assert len(load_index(reader, MODEL, cache)) == 7  # not committed: not visible
        writer.commit()
    index = load_index(reader, MODEL, cache)
    assert len(index) == 8 and nearest_id(index, vector) == "2605.00001"


def test_the_quiet_token_moves_with_every_commit(reader: Any, filled: Any, any_db_url: str) -> None:
    from datetime import datetime

    from sqlalchemy import delete, insert

    from db.schema import EmbeddingRow
    from db.vectors import _fingerprint

    def quiet() -> Any:
        database = any_db_url.removeprefix("sqlite:///")
        for name in (database, database + "-wal"):  # as if the last write were a minute old
            if "://" not in database and os.path.exists(name) and os.stat(name).st_mtime > time.time() - 30:
                os.utime(name, (time.time() - 60,) * 2)
        return _fingerprint(reader)

    first = quiet()
    assert first is not None and quiet() == first
    save(filled, {"2605.00001": np.ones(64, dtype=np.float32)})
    second = quiet()
    assert second != first
    with filled.connect() as writer:
        writer.execute(delete(EmbeddingRow).where(EmbeddingRow.arxiv_id == "2605.00001"))
        writer.execute(insert(EmbeddingRow).values(arxiv_id="2605.00001", model=MODEL, dim=64,
                                                   vector=bytes(256), created_at=datetime(2030, 1, 1)))
        writer.commit()
    assert quiet() not in (first, second)


def nearest_id(index: Any, vector: np.ndarray) -> str:
    from db.nearest import nearest

    return nearest(index, vector, 1)[0][0]


def test_without_a_writable_folder_the_index_is_kept_in_memory(reader: Any, filled: Any, any_db_url: str,
                                                              tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    from db.nearest import nearest
    from db.vectors import load_index

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    if any_db_url.startswith("sqlite"):
        Path(any_db_url.removeprefix("sqlite:///") + "-vectors").write_text("not a folder either")
    with caplog.at_level(logging.WARNING, logger="db.vectors"):
        index = load_index(reader, MODEL, blocked / "cache")
    assert "no writable folder for the vector index of hashing-64" in caplog.text
    vector = index.vector("2312.00858")
    assert same(nearest(index, vector, 7), exact(filled, vector, 7))
    if any_db_url.startswith("sqlite"):  # the database's own folder failing, the cache serves
        load_index(reader, MODEL, tmp_path / "cache")
        assert len(list((tmp_path / "cache").glob("sqlite-*/*.vectors"))) == 1


def test_concurrent_fresh_readers_agree(reader: Any, any_db_url: str, tmp_path: Path) -> None:
    script = ("import sys; from pathlib import Path; from db.query import connect; "
              "from db.vectors import load_index; from db.nearest import nearest; c = connect(sys.argv[1]); "
              "i = load_index(c, 'hashing-64', Path(sys.argv[2])); "
              "print(nearest(i, i.vector('2303.17604'), 3))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [subprocess.Popen([sys.executable, "-c", script, any_db_url, str(tmp_path / "cache")], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    assert len({out for out, _ in outputs}) == 1 and "2303.17604" in outputs[0][0]
    assert len(index_files(tmp_path / "cache", any_db_url)) == 1


def test_mixed_vector_sizes_are_one_error(reader: Any, filled: Any, tmp_path: Path) -> None:
    from bot.core.errors import StoreError
    from db.vectors import load_index

    save(filled, {"2605.00001": np.ones(32, dtype=np.float32)})
    with pytest.raises(StoreError, match=r"embeddings of hashing-64 have mixed sizes \[32, 64\]"):
        load_index(reader, MODEL, tmp_path)


def test_fuse_is_reciprocal_rank() -> None:
    from db.nearest import fuse

    fused = fuse([["a", "b", "c"], ["c", "a"]], 3)
    assert [i for i, _ in fused] == ["a", "c", "b"]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)
