"""db/vectors.py on a small real database: the vector index, nearest neighbours, semantic search, fusion."""

from __future__ import annotations

import numpy as np
import pytest


def test_semantic_search_and_similar(connection) -> None:  # type: ignore[no-untyped-def]
    from db.query import Filters
    from db.vectors import clear_cache, load_index, nearest, semantic_search

    clear_cache()
    index = load_index(connection, "hashing-64")
    assert len(index) == 7 and index.matrix.dtype == np.float32
    assert load_index(connection, "hashing-64") is index  # cached while the file is unchanged
    vector = index.matrix[index.position["2303.17604"]]
    top = nearest(index, vector, 3)
    assert top[0] == ("2303.17604", pytest.approx(1.0, abs=1e-5))
    assert [i for i, _ in top] == [i for i, _ in sorted(top, key=lambda x: -x[1])]
    others = semantic_search(connection, index, vector, Filters(labels=("quantization",)), 10,
                             exclude=["2303.17604"])
    assert {i for i, _ in others} == {"2302.04304", "2603.01234"}
    assert load_index(connection, "no-such-model").matrix.shape == (0, 0)


def test_fuse_is_reciprocal_rank() -> None:
    from db.vectors import fuse

    fused = fuse([["a", "b", "c"], ["c", "a"]], 3)
    assert [i for i, _ in fused] == ["a", "c", "b"]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)
