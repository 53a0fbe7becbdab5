"""db/vectors.py: vectors added since the index was built extend it (the old rows copied, only the new
ones read), giving the same index a full build gives; a re-embedded or deleted vector means a full build."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.vectors import MODEL, exact, index_files, same, save


def load(reader: Any, cache: Path, caplog: pytest.LogCaptureFixture) -> tuple[Any, str]:
    from db.vectors import clear_cache, load_index

    clear_cache()  # as a fresh process would
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="db.vectors"):
        index = load_index(reader, MODEL, cache)
    return index, caplog.text


def test_added_vectors_extend_the_index_as_a_full_build_would(reader: Any, filled: Any, any_db_url: str,
                                                               tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    from db.session import session_scope
    from db.store import upsert_papers
    from db.vectorfile import open_index, write_index
    from db.vectors import _rows
    from tests.support.store import paper

    cache = tmp_path / "cache"
    first, log = load(reader, cache, caplog)
    assert "built the hashing-64 vector index (7 vectors)" in log
    rng = np.random.default_rng(2)
    added = {f"2702.{i:05d}": rng.standard_normal(64).astype(np.float32) for i in range(40)}
    with session_scope(filled) as session:
        upsert_papers(session, [paper(arxiv_id) for arxiv_id in added])
    time.sleep(0.01)  # created after the index's newest vector
    save(filled, added)
    index, log = load(reader, cache, caplog)
    assert "extended the hashing-64 vector index (47 vectors)" in log
    full = tmp_path / "full.vectors"
    write_index(full, MODEL, _rows(reader, MODEL))
    rebuilt = open_index(full, MODEL)
    assert index.stamp == rebuilt.stamp and list(index.ids) == list(rebuilt.ids)
    assert np.allclose(index.matrix, rebuilt.matrix, atol=1e-7) and np.array_equal(index.half, rebuilt.half)
    assert list(index.sorted_ids) == list(rebuilt.sorted_ids) and list(index.order) == list(rebuilt.order)
    query = added["2702.00005"]
    assert same(nearest_of(index, query), exact(filled, query, 10))
    assert len(index_files(cache, any_db_url)) == 1


def test_a_re_embedded_or_deleted_vector_means_a_full_build(reader: Any, filled: Any, tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    from sqlalchemy import delete

    from db.schema import EmbeddingRow
    from db.session import session_scope
    from db.store import upsert_papers
    from tests.support.store import paper

    cache = tmp_path / "cache"
    load(reader, cache, caplog)
    rng = np.random.default_rng(4)
    with session_scope(filled) as session:
        upsert_papers(session, [paper("2702.00001"), paper("2702.00002")])
    time.sleep(0.01)
    # one added, one re-embedded: the count grows by one, two were created since
    changed = rng.standard_normal(64).astype(np.float32)
    save(filled, {"2702.00001": rng.standard_normal(64).astype(np.float32), "2303.17604": changed})
    index, log = load(reader, cache, caplog)
    assert "built the hashing-64 vector index (8 vectors)" in log
    assert same(nearest_of(index, changed), exact(filled, changed, 10))
    with session_scope(filled) as session:  # one deleted, one added: the count stays, so it is rebuilt
        session.execute(delete(EmbeddingRow).where(EmbeddingRow.arxiv_id == "2302.04304"))
    time.sleep(0.01)
    save(filled, {"2702.00002": rng.standard_normal(64).astype(np.float32)})
    index, log = load(reader, cache, caplog)
    assert "built the hashing-64 vector index (8 vectors)" in log and "2302.04304" not in index
    with session_scope(filled) as session:  # one deleted, two added: the count grows by one of two
        session.execute(delete(EmbeddingRow).where(EmbeddingRow.arxiv_id == "2702.00002"))
        upsert_papers(session, [paper("2702.00003"), paper("2702.00004")])
    time.sleep(0.01)
    save(filled, {"2702.00003": rng.standard_normal(64).astype(np.float32),
                  "2702.00004": rng.standard_normal(64).astype(np.float32)})
    index, log = load(reader, cache, caplog)
    assert "built the hashing-64 vector index (9 vectors)" in log and "2702.00002" not in index


def nearest_of(index: Any, query: np.ndarray) -> list[tuple[str, float]]:
    from db.nearest import nearest

    return nearest(index, query, 10)
