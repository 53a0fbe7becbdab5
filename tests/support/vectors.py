"""Helpers of the vector index tests (tests/db/test_vectors.py, tests/db/test_nearest.py): the exact
reference ranking, computed from the rows the write side reads, and the index files of a database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

MODEL = "hashing-64"


def exact(engine: Any, vector: np.ndarray, limit: int, allowed: set[str] | None = None,
          exclude: tuple[str, ...] = ()) -> list[tuple[str, float]]:
    """The reference: every stored vector read through the write side, scored in memory."""
    from db.session import session_scope
    from db.store import load_embeddings

    with session_scope(engine) as session:
        ids, matrix = load_embeddings(session, MODEL)
    matrix = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-30)
    query = vector / np.linalg.norm(vector)
    scores = matrix.astype(np.float64) @ query.astype(np.float64)
    ranked = sorted(((i, float(s)) for i, s in zip(ids, scores, strict=True)
                     if (allowed is None or i in allowed) and i not in exclude), key=lambda x: (-x[1], x[0]))
    return ranked[:limit]


def same(found: list[tuple[str, float]], expected: list[tuple[str, float]]) -> bool:
    return [i for i, _ in found] == [i for i, _ in expected] and all(
        abs(a - b) < 1e-5 for (_, a), (_, b) in zip(found, expected, strict=True))


def save(engine: Any, vectors: dict[str, np.ndarray]) -> None:
    from db.session import session_scope
    from db.store import save_embeddings

    with session_scope(engine) as session:
        save_embeddings(session, MODEL, list(vectors), np.array(list(vectors.values()), dtype=np.float32))


def index_files(cache: Path, any_db_url: str) -> list[Path]:
    from bot.core.files import sqlite_file

    database = sqlite_file(any_db_url)
    folder = Path(database + "-vectors") if database else next(cache.glob("pg-*"))
    return sorted(folder.glob("*.vectors"))
