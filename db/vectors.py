"""Nearest papers by stored embedding: semantic search, ``paperbot similar`` and the hybrid blend.

Reads the ``embeddings`` table once per process into one float32 matrix (rows L2-normalised) and keeps it
while the database file is unchanged, so a second query in the same process costs one matrix product.
Writes nothing. Never loads the embedding model: callers pass a query vector (``paperbot search
--semantic`` embeds the query itself, ``similar`` uses a stored vector).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.core.errors import StoreError
from db.query import NO_FILTERS, Filters, filtered_ids

RRF_K = 60  # reciprocal-rank fusion constant (Cormack, Clarke & Buettcher 2009)


@dataclass(frozen=True)
class VectorIndex:
    """The stored vectors of one model: ``matrix[i]`` belongs to ``ids[i]``."""

    model: str
    ids: tuple[str, ...]
    position: dict[str, int]
    matrix: np.ndarray  # (n, dim) float32, unit rows

    def __len__(self) -> int:
        return len(self.ids)


_CACHE: dict[tuple[str, str], tuple[tuple[int, ...], VectorIndex]] = {}


def _database_file(connection: sqlite3.Connection) -> str:
    for row in connection.execute("PRAGMA database_list"):
        if row[1] == "main":
            return str(row[2])
    return ""  # pragma: no cover - every connection has a main database


def _fingerprint(path: str) -> tuple[int, ...]:
    """Changes whenever the database (or its write-ahead log) is written."""
    stamp: list[int] = []
    for name in (path, path + "-wal"):
        try:
            info = os.stat(name)
        except OSError:
            stamp += [0, 0]
        else:
            stamp += [info.st_mtime_ns, info.st_size]
    return tuple(stamp)


def load_index(connection: sqlite3.Connection, model: str) -> VectorIndex:
    """Every stored vector of ``model``; cached per process until the database file changes."""
    path = _database_file(connection)
    stamp = _fingerprint(path) if path else ()
    cached = _CACHE.get((path, model))
    if cached is not None and path and cached[0] == stamp:
        return cached[1]
    ids: list[str] = []
    blobs: list[bytes] = []
    dims: set[int] = set()
    for arxiv_id, dim, blob in connection.execute(
            "SELECT arxiv_id, dim, vector FROM embeddings WHERE model = ? ORDER BY rowid", (model,)):
        ids.append(arxiv_id)
        blobs.append(blob)
        dims.add(dim)
    if len(dims) > 1:
        raise StoreError(f"embeddings of {model} have mixed sizes {sorted(dims)}; re-embed the papers")
    dim = dims.pop() if dims else 0
    matrix = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(ids), dim).astype(np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    matrix /= norms
    index = VectorIndex(model, tuple(ids), {arxiv_id: i for i, arxiv_id in enumerate(ids)}, matrix)
    if path:
        _CACHE[(path, model)] = (stamp, index)
    return index


def clear_cache() -> None:
    _CACHE.clear()


def nearest(index: VectorIndex, vector: np.ndarray, limit: int, *,
            allowed: set[str] | None = None, exclude: Iterable[str] = ()) -> list[tuple[str, float]]:
    """The ``limit`` stored papers with the highest cosine similarity to ``vector``, best first."""
    if len(index) == 0 or limit <= 0:
        return []
    query = np.asarray(vector, dtype=np.float32).reshape(-1)
    if query.shape[0] != index.matrix.shape[1]:
        raise StoreError(f"the query vector has {query.shape[0]} dimensions, the stored "
                         f"{index.model} vectors {index.matrix.shape[1]}")
    norm = float(np.linalg.norm(query))
    scores = index.matrix @ (query / (norm or 1.0))
    if allowed is not None:
        mask = np.zeros(len(index), dtype=bool)
        positions = [index.position[i] for i in allowed if i in index.position]
        mask[positions] = True
        scores = np.where(mask, scores, -np.inf)
    for arxiv_id in exclude:
        if arxiv_id in index.position:
            scores[index.position[arxiv_id]] = -np.inf
    count = min(limit, int(np.isfinite(scores).sum()))
    if count == 0:
        return []
    top = np.argpartition(-scores, count - 1)[:count] if count < len(scores) else np.arange(len(scores))
    top = top[np.isfinite(scores[top])]
    order = sorted(top.tolist(), key=lambda i: (-scores[i], index.ids[i]))[:count]
    return [(index.ids[i], float(scores[i])) for i in order]


def semantic_search(connection: sqlite3.Connection, index: VectorIndex, vector: np.ndarray,
                    filters: Filters = NO_FILTERS, limit: int = 20,
                    exclude: Iterable[str] = ()) -> list[tuple[str, float]]:
    """``nearest`` restricted to the papers that pass ``filters`` (checked in SQL only when set)."""
    allowed = filtered_ids(connection, filters) if filters.active else None
    return nearest(index, vector, limit, allowed=allowed, exclude=exclude)


def fuse(rankings: Sequence[Sequence[str]], limit: int, k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal-rank fusion: each list adds ``1 / (k + rank)``; ties go to the smaller id."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, arxiv_id in enumerate(ranking, start=1):
            scores[arxiv_id] = scores.get(arxiv_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
